"""Operators' second factors: the sealed TOTP secret on the account row, recovery codes in
their own table. Spending a code is one conditional UPDATE, so two requests racing with the
same code cannot both win."""

from __future__ import annotations

from datetime import datetime

from core.identity.ports import SecondFactorRecord
from core.ids import new_id

from .tables import OperatorAccount, RecoveryCode

__all__ = ["OperatorSecondFactors"]


class OperatorSecondFactors:
    async def get(self, owner_id: str) -> SecondFactorRecord | None:
        row = (
            await OperatorAccount.select(
                OperatorAccount.totp_secret, OperatorAccount.totp_confirmed_at, OperatorAccount.totp_last_step
            )
            .where(OperatorAccount.id == owner_id)
            .first()
        )
        if not row or not row["totp_secret"]:
            return None
        return SecondFactorRecord(row["totp_secret"], row["totp_confirmed_at"], row["totp_last_step"])

    async def start(self, owner_id: str, sealed_secret: str) -> None:
        await OperatorAccount.update(
            {
                OperatorAccount.totp_secret: sealed_secret,
                OperatorAccount.totp_confirmed_at: None,
                OperatorAccount.totp_last_step: None,
            }
        ).where(OperatorAccount.id == owner_id)

    async def confirm(
        self, owner_id: str, at: datetime, step: int | None, recovery_hashes: list[str]
    ) -> None:
        await OperatorAccount.update(
            {OperatorAccount.totp_confirmed_at: at, OperatorAccount.totp_last_step: step}
        ).where(OperatorAccount.id == owner_id)
        await RecoveryCode.delete().where(RecoveryCode.owner_id == owner_id)
        if recovery_hashes:
            await RecoveryCode.insert(
                *[
                    RecoveryCode(id=new_id(), tenant_id=None, owner_id=owner_id, code_hash=h, created_at=at)
                    for h in recovery_hashes
                ]
            )

    async def use_step(self, owner_id: str, step: int) -> bool:
        updated = await OperatorAccount.update({OperatorAccount.totp_last_step: step}).where(
            (OperatorAccount.id == owner_id)
            & (OperatorAccount.totp_confirmed_at.is_not_null())
            & ((OperatorAccount.totp_last_step.is_null()) | (OperatorAccount.totp_last_step < step))
        ).returning(OperatorAccount.id)
        return bool(updated)

    async def use_recovery(self, owner_id: str, code_hash: str, at: datetime) -> bool:
        updated = await RecoveryCode.update({RecoveryCode.used_at: at}).where(
            (RecoveryCode.owner_id == owner_id)
            & (RecoveryCode.code_hash == code_hash)
            & (RecoveryCode.used_at.is_null())
        ).returning(RecoveryCode.id)
        return bool(updated)

    async def recovery_left(self, owner_id: str) -> int:
        return int(
            await RecoveryCode.count().where(
                (RecoveryCode.owner_id == owner_id) & (RecoveryCode.used_at.is_null())
            )
        )

    async def remove(self, owner_id: str) -> None:
        await OperatorAccount.update(
            {
                OperatorAccount.totp_secret: None,
                OperatorAccount.totp_confirmed_at: None,
                OperatorAccount.totp_last_step: None,
            }
        ).where(OperatorAccount.id == owner_id)
        await RecoveryCode.delete().where(RecoveryCode.owner_id == owner_id)
