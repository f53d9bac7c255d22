"""In-memory notification preferences, on the unit of work's working copy (like
``plugins/storage/notifications_repo.py``: stored choices per tenant and user, the tenant's
defaults under an empty user id)."""

from __future__ import annotations

from collections.abc import Mapping

from core.working_hours import WorkingHours

from .unit_of_work import FakeDatabase

__all__ = ["TENANT_DEFAULT", "FakeNotificationSettings", "FakeWorkingHoursStore", "stored_choices"]

TENANT_DEFAULT = ""


def stored_choices(db: FakeDatabase, tenant_id: str, user_id: str) -> dict[str, bool]:
    return dict(db.notification_choices.get(tenant_id, {}).get(user_id, {}))


class FakeNotificationSettings:
    def __init__(self, store: FakeDatabase, tenant_id: str) -> None:
        self.store = store
        self.tenant_id = tenant_id

    def _store(self, user_id: str, kinds: Mapping[str, bool]) -> None:
        db = self.store.joined()
        db.check_write("store notification preferences")
        db.notification_choices.setdefault(self.tenant_id, {}).setdefault(user_id, {}).update(kinds)

    async def tenant_defaults(self) -> dict[str, bool]:
        return stored_choices(self.store.joined(), self.tenant_id, TENANT_DEFAULT)

    async def set_tenant_defaults(self, kinds: Mapping[str, bool]) -> None:
        self._store(TENANT_DEFAULT, kinds)

    async def user_choices(self, user_id: str) -> dict[str, bool]:
        return stored_choices(self.store.joined(), self.tenant_id, user_id)

    async def set_user_choices(self, user_id: str, kinds: Mapping[str, bool]) -> None:
        self._store(user_id, kinds)


class FakeWorkingHoursStore:
    def __init__(self, store: FakeDatabase, tenant_id: str) -> None:
        self.store = store
        self.tenant_id = tenant_id

    async def get(self, user_id: str) -> WorkingHours | None:
        return self.store.working_hours.get(self.tenant_id, {}).get(user_id)

    async def all(self) -> dict[str, WorkingHours]:
        return dict(self.store.working_hours.get(self.tenant_id, {}))

    async def save(self, user_id: str, hours: WorkingHours) -> None:
        self.store.check_write("store working hours")
        self.store.working_hours.setdefault(self.tenant_id, {})[user_id] = hours
