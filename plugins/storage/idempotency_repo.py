"""Idempotency keys (``core.idempotency.IdempotencyStore``) as rows of ``idempotency_key``.

Plain SQL on the caller's unit of work: a keyed request runs one statement to claim its
key (an INSERT that a second claimant finds taken, thanks to the unique index) and one to
keep its answer, so the key costs little next to the work it guards. The body is stored
base64-encoded: answers are bytes, and the column must hold them on both engines.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from core.idempotency import Answer, Fingerprint, KeyRecord, KeyScope
from core.ids import new_id

from .idempotency_tables import IdempotencyKeyRow
from .plain_sql import Sql, fetch

__all__ = ["PiccoloIdempotencyStore"]

_ATTEMPTS = 10
_SCOPE = "tenant_id = {} AND user_id = {} AND idempotency_key = {}"

_INSERT = Sql(
    "INSERT INTO idempotency_key (id, tenant_id, user_id, idempotency_key, method, path, body_digest, "
    "claim, claimed_at, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
    "ON CONFLICT DO NOTHING RETURNING id"
)
_FIND = Sql(f"SELECT * FROM idempotency_key WHERE {_SCOPE}")
_FORGET = Sql("DELETE FROM idempotency_key WHERE id = {} AND created_at < {}")
_TAKE_OVER = Sql(
    f"UPDATE idempotency_key SET claim = {{}}, claimed_at = {{}} WHERE {_SCOPE} "
    "AND claim = {} AND completed_at IS NULL RETURNING id"
)
_RENEW = Sql(
    f"UPDATE idempotency_key SET claimed_at = {{}} WHERE {_SCOPE} AND claim = {{}} AND completed_at IS NULL "
    "RETURNING id"
)
_KEEP = Sql(
    f"UPDATE idempotency_key SET completed_at = {{}}, status = {{}}, headers = {{}}, body = {{}} "
    f"WHERE {_SCOPE} AND claim = {{}} AND completed_at IS NULL RETURNING id"
)
_RELEASE = Sql(f"DELETE FROM idempotency_key WHERE {_SCOPE} AND claim = {{}} AND completed_at IS NULL")
_COUNT_OLD = Sql("SELECT COUNT(*) AS n FROM idempotency_key WHERE created_at < {}")
_PRUNE = Sql("DELETE FROM idempotency_key WHERE created_at < {}")


def _when(value: Any) -> datetime:
    # SQLite may hand back the stored text when a raw statement bypasses the converters.
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value


def _record(row: dict[str, Any]) -> KeyRecord:
    answer = None
    if row["completed_at"] is not None:
        answer = Answer(
            status=int(row["status"]),
            headers=tuple((str(name), str(value)) for name, value in json.loads(row["headers"] or "[]")),
            body=base64.b64decode(row["body"] or ""),
        )
    return KeyRecord(
        fingerprint=Fingerprint(method=row["method"], path=row["path"], body_digest=row["body_digest"]),
        claim=row["claim"],
        claimed_at=_when(row["claimed_at"]),
        created_at=_when(row["created_at"]),
        answer=answer,
    )


def _scope(scope: KeyScope) -> tuple[str, str, str]:
    return scope.tenant_id, scope.user_id, scope.key


class PiccoloIdempotencyStore:
    async def claim(
        self, scope: KeyScope, request: Fingerprint, claim: str, now: datetime, *, forget_before: datetime
    ) -> KeyRecord:
        # An expired key in the way is forgotten and the claim tried again; a key let go
        # between the INSERT and the SELECT is claimed again. Either settles at once.
        for _ in range(_ATTEMPTS):
            inserted = await fetch(
                IdempotencyKeyRow, _INSERT, new_id(), *_scope(scope), request.method, request.path,
                request.body_digest, claim, now, now,
            )
            if inserted:
                return KeyRecord(fingerprint=request, claim=claim, claimed_at=now, created_at=now)
            rows = await fetch(IdempotencyKeyRow, _FIND, *_scope(scope))
            if not rows:
                continue
            row = rows[0]
            if _when(row["created_at"]) >= forget_before:
                return _record(row)
            await fetch(IdempotencyKeyRow, _FORGET, row["id"], forget_before)
        raise RuntimeError(f"could not claim idempotency key after {_ATTEMPTS} attempts")

    async def find(self, scope: KeyScope) -> KeyRecord | None:
        rows = await fetch(IdempotencyKeyRow, _FIND, *_scope(scope))
        return _record(rows[0]) if rows else None

    async def take_over(self, scope: KeyScope, stale: str, claim: str, now: datetime) -> bool:
        return bool(await fetch(IdempotencyKeyRow, _TAKE_OVER, claim, now, *_scope(scope), stale))

    async def renew(self, scope: KeyScope, claim: str, now: datetime) -> bool:
        return bool(await fetch(IdempotencyKeyRow, _RENEW, now, *_scope(scope), claim))

    async def keep(self, scope: KeyScope, claim: str, answer: Answer, now: datetime) -> bool:
        headers = json.dumps([list(pair) for pair in answer.headers])
        body = base64.b64encode(answer.body).decode("ascii")
        return bool(
            await fetch(IdempotencyKeyRow, _KEEP, now, answer.status, headers, body, *_scope(scope), claim)
        )

    async def release(self, scope: KeyScope, claim: str) -> None:
        await fetch(IdempotencyKeyRow, _RELEASE, *_scope(scope), claim)

    async def prune(self, before: datetime) -> int:
        rows = await fetch(IdempotencyKeyRow, _COUNT_OLD, before)
        count = int(rows[0]["n"]) if rows else 0
        if count:
            await fetch(IdempotencyKeyRow, _PRUNE, before)
        return count
