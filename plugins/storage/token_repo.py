"""One tenant's refresh and personal access tokens. Every query filters on ``self.tenant_id``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.engine.base import Engine

from core.identity.ports import AppGrant, PersonalTokenRecord, RefreshTokenRecord
from core.identity.scopes import scope_text, scopes_of_text

from .changes import note_change, user_scope
from .tables import PersonalAccessToken, RefreshToken

__all__ = ["PiccoloTokenRepository"]


def _refresh(row: dict[str, Any]) -> RefreshTokenRecord:
    fields = {name: row[name] for name in RefreshTokenRecord.__slots__}
    # Stored space-separated (m0031); NULL is a sign-in's family (full access).
    fields["scopes"] = scopes_of_text(row["scopes"])
    return RefreshTokenRecord(**fields)


def _pat(row: dict[str, Any]) -> PersonalTokenRecord:
    fields = {name: row[name] for name in PersonalTokenRecord.__slots__}
    # Stored space-separated; NULL is a token from before scopes (full access).
    fields["scopes"] = scopes_of_text(row["scopes"])
    return PersonalTokenRecord(**fields)


class PiccoloTokenRepository:
    def __init__(self, engine: Engine[Any], tenant_id: str) -> None:
        self._engine = engine
        self.tenant_id = tenant_id

    # Refresh tokens ----------------------------------------------------------------

    async def add_refresh(self, record: RefreshTokenRecord) -> None:
        if record.tenant_id != self.tenant_id:
            raise ValueError("a token can only be added to its own tenant")
        await RefreshToken.insert(RefreshToken(**{**_fields(record), "scopes": scope_text(record.scopes)}))

    async def refresh_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> RefreshTokenRecord | None:
        query = RefreshToken.select().where(
            (RefreshToken.tenant_id == self.tenant_id) & (RefreshToken.token_hash == token_hash)
        )
        if for_update and self._engine.engine_type == "postgres":
            query = query.lock_rows("UPDATE")
        row = await query.first()
        return _refresh(row) if row else None

    async def mark_refresh_used(self, token_id: str, at: datetime) -> None:
        await RefreshToken.update({RefreshToken.used_at: at}).where(
            (RefreshToken.tenant_id == self.tenant_id) & (RefreshToken.id == token_id)
        )

    async def revoke_family(self, user_id: str, family_id: str, at: datetime) -> int:
        # The family's access tokens are checked against a cached "revoked?" kept under the
        # user's scope (web/auth.py): moving it makes every process ask again.
        note_change(user_scope(user_id))
        live = (
            (RefreshToken.tenant_id == self.tenant_id)
            & (RefreshToken.user_id == user_id)
            & (RefreshToken.family_id == family_id)
            & RefreshToken.revoked_at.is_null()
        )
        count = int(await RefreshToken.count().where(live))
        await RefreshToken.update({RefreshToken.revoked_at: at}).where(live)
        return count

    async def revoke_user(self, user_id: str, at: datetime) -> int:
        note_change(user_scope(user_id))
        refresh = (
            (RefreshToken.tenant_id == self.tenant_id)
            & (RefreshToken.user_id == user_id)
            & RefreshToken.revoked_at.is_null()
        )
        pats = (
            (PersonalAccessToken.tenant_id == self.tenant_id)
            & (PersonalAccessToken.user_id == user_id)
            & PersonalAccessToken.revoked_at.is_null()
        )
        count = int(await RefreshToken.count().where(refresh))
        count += int(await PersonalAccessToken.count().where(pats))
        await RefreshToken.update({RefreshToken.revoked_at: at}).where(refresh)
        await PersonalAccessToken.update({PersonalAccessToken.revoked_at: at}).where(pats)
        return count

    async def family_revoked(self, user_id: str, family_id: str) -> bool:
        return bool(
            await RefreshToken.exists().where(
                (RefreshToken.tenant_id == self.tenant_id)
                & (RefreshToken.user_id == user_id)
                & (RefreshToken.family_id == family_id)
                & RefreshToken.revoked_at.is_not_null()
            )
        )

    async def app_grants(self, user_id: str) -> list[AppGrant]:
        rows = await RefreshToken.select().where(self._apps(user_id)).order_by(RefreshToken.issued_at)
        grants: dict[str, AppGrant] = {}
        for row in rows:
            first = grants.get(row["family_id"])
            grants[row["family_id"]] = AppGrant(
                family_id=row["family_id"], client_id=row["client_id"], scopes=scopes_of_text(row["scopes"]),
                created_at=first.created_at if first else row["issued_at"],
                last_used_at=row["issued_at"], address=row["address"] or (first.address if first else None),
            )
        return list(grants.values())

    async def app_families(self, user_id: str) -> list[str]:
        rows = await RefreshToken.select(RefreshToken.family_id).where(self._apps(user_id)).distinct()
        return sorted(row["family_id"] for row in rows)

    async def revoke_client(self, client_id: str, at: datetime) -> int:
        live = (
            (RefreshToken.tenant_id == self.tenant_id) & (RefreshToken.client_id == client_id)
            & RefreshToken.revoked_at.is_null()
        )
        users = {row["user_id"] for row in await RefreshToken.select(RefreshToken.user_id).where(live)}
        for user_id in users:
            note_change(user_scope(user_id))
        count = int(await RefreshToken.count().where(live))
        await RefreshToken.update({RefreshToken.revoked_at: at}).where(live)
        return count

    def _apps(self, user_id: str) -> Any:
        # A family's tokens are revoked together, so a live token means a live grant; the
        # used ones still tell when it was first and last refreshed.
        live_families = RefreshToken.select(RefreshToken.family_id).where(
            (RefreshToken.tenant_id == self.tenant_id) & (RefreshToken.user_id == user_id)
            & RefreshToken.client_id.is_not_null() & RefreshToken.revoked_at.is_null()
        )
        return (
            (RefreshToken.tenant_id == self.tenant_id) & (RefreshToken.user_id == user_id)
            & RefreshToken.client_id.is_not_null() & RefreshToken.family_id.is_in(live_families)
        )

    # Personal access tokens -----------------------------------------------------

    async def add_pat(self, record: PersonalTokenRecord) -> None:
        if record.tenant_id != self.tenant_id:
            raise ValueError("a token can only be added to its own tenant")
        await PersonalAccessToken.insert(
            PersonalAccessToken(**{**_fields(record), "scopes": scope_text(record.scopes)})
        )

    async def pat_by_hash(self, token_hash: str) -> PersonalTokenRecord | None:
        row = (
            await PersonalAccessToken.select()
            .where(
                (PersonalAccessToken.tenant_id == self.tenant_id)
                & (PersonalAccessToken.token_hash == token_hash)
            )
            .first()
        )
        return _pat(row) if row else None

    async def pats(self, user_id: str, *, after: str = "", limit: int = 50) -> list[PersonalTokenRecord]:
        query = (
            PersonalAccessToken.select()
            .where(
                (PersonalAccessToken.tenant_id == self.tenant_id)
                & (PersonalAccessToken.user_id == user_id)
                & PersonalAccessToken.revoked_at.is_null()
            )
            .order_by(PersonalAccessToken.id)
            .limit(limit)
        )
        if after:
            query = query.where(PersonalAccessToken.id > after)
        return [_pat(row) for row in await query]

    async def revoke_pat(self, user_id: str, pat_id: str, at: datetime) -> bool:
        mine = (
            (PersonalAccessToken.tenant_id == self.tenant_id)
            & (PersonalAccessToken.user_id == user_id)
            & (PersonalAccessToken.id == pat_id)
            & PersonalAccessToken.revoked_at.is_null()
        )
        found = await PersonalAccessToken.exists().where(mine)
        if found:
            await PersonalAccessToken.update({PersonalAccessToken.revoked_at: at}).where(mine)
        return bool(found)

    async def touch_pat(self, pat_id: str, at: datetime) -> None:
        await PersonalAccessToken.update({PersonalAccessToken.last_used_at: at}).where(
            (PersonalAccessToken.tenant_id == self.tenant_id) & (PersonalAccessToken.id == pat_id)
        )


def _fields(record: RefreshTokenRecord | PersonalTokenRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in type(record).__slots__}
