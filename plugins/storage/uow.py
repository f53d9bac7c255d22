"""The unit of work on Piccolo: one transaction, rolled back unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from .directory import PiccoloDirectory
from .tenant_scope import PiccoloTenantScope

__all__ = ["PiccoloUnitOfWork", "PiccoloUnitOfWorkFactory"]


class PiccoloUnitOfWork:
    def __init__(self, engine: Engine[Any], *, write: bool) -> None:
        self._engine = engine
        self._write = write
        self._tx: Any = None
        self._committed = False
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
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None and not self._committed:
            await self._tx.rollback()
        await self._tx.__aexit__(exc_type, exc, tb)


class PiccoloUnitOfWorkFactory:
    def __init__(self, engine: Engine[Any]) -> None:
        self.engine = engine

    def __call__(self, *, write: bool = False) -> PiccoloUnitOfWork:
        return PiccoloUnitOfWork(self.engine, write=write)
