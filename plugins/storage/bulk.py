"""Many rows in few statements, inside the current write unit of work's transaction.

One statement per row costs a round trip (and on Piccolo its query building) each: a
100,000-row import took minutes. One statement for all of them breaks the drivers'
limits instead: asyncpg takes at most 32,767 arguments, SQLite 999 variables (32,766
since 3.32). So:

- PostgreSQL: ``COPY … FROM STDIN`` (asyncpg ``copy_records_to_table``) on the unit of
  work's connection — the fastest way in, and part of its transaction; rows whose key may
  exist already go through one ``executemany`` of ``INSERT … ON CONFLICT DO NOTHING``
  (COPY cannot skip a row);
- SQLite: multi-row ``INSERT … VALUES (…), (…)`` statements, as many rows each as the
  library's variable limit allows for the table's column count.

Table and column names come from this package only; values always travel as parameters.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.sqlite import convert_datetime_in

__all__ = [
    "constant", "insert_rows", "insert_staged", "rows_per_statement", "sqlite_variable_limit",
    "stage_rows", "update_rows", "write_connection",
]

#: From this many rows on PostgreSQL, COPY: below it a pipelined ``executemany`` is as fast
#: (measured level at 10–100 rows; at 1,000 COPY took 20 ms against 26 ms) and needs no
#: column-type lookup; one row is a single INSERT (COPY took 5–6 ms for it, INSERT 3 ms).
_COPY_FROM = 100
#: SQLite's page cache (KiB) for a unit of work writing more than one statement of rows: the
#: indexes of 100,000 new worklogs outgrow the default 2 MiB and spill pages mid-transaction,
#: under the write lock. Measured: 3.1 s against 3.8 s for 100,000 worklogs (loaded machine).
_BULK_CACHE_KIB = 64 * 1024
#: The variable limit of SQLite before 3.32 (and the compile-time default of old builds).
_OLD_SQLITE_LIMIT = 999


@functools.cache
def sqlite_variable_limit() -> int:
    """The most ``?`` one statement may hold in the SQLite library this process uses."""
    probe = sqlite3.connect(":memory:")
    try:
        return int(probe.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    except AttributeError:  # pragma: no cover - Python < 3.11 has no getlimit
        return 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else _OLD_SQLITE_LIMIT
    finally:
        probe.close()


def rows_per_statement(columns: int, limit: int) -> int:
    """How many rows of ``columns`` values fit in one statement of at most ``limit`` variables."""
    if columns < 1 or limit < columns:
        raise ValueError(f"{columns} columns do not fit in {limit} variables")
    return limit // columns


def constant(engine: Engine[Any], value: datetime) -> Any:
    """``value``, for a column that holds it in every row: on SQLite already as the text
    Piccolo stores, converted once rather than by the driver in every row (two of a
    worklog row's three timestamps are the same ``at``; converting them cost a quarter of
    the write time, under the write lock)."""
    return convert_datetime_in(value) if engine.engine_type == "sqlite" else value


def _batches(rows: Sequence[tuple[Any, ...]], size: int) -> Iterator[Sequence[tuple[Any, ...]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def write_connection(engine: Engine[Any]) -> Any:
    """The write unit of work's connection; bulk writes outside one would not be all or nothing."""
    transaction = engine.current_transaction.get()
    connection = getattr(transaction, "connection", None)
    read_only = engine.engine_type == "postgres" and not hasattr(connection, "copy_records_to_table")
    if connection is None or read_only:
        # No transaction, or a PostgreSQL read unit of work (its connection runs SELECTs only).
        raise RuntimeError("bulk inserts run inside a write unit of work: uow(write=True)")
    return connection


async def insert_rows(
    engine: Engine[Any], table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]],
    *, skip_conflicts_on: Sequence[str] = (),
) -> None:
    """Insert ``rows`` (values in ``columns`` order) into ``table`` in the current transaction.

    ``skip_conflicts_on`` names a unique key: a row whose key exists already is left out
    (``ON CONFLICT (…) DO NOTHING``). Without it every row must be new, and a duplicate
    fails the whole statement (and so the unit of work).
    """
    if not rows:
        return
    connection = write_connection(engine)
    names = ", ".join(columns)
    conflict = f" ON CONFLICT ({', '.join(skip_conflicts_on)}) DO NOTHING" if skip_conflicts_on else ""
    if engine.engine_type == "postgres":
        placeholders = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
        insert = f"INSERT INTO {table} ({names}) VALUES ({placeholders}){conflict}"
        if len(rows) == 1:  # a stopped timer's worklog
            await connection.execute(insert, *rows[0])
        elif conflict or len(rows) < _COPY_FROM:
            await connection.executemany(insert, rows)
        else:
            await connection.copy_records_to_table(table, records=rows, columns=list(columns))
        return
    if len(rows) > rows_per_statement(len(columns), sqlite_variable_limit()):
        # The connection lives as long as the unit of work (Piccolo opens one per transaction).
        cursor = await connection.execute(f"PRAGMA cache_size = -{_BULK_CACHE_KIB}")
        await cursor.close()
    await _insert_batches(connection, table, columns, rows, conflict)


async def _insert_batches(
    connection: Any, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]], conflict: str = ""
) -> None:
    """Multi-row SQLite INSERTs, as many rows each as the variable limit allows."""
    names = ", ".join(columns)
    one_row = "(" + ", ".join(["?"] * len(columns)) + ")"
    size = rows_per_statement(len(columns), sqlite_variable_limit())
    for batch in _batches(rows, size):
        values = [value for row in batch for value in row]
        sql = f"INSERT INTO {table} ({names}) VALUES {', '.join([one_row] * len(batch))}{conflict}"
        cursor = await connection.execute(sql, values)
        await cursor.close()


def _staging_table(table: str) -> str:
    return f"temp.staged_{table}"


async def stage_rows(
    connection: Any, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """SQLite, before ``BEGIN IMMEDIATE``: ``rows`` into a TEMP table on ``connection``.

    A TEMP table lives in the connection's own temporary database: writing it takes no
    lock other connections wait for, and nobody else ever sees it; it goes when the
    connection closes (Piccolo opens one per transaction), committed or not. Binding the
    values — most of a bulk write's time — is done here, outside the write lock;
    ``insert_staged`` then moves the rows under it in one ``INSERT … SELECT``.
    """
    names = ", ".join(columns)
    staging = _staging_table(table)
    # In memory: written and read back once, and freed with the connection, never on disk.
    for sql in ("PRAGMA temp_store = MEMORY", f"DROP TABLE IF EXISTS {staging}",
                f"CREATE TEMP TABLE staged_{table} AS SELECT {names} FROM main.{table} WHERE 0",
                "BEGIN"):
        cursor = await connection.execute(sql)
        await cursor.close()
    try:
        await _insert_batches(connection, staging, columns, rows)
    except BaseException:
        cursor = await connection.execute("ROLLBACK")
        await cursor.close()
        raise
    # One transaction on the temporary database only (one journal sync, not one a statement).
    cursor = await connection.execute("COMMIT")
    await cursor.close()


async def insert_staged(engine: Engine[Any], table: str, columns: Sequence[str]) -> None:
    """Move the rows ``stage_rows`` staged on this write unit of work's connection into
    ``table``, in its transaction. The staging table is not dropped here: freeing its pages
    would be more work under the lock, and it goes with the connection after the commit."""
    connection = write_connection(engine)
    names = ", ".join(columns)
    staging = _staging_table(table)
    cursor = await connection.execute(f"PRAGMA cache_size = -{_BULK_CACHE_KIB}")
    await cursor.close()
    cursor = await connection.execute(f"INSERT INTO main.{table} ({names}) SELECT {names} FROM {staging}")
    await cursor.close()


async def update_rows(
    engine: Engine[Any], table: str, columns: Sequence[str], keys: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """``UPDATE table SET columns… WHERE keys…`` once per row, as one ``executemany`` in the
    current transaction; each row holds the ``columns`` values, then the ``keys`` values."""
    if not rows:
        return
    connection = write_connection(engine)
    if engine.engine_type == "postgres":
        names = [f"${n}" for n in range(1, len(columns) + len(keys) + 1)]
    else:
        names = ["?"] * (len(columns) + len(keys))
    assignments = ", ".join(f"{column} = {name}" for column, name in zip(columns, names, strict=False))
    conditions = " AND ".join(
        f"{key} = {name}" for key, name in zip(keys, names[len(columns):], strict=True)
    )
    result = await connection.executemany(f"UPDATE {table} SET {assignments} WHERE {conditions}", rows)
    if engine.engine_type != "postgres":
        await result.close()  # aiosqlite hands back a cursor
