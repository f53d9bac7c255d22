"""Plain SQL for the statements every webhook (and some requests) run, on both engines.

Piccolo's query builder cost 250–400 µs per statement on the test machine, more than the
database took to run it; even ``Table.raw`` compiles its template on every call (about
45 µs a statement). A :class:`Sql` is written once with ``{}`` placeholders (Piccolo's
``raw`` syntax) and its PostgreSQL text (``$1``, ``$2`` …) is made once, at import; on
PostgreSQL :func:`fetch` runs it on the current transaction's connection — the unit of
work's, read or write, so its checks and its transaction hold — or on a pooled one, as
Piccolo would. SQLite (and an engine without a pool) goes through ``Table.raw``.

Values always travel as parameters; only column names written in this package are ever
put in the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from piccolo.table import Table

__all__ = ["Sql", "fetch", "fetch_in", "fetch_records"]


class Sql:
    __slots__ = ("postgres", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        head, *rest = text.split("{}")
        self.postgres = head + "".join(f"${n}{piece}" for n, piece in enumerate(rest, start=1))


async def fetch(table: type[Table], sql: Sql, *args: Any) -> list[dict[str, Any]]:
    """The rows ``sql`` returns (as dicts), run where Piccolo would run it."""
    engine: Any = table._meta.db
    if engine.engine_type == "postgres":
        transaction = engine.current_transaction.get()
        if transaction is not None:
            rows = await transaction.connection.fetch(sql.postgres, *args)
            return [dict(row) for row in rows]
        if engine.pool is not None:
            async with engine.pool.acquire() as connection:
                rows = await connection.fetch(sql.postgres, *args)
            return [dict(row) for row in rows]
    return list(await table.raw(sql.text, *args))


async def fetch_in(table: type[Table], sql: str, values: Sequence[Any]) -> list[dict[str, Any]]:
    """``sql`` with ``{in}`` replaced by one placeholder per value: a raw ``IN (…)`` query.

    For id lists that vary in length (a batch of a sweep). Raw because Piccolo's ``is_in``
    converts every value through its column (tens of microseconds each); ids are plain
    strings already.
    """
    placeholders = ", ".join(["{}"] * len(values))
    return list(await table.raw(sql.replace("{in}", placeholders), *values))


async def fetch_records(
    table: type[Table], sql: Sql, *args: Any, timeout: float | None = None
) -> Sequence[Sequence[Any]]:
    """The rows ``sql`` returns as asyncpg's records (read by position), on PostgreSQL in
    the current unit of work: for a page of a thousand rows, ``dict`` of each is a cost of
    its own. Elsewhere the dicts' values in the statement's column order. ``timeout``
    (seconds, PostgreSQL only): asyncpg cancels the statement on the server after it and
    raises ``TimeoutError``."""
    engine: Any = table._meta.db
    transaction = engine.current_transaction.get() if engine.engine_type == "postgres" else None
    if transaction is not None:
        connection = transaction.connection
        found: Sequence[Sequence[Any]] = await connection.fetch(sql.postgres, *args, timeout=timeout)
        return found
    return [tuple(row.values()) for row in await fetch(table, sql, *args)]
