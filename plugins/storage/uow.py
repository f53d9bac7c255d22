"""The unit of work on Piccolo.

A **write** unit of work is one transaction, rolled back unless committed. A **read** unit
of work (``uow()``) on SQLite is a deferred transaction (one snapshot for all its reads);
on PostgreSQL it holds one pooled connection *without* a transaction: under PostgreSQL's
READ COMMITTED (Stint never raises it) a transaction gives every statement its own
snapshot anyway, so ``BEGIN``/``ROLLBACK`` bought nothing but two round trips per read.
The price is that a read unit of work may not write, lock rows or commit: its
connection refuses any statement other than a plain ``SELECT`` (see ``_ReadConnection``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType

from core.tracking.feed import ChangeFeed
from core.tracking.ports import StagedWorklogs

from . import changes
from .directory import PiccoloDirectory
from .oauth_repo import PiccoloOAuthStore
from .payment_records import PiccoloPaymentRecords
from .renewals_repo import PiccoloRenewalStore
from .tenant_scope import PiccoloTenantScope
from .tracking_repo import PiccoloTrackingRepo

__all__ = ["AfterCommit", "PiccoloUnitOfWork", "PiccoloUnitOfWorkFactory", "ReadOnlyViolation"]

log = logging.getLogger("stint.storage")

# What a read unit of work may run on PostgreSQL: a SELECT (or WITH … SELECT) that neither
# changes rows nor locks them. Checked on the statement text Piccolo sends (values travel
# as parameters, never in the text); the cheap substring tests spare the regular
# expressions on the usual plain SELECT.
_LOCKS = re.compile(r"\bfor\s+(no\s+key\s+update|update|key\s+share|share)\b")
_WRITES = re.compile(r"\b(insert\s+into|update\s+\S+\s+set|delete\s+from)\b")


class ReadOnlyViolation(RuntimeError):
    """A read unit of work tried to write, lock or commit: make it ``uow(write=True)``."""


def _check_read(query: str) -> None:
    text = query.lstrip(" \t\r\n(").lower()
    if text.startswith("select"):
        writes = False
    elif text.startswith("with"):
        writes = _WRITES.search(text) is not None
    else:
        writes = True
    if writes or ("for" in text and _LOCKS.search(text) is not None):
        raise ReadOnlyViolation(f"a read unit of work runs only plain SELECTs, not: {query[:120]!r}")


class _ReadConnection:
    """The pooled connection of a PostgreSQL read unit of work, for SELECTs only."""

    __slots__ = ("_connection",)

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def fetch(self, query: str, *args: Any, **kwargs: Any) -> Any:
        _check_read(query)
        return await self._connection.fetch(query, *args, **kwargs)

    async def execute(self, query: str, *args: Any, **kwargs: Any) -> Any:
        _check_read(query)
        return await self._connection.execute(query, *args, **kwargs)


class _ReadSession:
    """Stands in Piccolo's "current transaction" slot during a PostgreSQL read unit of work.

    Piccolo runs every query of the task on ``.connection`` (one pooled connection, no
    ``BEGIN``); the slot being taken keeps "units of work do not nest" true, and a Piccolo
    transaction opened inside joins this session, whose commit is refused.
    """

    __slots__ = ("connection",)

    def __init__(self, connection: Any) -> None:
        self.connection = _ReadConnection(connection)

    async def commit(self) -> None:
        raise ReadOnlyViolation("a read unit of work cannot commit: use uow(write=True)")

    async def rollback(self) -> None:
        return None


#: Seconds between a SQLite writer's tries for the database's write lock while another
#: connection holds it: short, so that a write queued behind a big one (an import holding
#: the lock for a second) starts within milliseconds of its commit. SQLite's own busy
#: handler sleeps 1, 2, 5, … ms, then 100 ms at a time: a write that waited longer than a
#: quarter second started up to 100 ms after the lock was free (docs/benchmarks.md, Imports).
_LOCK_STEPS = (0.001, 0.002, 0.004, 0.008)
_LOCK_STEP = 0.01


async def _begin_immediate(connection: Any, timeout: float) -> None:
    """``BEGIN IMMEDIATE``, waiting for the write lock up to ``timeout`` seconds (the
    engine's busy timeout) in ``_LOCK_STEPS``, asleep on the event loop rather than in
    SQLite's busy handler; every other statement keeps that handler."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    await connection.execute("PRAGMA busy_timeout = 0")
    try:
        for step in itertools.chain(_LOCK_STEPS, itertools.repeat(_LOCK_STEP)):
            try:
                await connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or loop.time() >= give_up:
                    raise
            await asyncio.sleep(step)
    finally:
        await connection.execute(f"PRAGMA busy_timeout = {round(timeout * 1000)}")


class _WriteTransaction(SQLiteTransaction):
    """SQLite's write transaction: ``BEGIN IMMEDIATE`` (the write lock at once, so that
    "read, check, write" cannot interleave with another writer), waited for in short steps."""

    def __init__(self, engine: SQLiteEngine) -> None:
        super().__init__(engine, transaction_type=TransactionType.immediate)

    async def begin(self) -> None:
        try:
            await _begin_immediate(self.connection, float(self.engine.connection_kwargs.get("timeout", 5.0)))
        except BaseException:
            # Piccolo leaves the connection open when BEGIN fails.
            await self.connection.close()
            raise


class _StagingTransaction(_WriteTransaction):
    """SQLite's write transaction for a unit of work given ``staged`` worklogs: on its own
    connection, *before* ``BEGIN IMMEDIATE`` takes the database's write lock, the worklogs'
    rows go into TEMP tables (private to the connection, closed with it); under the lock
    ``add_staged_worklogs`` moves them with one ``INSERT … SELECT`` each. Every other
    tenant's write waits while the lock is held; binding 200,000 rows' values outside it
    halved it for a 100,000-row import (docs/benchmarks.md, Imports)."""

    def __init__(self, engine: SQLiteEngine, staged: StagedWorklogs) -> None:
        super().__init__(engine)
        self.staged = staged
        #: Whose worklogs were staged (None until they are).
        self.staged_users: frozenset[str] | None = None

    async def begin(self) -> None:
        try:
            self.staged_users = await PiccoloTrackingRepo(self.engine, self.staged.tenant_id).stage_worklogs(
                self.connection, self.staged)
        except BaseException:
            # Piccolo leaves the connection open when BEGIN fails: close it, and the TEMP rows.
            await self.connection.close()
            raise
        await super().begin()


def _pool(engine: Engine[Any]) -> Any:
    """The engine's asyncpg pool (asyncpg ships no types), or None: SQLite, or no pool started."""
    return engine.pool if isinstance(engine, PostgresEngine) else None


#: Called after a commit with the scopes it changed (see ``changes.py``): the cache's bump.
AfterCommit = Callable[[set[str]], Awaitable[None]]


class PiccoloUnitOfWork:
    def __init__(
        self, engine: Engine[Any], *, write: bool, after_commit: AfterCommit | None = None,
        feed: ChangeFeed | None = None, staged: StagedWorklogs | None = None,
    ) -> None:
        if staged is not None and not write:
            raise ValueError("only a write unit of work adds staged worklogs")
        self._engine = engine
        self._write = write
        self._staged = staged
        self._tx: Any = None
        #: PostgreSQL read units of work: the pooled connection and the context token.
        self._connection: Any = None
        self._token: Any = None
        self._committed = False
        self._after_commit = after_commit
        self._changes: set[str] = set()
        self._collecting: Any = None
        #: Timer and worklog changes, published on ``feed`` after the commit.
        self._feed = feed
        self._tracked: changes.Tracked = {}
        self._collecting_tracking: Any = None
        self.directory = PiccoloDirectory(engine)

    @property
    def is_postgres(self) -> bool:
        return self._engine.engine_type == "postgres"

    def tenant(self, tenant_id: str) -> PiccoloTenantScope:
        if not tenant_id:
            raise ValueError("a tenant scope needs a tenant id")
        return PiccoloTenantScope(self._engine, tenant_id)

    def renewals(self) -> PiccoloRenewalStore:
        return PiccoloRenewalStore(self._engine)

    def payments(self) -> PiccoloPaymentRecords:
        return PiccoloPaymentRecords(self._engine)

    def oauth(self) -> PiccoloOAuthStore:
        return PiccoloOAuthStore(self._engine)

    async def commit(self) -> None:
        if self._tx is None:
            raise ReadOnlyViolation("a read unit of work cannot commit: use uow(write=True)")
        await self._tx.commit()
        self._committed = True
        if self._changes and self._after_commit is not None:
            scopes, self._changes = self._changes, set()
            try:
                await self._after_commit(scopes)
            except Exception:
                # The change is committed; a cache that missed it forgets it within its TTL.
                log.exception(
                    "could not invalidate cached access decisions", extra={"scopes": sorted(scopes)}
                )
        if self._tracked and self._feed is not None:
            tracked, self._tracked = self._tracked, {}
            try:
                await self._feed.publish(list(tracked.values()))
            except Exception:
                # Committed all the same; open streams see it on their user's next change.
                log.exception("could not publish tracking changes")

    async def __aenter__(self) -> Self:
        if self._engine.current_transaction.get() is not None:
            # A nested unit of work would silently join the outer transaction and
            # its commit would mean nothing: refuse it loudly instead.
            raise RuntimeError("units of work do not nest")
        if isinstance(self._engine, SQLiteEngine):
            # SQLite has no row locks: a writer takes the database's write lock at
            # BEGIN, so "read, check, write" cannot interleave with another writer.
            if self._staged is not None:
                self._tx = _StagingTransaction(self._engine, self._staged)
            elif self._write:
                self._tx = _WriteTransaction(self._engine)
            else:
                self._tx = self._engine.transaction(transaction_type=TransactionType.deferred)
        elif self._write or (pool := _pool(self._engine)) is None:
            self._tx = self._engine.transaction()
        else:
            self._connection = await pool.acquire()
            self._token = self._engine.current_transaction.set(_ReadSession(self._connection))
            self._collecting = changes.collecting(self._changes)
            return self
        await self._tx.__aenter__()
        self._collecting = changes.collecting(self._changes)
        self._collecting_tracking = changes.collecting_tracking(self._tracked)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._collecting is not None:
            changes.stop_collecting(self._collecting)
            self._collecting = None
        if self._collecting_tracking is not None:
            changes.stop_collecting_tracking(self._collecting_tracking)
            self._collecting_tracking = None
        if self._connection is not None:
            self._engine.current_transaction.reset(self._token)
            connection, self._connection = self._connection, None
            pool = _pool(self._engine)
            # Only a PostgreSQL engine with a pool lends a read unit of work its connection.
            assert pool is not None
            await pool.release(connection)
            return
        if exc is None and not self._committed:
            await self._tx.rollback()
        try:
            await self._tx.__aexit__(exc_type, exc, tb)
        except Exception:
            if exc is None:
                raise
            # The rollback after a failure failed too (e.g. a commit cancelled mid-flight at
            # shutdown leaves the transaction "in error state"): the original error — a
            # cancellation included — is what the caller must see, not this one.
            log.warning("rollback after %s failed", type(exc).__name__, exc_info=True)
            if isinstance(self._engine, PostgresEngine):
                # Piccolo stops before giving the connection back and leaving the transaction's
                # context: do both, or the pool never closes and the next unit "nests".
                pool = _pool(self._engine)
                if pool is not None:
                    with contextlib.suppress(Exception):
                        await pool.release(self._tx.connection)
                with contextlib.suppress(Exception):
                    self._engine.current_transaction.reset(self._tx.context)


class PiccoloUnitOfWorkFactory:
    def __init__(
        self, engine: Engine[Any], *, after_commit: AfterCommit | None = None, decision_cache: Any = None,
        feed: ChangeFeed | None = None,
    ) -> None:
        self.engine = engine
        #: Where committed timer and worklog changes are published (bootstrap sets it).
        self.feed = feed
        #: Bootstrap sets this to the access-decision cache's ``bump``.
        self.after_commit = after_commit
        #: The process's access-decision cache: ``check_access`` uses it unless given another.
        self.decision_cache = decision_cache

    def __call__(self, *, write: bool = False, staged: StagedWorklogs | None = None) -> PiccoloUnitOfWork:
        return PiccoloUnitOfWork(self.engine, write=write, after_commit=self.after_commit, feed=self.feed,
                                 staged=staged)
