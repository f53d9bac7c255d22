"""In-memory idempotency keys, as ``plugins/storage/idempotency_repo.py`` keeps them: one
row per key scope, claimed by one request until its answer is kept or the claim let go;
every change is conditional on the claim still holding the key, and an expired key in
the way of a claim is forgotten first.

Used inside the caller's unit of work (the store is passed next to it): give it the
factory's shared store, and each call joins the unit of work open in the task.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from core.idempotency import Answer, Fingerprint, KeyRecord, KeyScope

if TYPE_CHECKING:
    from .unit_of_work import FakeDatabase

__all__ = ["FakeIdempotencyStore"]


class FakeIdempotencyStore:
    def __init__(self, store: FakeDatabase) -> None:
        self._store = store

    def _held(self, db: FakeDatabase, scope: KeyScope, claim: str) -> KeyRecord | None:
        record = db.idempotency_keys.get(scope)
        return record if record is not None and record.claim == claim and record.answer is None else None

    async def claim(
        self, scope: KeyScope, request: Fingerprint, claim: str, now: datetime, *, forget_before: datetime
    ) -> KeyRecord:
        db = self._store.joined()
        db.check_write("claim an idempotency key")
        found = db.idempotency_keys.get(scope)
        if found is not None and found.created_at >= forget_before:
            return found
        record = KeyRecord(fingerprint=request, claim=claim, claimed_at=now, created_at=now)
        db.idempotency_keys[scope] = record
        return record

    async def find(self, scope: KeyScope) -> KeyRecord | None:
        return self._store.joined().idempotency_keys.get(scope)

    async def take_over(self, scope: KeyScope, stale: str, claim: str, now: datetime) -> bool:
        db = self._store.joined()
        db.check_write("take over an idempotency key")
        held = self._held(db, scope, stale)
        if held is None:
            return False
        db.idempotency_keys[scope] = replace(held, claim=claim, claimed_at=now)
        return True

    async def renew(self, scope: KeyScope, claim: str, now: datetime) -> bool:
        db = self._store.joined()
        db.check_write("renew an idempotency claim")
        held = self._held(db, scope, claim)
        if held is None:
            return False
        db.idempotency_keys[scope] = replace(held, claimed_at=now)
        return True

    async def keep(self, scope: KeyScope, claim: str, answer: Answer, now: datetime) -> bool:
        db = self._store.joined()
        db.check_write("keep an answer")
        held = self._held(db, scope, claim)
        if held is None:
            return False
        db.idempotency_keys[scope] = replace(held, answer=answer)
        return True

    async def release(self, scope: KeyScope, claim: str) -> None:
        db = self._store.joined()
        db.check_write("release an idempotency key")
        if self._held(db, scope, claim) is not None:
            del db.idempotency_keys[scope]

    async def prune(self, before: datetime) -> int:
        db = self._store.joined()
        db.check_write("prune idempotency keys")
        old = [scope for scope, record in db.idempotency_keys.items() if record.created_at < before]
        for scope in old:
            del db.idempotency_keys[scope]
        return len(old)
