"""Second factors of one realm's accounts: operators, or one tenant's users. The sealed
TOTP secret lives on the account's row (the same three columns on both tables), recovery
codes in their own table. Spending a code is one conditional UPDATE, so two requests
racing with the same code cannot both win."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.identity.ports import SecondFactorRecord
from core.ids import new_id

from .changes import note_change, user_scope
from .tables import OperatorAccount, RecoveryCode, TenantUser

__all__ = ["SecondFactors"]


class SecondFactors:
    """``tenant_id`` None: operators' accounts; else that tenant's users (and only theirs)."""

    def __init__(self, tenant_id: str | None = None) -> None:
        self._tenant_id = tenant_id
        self._table: Any = OperatorAccount if tenant_id is None else TenantUser

    def _owner(self, owner_id: str) -> Any:
        where: Any = self._table.id == owner_id
        if self._tenant_id is not None:
            where &= TenantUser.tenant_id == self._tenant_id
        return where

    def _recovery(self, owner_id: str) -> Any:
        where: Any = RecoveryCode.owner_id == owner_id
        if self._tenant_id is not None:
            where &= RecoveryCode.tenant_id == self._tenant_id
        return where

    async def _set(self, owner_id: str, values: dict[Any, Any]) -> None:
        if self._tenant_id is not None:
            # The signed-in user's cached row says whether they have a factor.
            note_change(user_scope(owner_id))
        await self._table.update(values).where(self._owner(owner_id))

    async def get(self, owner_id: str) -> SecondFactorRecord | None:
        table = self._table
        row = (
            await table.select(table.totp_secret, table.totp_confirmed_at, table.totp_last_step)
            .where(self._owner(owner_id))
            .first()
        )
        if not row or not row["totp_secret"]:
            return None
        return SecondFactorRecord(row["totp_secret"], row["totp_confirmed_at"], row["totp_last_step"])

    async def start(self, owner_id: str, sealed_secret: str) -> None:
        table = self._table
        await self._set(
            owner_id,
            {table.totp_secret: sealed_secret, table.totp_confirmed_at: None, table.totp_last_step: None},
        )

    async def confirm(
        self, owner_id: str, at: datetime, step: int | None, recovery_hashes: list[str]
    ) -> None:
        table = self._table
        await self._set(owner_id, {table.totp_confirmed_at: at, table.totp_last_step: step})
        await RecoveryCode.delete().where(self._recovery(owner_id))
        if recovery_hashes:
            await RecoveryCode.insert(
                *[
                    RecoveryCode(
                        id=new_id(), tenant_id=self._tenant_id, owner_id=owner_id, code_hash=h, created_at=at
                    )
                    for h in recovery_hashes
                ]
            )

    async def use_step(self, owner_id: str, step: int) -> bool:
        table = self._table
        updated = await table.update({table.totp_last_step: step}).where(
            self._owner(owner_id)
            & (table.totp_confirmed_at.is_not_null())
            & ((table.totp_last_step.is_null()) | (table.totp_last_step < step))
        ).returning(table.id)
        return bool(updated)

    async def use_recovery(self, owner_id: str, code_hash: str, at: datetime) -> bool:
        updated = await RecoveryCode.update({RecoveryCode.used_at: at}).where(
            self._recovery(owner_id)
            & (RecoveryCode.code_hash == code_hash)
            & (RecoveryCode.used_at.is_null())
        ).returning(RecoveryCode.id)
        return bool(updated)

    async def recovery_left(self, owner_id: str) -> int:
        unused = self._recovery(owner_id) & RecoveryCode.used_at.is_null()
        return int(await RecoveryCode.count().where(unused))

    async def remove(self, owner_id: str) -> None:
        table = self._table
        await self._set(
            owner_id, {table.totp_secret: None, table.totp_confirmed_at: None, table.totp_last_step: None}
        )
        await RecoveryCode.delete().where(self._recovery(owner_id))
