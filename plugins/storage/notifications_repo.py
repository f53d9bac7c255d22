"""One tenant's notification preferences (``core.notifications.NotificationSettings``);
every query filters on the tenant."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from core.ids import new_id

from .notifications_tables import TENANT_DEFAULT, NotificationPreferenceRow

__all__ = ["PiccoloNotificationSettings", "stored_choices"]


async def stored_choices(tenant_id: str, user_id: str) -> dict[str, bool]:
    """The kinds ``user_id`` (or ``TENANT_DEFAULT``) has a stored choice for."""
    rows = await NotificationPreferenceRow.select(
        NotificationPreferenceRow.kind, NotificationPreferenceRow.enabled
    ).where(
        (NotificationPreferenceRow.tenant_id == tenant_id) & (NotificationPreferenceRow.user_id == user_id)
    )
    return {row["kind"]: bool(row["enabled"]) for row in rows}


class PiccoloNotificationSettings:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    async def _store(self, user_id: str, kinds: Mapping[str, bool]) -> None:
        now = datetime.now(UTC)
        for kind, enabled in kinds.items():
            where = (
                (NotificationPreferenceRow.tenant_id == self.tenant_id)
                & (NotificationPreferenceRow.user_id == user_id) & (NotificationPreferenceRow.kind == kind)
            )
            # Update first; insert only when there was no row (the unique index settles a race).
            updated = await NotificationPreferenceRow.update(
                {NotificationPreferenceRow.enabled: enabled, NotificationPreferenceRow.updated_at: now}
            ).where(where).returning(NotificationPreferenceRow.id)
            if not updated:
                await NotificationPreferenceRow.insert(NotificationPreferenceRow(
                    id=new_id(), tenant_id=self.tenant_id, user_id=user_id, kind=kind, enabled=enabled,
                    updated_at=now,
                ))

    async def tenant_defaults(self) -> dict[str, bool]:
        return await stored_choices(self.tenant_id, TENANT_DEFAULT)

    async def set_tenant_defaults(self, kinds: Mapping[str, bool]) -> None:
        await self._store(TENANT_DEFAULT, kinds)

    async def user_choices(self, user_id: str) -> dict[str, bool]:
        return await stored_choices(self.tenant_id, user_id)

    async def set_user_choices(self, user_id: str, kinds: Mapping[str, bool]) -> None:
        await self._store(user_id, kinds)
