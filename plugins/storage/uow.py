"""The unit of work on Piccolo: one transaction, rolled back unless committed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self

from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from . import changes
from .directory import PiccoloDirectory
from .tenant_scope import PiccoloTenantScope

__all__ = ["AfterCommit", "PiccoloUnitOfWork", "PiccoloUnitOfWorkFactory"]

log = logging.getLogger("stint.storage")

#: Called after a commit with the scopes it changed (see ``changes.py``): the cache's bump.
AfterCommit = Callable[[set[str]], Awaitable[None]]


class PiccoloUnitOfWork:
    def __init__(self, engine: Engine[Any], *, write: bool, after_commit: AfterCommit | None = None) -> None:
        self._engine = engine
        self._write = write
        self._tx: Any = None
        self._committed = False
        self._after_commit = after_commit
        self._changes: set[str] = set()
        self._collecting: Any = None
        self.directory = PiccoloDirectory(engine)

    @property
    def is_postgres(self) -> bool:
        return self._engine.engine_type == "postgres"

    def tenant(self, tenant_id: str) -> PiccoloTenantScope:
        if not tenant_id:
            raise ValueError("a tenant scope needs a tenant id")
        return PiccoloTenantScope(self._engine, tenant_id)

    async def commit(self) -> None:
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

    async def __aenter__(self) -> Self:
        if self._engine.current_transaction.get() is not None:
            # A nested unit of work would silently join the outer transaction and
            # its commit would mean nothing: refuse it loudly instead.
            raise RuntimeError("units of work do not nest")
        if isinstance(self._engine, SQLiteEngine):
            # SQLite has no row locks: a writer takes the database's write lock at
            # BEGIN, so "read, check, write" cannot interleave with another writer.
            kind = TransactionType.immediate if self._write else TransactionType.deferred
            self._tx = self._engine.transaction(transaction_type=kind)
        else:
            self._tx = self._engine.transaction()
        await self._tx.__aenter__()
        self._collecting = changes.collecting(self._changes)
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
        if exc is None and not self._committed:
            await self._tx.rollback()
        await self._tx.__aexit__(exc_type, exc, tb)


class PiccoloUnitOfWorkFactory:
    def __init__(
        self, engine: Engine[Any], *, after_commit: AfterCommit | None = None, decision_cache: Any = None
    ) -> None:
        self.engine = engine
        #: Bootstrap sets this to the access-decision cache's ``bump``.
        self.after_commit = after_commit
        #: The process's access-decision cache: ``check_access`` uses it unless given another.
        self.decision_cache = decision_cache

    def __call__(self, *, write: bool = False) -> PiccoloUnitOfWork:
        return PiccoloUnitOfWork(self.engine, write=write, after_commit=self.after_commit)
