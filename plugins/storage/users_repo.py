"""One tenant's users and audit trail. Every query here filters on the tenant's id."""

from __future__ import annotations

import builtins
from dataclasses import replace
from datetime import datetime
from typing import Any

from piccolo.engine.base import Engine

from core.audit import AuditQuery, AuditRecord
from core.licensing.seats import LastUse
from core.tenancy import User

from .audit_repo import audit_page
from .changes import note_change, tenant_scope, user_scope
from .directory import PiccoloDirectory
from .mapping import user_from_row
from .tables import AuditEvent, Person, TenantUser

__all__ = ["PiccoloAuditLog", "PiccoloUserRepository"]


class PiccoloUserRepository:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    def _select(self) -> Any:
        return TenantUser.select(
            *TenantUser.all_columns(
                exclude=[TenantUser.password_hash, TenantUser.totp_secret, TenantUser.totp_last_step]
            ),
            TenantUser.person_id.email,
            TenantUser.person_id.name,
        ).where(TenantUser.tenant_id == self.tenant_id)

    async def get(self, user_id: str) -> User | None:
        row = await self._select().where(TenantUser.id == user_id).first()
        return user_from_row(row) if row else None

    async def by_email(self, email: str) -> User | None:
        row = await self._select().where(TenantUser.person_id.email == email).first()
        return user_from_row(row) if row else None

    async def by_person(self, person_id: str) -> User | None:
        row = await self._select().where(TenantUser.person_id == person_id).first()
        return user_from_row(row) if row else None

    async def password_hash(self, user_id: str) -> str | None:
        row = (
            await TenantUser.select(TenantUser.password_hash)
            .where((TenantUser.tenant_id == self.tenant_id) & (TenantUser.id == user_id))
            .first()
        )
        return row["password_hash"] if row else None

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await TenantUser.update({TenantUser.password_hash: password_hash}).where(
            (TenantUser.tenant_id == self.tenant_id) & (TenantUser.id == user_id)
        )

    async def list(self, *, after: str = "", limit: int = 100) -> builtins.list[User]:
        query = self._select().order_by(TenantUser.id).limit(limit)
        if after:
            query = query.where(TenantUser.id > after)
        return [user_from_row(row) for row in await query]

    async def add(self, user: User, password_hash: str | None, at: datetime) -> None:
        if user.tenant_id != self.tenant_id:
            raise ValueError("a user can only be added to its own tenant")
        await TenantUser.insert(
            TenantUser(
                id=user.id,
                tenant_id=self.tenant_id,
                person_id=user.person_id,
                role=user.role,
                collection_admin=user.collection_admin,
                approval_manager=user.approval_manager,
                password_hash=password_hash,
                last_used_at=user.last_used_at,
                created_at=at,
            )
        )

    async def save(self, user: User) -> None:
        note_change(tenant_scope(self.tenant_id))
        await TenantUser.update(
            {
                TenantUser.role: user.role,
                TenantUser.collection_admin: user.collection_admin,
                TenantUser.approval_manager: user.approval_manager,
                TenantUser.last_used_at: user.last_used_at,
            }
        ).where((TenantUser.tenant_id == self.tenant_id) & (TenantUser.id == user.id))

    async def save_profile(self, user: User) -> None:
        # The user's cached principal carries the preferences: the next request reads afresh.
        note_change(user_scope(user.id))
        where = (TenantUser.tenant_id == self.tenant_id) & (TenantUser.id == user.id)
        await TenantUser.update({
            TenantUser.locale: user.locale,
            TenantUser.time_format: user.time_format,
            TenantUser.week_starts_on: user.week_starts_on,
        }).where(where)
        row = await TenantUser.select(TenantUser.person_id).where(where).first()
        if row is not None:
            # The name is the person's (one across their tenants), as the user list shows it.
            await Person.update({Person.name: user.name}).where(Person.id == row["person_id"])

    async def set_active(self, user_id: str, active: bool, at: datetime) -> None:
        # Both scopes: the principal cached for the user's requests is under either.
        note_change(tenant_scope(self.tenant_id))
        note_change(user_scope(user_id))
        await TenantUser.update({TenantUser.deactivated_at: None if active else at}).where(
            (TenantUser.tenant_id == self.tenant_id) & (TenantUser.id == user_id)
        )

    async def touch(self, user_id: str, at: datetime) -> None:
        note_change(user_scope(user_id))
        await TenantUser.update({TenantUser.last_used_at: at}).where(
            (TenantUser.tenant_id == self.tenant_id) & (TenantUser.id == user_id)
        )

    async def recent(self, since: datetime) -> builtins.list[LastUse]:
        rows = await TenantUser.select(TenantUser.person_id, TenantUser.last_used_at).where(
            (TenantUser.tenant_id == self.tenant_id) & (TenantUser.last_used_at >= since)
        )
        return [LastUse(row["person_id"], row["last_used_at"].date()) for row in rows]


class PiccoloAuditLog:
    def __init__(self, engine: Engine[Any], tenant_id: str) -> None:
        self._engine = engine
        self.tenant_id = tenant_id

    async def record(
        self, actor: str, action: str, subject: str, detail: dict[str, Any], at: datetime,
        *, address: str | None = None,
    ) -> None:
        await PiccoloDirectory(self._engine).audit(
            self.tenant_id, actor, action, subject, detail, at, address=address
        )

    async def page(self, query: AuditQuery) -> builtins.list[AuditRecord]:
        return await audit_page(replace(query, tenant_id=self.tenant_id))

    async def recorded_since(self, action: str, subject: str, since: datetime) -> bool:
        return bool(
            await AuditEvent.exists().where(
                (AuditEvent.tenant_id == self.tenant_id)
                & (AuditEvent.action == action)
                & (AuditEvent.subject == subject)
                & (AuditEvent.at >= since)
            )
        )
