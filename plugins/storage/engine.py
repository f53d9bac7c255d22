"""Database engines from settings: SQLite (WAL, busy timeout) or a PostgreSQL pool."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from ..metrics import count_statements
from .pg_connection import StintConnection
from .tables import ALL_TABLES

__all__ = ["SQLITE_PAGE_SIZE", "bind", "close", "open_engine", "pg_config"]

log = logging.getLogger("stint.storage")

# Seconds a writer waits for SQLite's lock before giving up: long enough for a
# burst of concurrent requests on one machine, short enough to surface a stuck one.
_SQLITE_BUSY_TIMEOUT = 30


#: Bytes per page of a new SQLite database (SQLite's default: 4096). A big write updates a
#: quarter as many B-tree pages with 16 KiB ones — fewer splits, WAL frames and page
#: lookups: a 100,000-row import held the write lock with 35–45% less CPU (docs/benchmarks.md,
#: Imports), while a one-worklog write costs about a fifth more CPU (0.3 ms) and writes four
#: times the WAL bytes (its dozen pages, 200 KB).
SQLITE_PAGE_SIZE = 16384


def pg_config(url: str) -> dict[str, object]:
    """asyncpg connection arguments from a ``postgres://`` URL."""
    parsed = urlparse(url)
    config: dict[str, object] = {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 5432,
        "database": (parsed.path or "/postgres").lstrip("/") or "postgres",
    }
    if parsed.username:
        config["user"] = unquote(parsed.username)
    if parsed.password:
        config["password"] = unquote(parsed.password)
    return config


async def _keep_session(connection: object) -> None:
    """The pool's reset when a connection comes back: nothing beyond asyncpg's own ROLLBACK
    of an unfinished transaction. Stint never changes a session (no SET, LISTEN, cursors
    outside a transaction or session-level advisory locks), so the default ``RESET ALL; …``
    would be one more round trip on every unit of work for nothing."""


async def open_engine(database_url: str, *, pool_size: int = 10) -> Engine[Any]:
    """An engine for ``database_url``, ready to use (pool started, WAL on)."""
    if database_url.startswith(("postgres://", "postgresql://")):
        engine = PostgresEngine(config=pg_config(database_url))
        await engine.start_connection_pool(
            min_size=1, max_size=pool_size, reset=_keep_session, init=count_statements,
            connection_class=StintConnection,
        )
        return engine
    path = database_url.removeprefix("sqlite:///")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # WAL is a property of the file: readers no longer block the writer.
    with sqlite3.connect(path) as connection:
        # So is the page size, fixed when the file is created: this takes on a new database
        # only (an existing one keeps its own until converted, see docs/deploy.md).
        connection.execute(f"PRAGMA page_size = {SQLITE_PAGE_SIZE}")
        connection.execute("PRAGMA journal_mode=WAL")
    return SQLiteEngine(path=path, timeout=_SQLITE_BUSY_TIMEOUT)


def bind(engine: Engine[Any]) -> None:
    """Point every table at ``engine`` (one database per process, or per test)."""
    for table in ALL_TABLES:
        table._meta.db = engine


#: Seconds a closing pool waits for its connections to come back before cutting them.
_CLOSE_SECONDS = 10.0


async def close(engine: Engine[Any]) -> None:
    """Close the pool; a connection still held after ``_CLOSE_SECONDS`` (a job that ignored
    its cancellation at shutdown) is cut rather than left to hang the process's exit."""
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        pool = engine.pool
        try:
            await asyncio.wait_for(asyncio.shield(pool.close()), _CLOSE_SECONDS)
        except TimeoutError:
            log.warning("database connections still in use after %ss at shutdown; closing them",
                        _CLOSE_SECONDS)
            pool.terminate()
        engine.pool = None
