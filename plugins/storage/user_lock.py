"""A PostgreSQL write unit of work that begins holding one user's row lock.

The timer's use cases (and any other that takes ``TrackingRepository.lock_user`` first)
run ``BEGIN``, then ``SELECT … FOR UPDATE`` of the user's row, each its own round trip.
Here both go in one simple query — ``BEGIN; SELECT … FOR UPDATE`` — so the lock costs no
round trip of its own (docs/benchmarks.md, "Tracking"). The lock is still its own statement,
before any read: what is read under it gets a snapshot taken after the lock was granted.

The simple query protocol takes no parameters, so the two ids are written into the text.
Only ids made of plain characters (:data:`_PLAIN`: letters, digits, ``_`` and ``-``, at most
64) ever are: no quote or backslash can occur in them, so nothing in the text can be read
as anything but the literal. Any other id (none that Stint makes) leaves the unit of work
beginning as usual, and ``lock_user`` sends its own parameterised statement.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from piccolo.engine.postgres import PostgresEngine, PostgresTransaction

__all__ = ["LockingTransaction", "holds_user_lock", "locking_transaction"]

_PLAIN = re.compile(r"[0-9A-Za-z_-]{1,64}")


class LockingTransaction(PostgresTransaction):
    """Piccolo's PostgreSQL transaction, begun together with ``FOR UPDATE`` of one user's row
    (``BEGIN``, ``COMMIT`` and ``ROLLBACK`` sent by hand: asyncpg's transaction object would
    send its own ``BEGIN``)."""

    def __init__(self, engine: PostgresEngine, tenant_id: str, user_id: str) -> None:
        super().__init__(engine)
        #: ``(tenant id, user id)`` whose ``tenant_user`` row this transaction locks as it begins.
        self.locked_user = (tenant_id, user_id)

    async def begin(self) -> None:
        tenant_id, user_id = self.locked_user
        try:
            await self.connection.execute(
                "BEGIN; SELECT id FROM tenant_user"
                f" WHERE tenant_id = '{tenant_id}' AND id = '{user_id}' FOR UPDATE"
            )
        except BaseException:
            # Waiting for the lock can fail or be cancelled (the request went away). Piccolo's
            # __aenter__ then neither gives the connection back nor leaves a transaction the
            # unit of work's __aexit__ would end (it never runs): do both here.
            with contextlib.suppress(Exception):
                await self.connection.execute("ROLLBACK")
            pool = self.engine.pool
            if pool is not None:
                await pool.release(self.connection)
            else:
                await self.connection.close()
            raise

    async def commit(self) -> None:
        await self.connection.execute("COMMIT")
        self._committed = True

    async def rollback(self) -> None:
        await self.connection.execute("ROLLBACK")
        self._rolled_back = True


def locking_transaction(engine: PostgresEngine, tenant_id: str, user_id: str) -> LockingTransaction | None:
    """A transaction that begins holding the user's lock, or None when an id is not plain."""
    if _PLAIN.fullmatch(tenant_id) is None or _PLAIN.fullmatch(user_id) is None:
        return None
    return LockingTransaction(engine, tenant_id, user_id)


def holds_user_lock(transaction: Any, tenant_id: str, user_id: str) -> bool:
    """True when ``transaction`` (the engine's current one) began holding this user's lock."""
    return isinstance(transaction, LockingTransaction) and transaction.locked_user == (tenant_id, user_id)
