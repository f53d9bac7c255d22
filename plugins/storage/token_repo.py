"""One tenant's refresh and personal access tokens. Every query filters on ``self.tenant_id``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.engine.base import Engine

from core.identity.ports import PersonalTokenRecord, RefreshTokenRecord
from core.identity.scopes import scope_text, scopes_of_text

from .changes import note_change, user_scope
from .tables import PersonalAccessToken, RefreshToken

__all__ = ["PiccoloTokenRepository"]


def _refresh(row: dict[str, Any]) -> RefreshTokenRecord:
    return RefreshTokenRecord(**{name: row[name] for name in RefreshTokenRecord.__slots__})


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
        await RefreshToken.insert(RefreshToken(**_fields(record)))

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
