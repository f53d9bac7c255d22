"""Second factors in memory, as ``plugins/storage/second_factor_repo.py`` keeps them, and
one-time codes that are deterministic (a digest of the secret and the time step), so a unit
test can compute the code an app would show without pyotp."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime

from core.identity.ports import SecondFactorRecord

from .unit_of_work import FakeDatabase

__all__ = ["FakeOneTimeCodes", "FakeSecondFactors", "RecoveryRow"]

_STEP_SECONDS = 30


@dataclass(frozen=True, slots=True)
class RecoveryRow:
    #: None: an operator's code; else the tenant of the user it belongs to.
    tenant_id: str | None
    owner_id: str
    used_at: datetime | None = None


class FakeSecondFactors:
    """One realm's factors: operators (``tenant_id`` None) or one tenant's users."""

    def __init__(self, store: FakeDatabase, tenant_id: str | None) -> None:
        self._store = store
        self._tenant_id = tenant_id

    def _exists(self, owner_id: str) -> bool:
        if self._tenant_id is None:
            return owner_id in self._store.operators
        return owner_id in self._store.users.get(self._tenant_id, {})

    def _write(self, owner_id: str, record: SecondFactorRecord | None) -> None:
        self._store.check_write("change a second factor")
        if not self._exists(owner_id):
            return  # the real UPDATE matches no row of another realm or tenant
        if self._tenant_id is not None:
            self._store.note_change(f"u:{owner_id}")
        if record is None:
            self._store.second_factors.pop(owner_id, None)
        else:
            self._store.second_factors[owner_id] = record

    def _codes(self, owner_id: str) -> dict[str, RecoveryRow]:
        return {
            h: row for h, row in self._store.recovery_codes.items()
            if row.owner_id == owner_id and row.tenant_id == self._tenant_id
        }

    async def get(self, owner_id: str) -> SecondFactorRecord | None:
        return self._store.second_factors.get(owner_id) if self._exists(owner_id) else None

    async def start(self, owner_id: str, sealed_secret: str) -> None:
        self._write(owner_id, SecondFactorRecord(sealed_secret, None, None))

    async def confirm(
        self, owner_id: str, at: datetime, step: int | None, recovery_hashes: list[str]
    ) -> None:
        held = self._store.second_factors.get(owner_id)
        if held is None:
            return
        self._write(owner_id, replace(held, confirmed_at=at, last_step=step))
        for code_hash in self._codes(owner_id):
            del self._store.recovery_codes[code_hash]
        for code_hash in recovery_hashes:
            self._store.recovery_codes[code_hash] = RecoveryRow(self._tenant_id, owner_id)

    async def use_step(self, owner_id: str, step: int) -> bool:
        held = await self.get(owner_id)
        if held is None or held.confirmed_at is None:
            return False
        if held.last_step is not None and held.last_step >= step:
            return False
        self._write(owner_id, replace(held, last_step=step))
        return True

    async def use_recovery(self, owner_id: str, code_hash: str, at: datetime) -> bool:
        row = self._codes(owner_id).get(code_hash)
        if row is None or row.used_at is not None:
            return False
        self._store.check_write("spend a recovery code")
        self._store.recovery_codes[code_hash] = replace(row, used_at=at)
        return True

    async def recovery_left(self, owner_id: str) -> int:
        return sum(1 for row in self._codes(owner_id).values() if row.used_at is None)

    async def remove(self, owner_id: str) -> None:
        self._write(owner_id, None)
        for code_hash in self._codes(owner_id):
            del self._store.recovery_codes[code_hash]


class FakeOneTimeCodes:
    """Six digits from a digest of the secret and the 30-second step; one step of drift."""

    def __init__(self) -> None:
        self._issued = 0

    def new_secret(self) -> str:
        self._issued += 1
        return f"SECRET{self._issued:04d}"

    def uri(self, secret: str, *, account: str, issuer: str) -> str:
        return f"otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}"

    @staticmethod
    def step_of(now: datetime) -> int:
        return int(now.timestamp()) // _STEP_SECONDS

    @staticmethod
    def code_for(secret: str, step: int) -> str:
        digest = hashlib.sha256(f"{secret}:{step}".encode()).hexdigest()
        return f"{int(digest, 16) % 1_000_000:06d}"

    def code_at(self, secret: str, now: datetime) -> str:
        return self.code_for(secret, self.step_of(now))

    def matching_step(self, secret: str, code: str, now: datetime) -> int | None:
        current = self.step_of(now)
        for step in (current - 1, current, current + 1):
            if self.code_for(secret, step) == code:
                return step
        return None

    def seal(self, owner_id: str, secret: str) -> str:
        return f"sealed:{owner_id}:{secret}"

    def unseal(self, owner_id: str, sealed: str) -> str:
        prefix = f"sealed:{owner_id}:"
        if not sealed.startswith(prefix):
            raise ValueError("sealed for another owner")
        return sealed[len(prefix):]
