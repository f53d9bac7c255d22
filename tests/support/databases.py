"""Fresh databases per test, cloned from a template migrated once per session: a SQLite file
copied into the test's tmp_path, or a PostgreSQL database (``CREATE DATABASE … TEMPLATE …``).

Migrating every test's database from nothing was a fifth of the suite's time on SQLite."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import sqlite3
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade

from .services import POSTGRES_ADMIN_URL

_BASE = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]


def _run(coro: Any) -> Any:
    """Run ``coro`` to completion, also from inside a running event loop (async fixtures)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


#: Test databases carry the creating process's id, so a later run can tell the ones a killed
#: run left behind (its process is gone) from the ones another live run is using.
_PID = os.getpid()


def _orphans(names: list[str]) -> list[str]:
    """Test databases whose creating process no longer runs on this machine."""
    found = []
    for name in names:
        match = re.fullmatch(r"stint_(?:test|tpl)_(\d+)_[0-9a-f]+", name)
        if match is None:
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            found.append(name)
        except PermissionError:
            pass  # someone else's live process
    return found


def drop_orphans() -> list[str]:
    """Drop the test databases interrupted runs left behind (only against a local server,
    where a process id means something); the names dropped."""
    if urlsplit(POSTGRES_ADMIN_URL).hostname not in ("127.0.0.1", "localhost", "::1"):
        return []

    async def sweep() -> list[str]:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            rows = await connection.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'stint\\_%'")
            gone = _orphans([row["datname"] for row in rows])
            for name in gone:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return gone
        finally:
            await connection.close()

    return list(_run(sweep()))


def create_template() -> str:
    """A migrated template database; its name is returned."""
    drop_orphans()
    name = f"stint_tpl_{_PID}_{uuid.uuid4().hex[:12]}"

    async def make() -> None:
        await _admin(f'CREATE DATABASE "{name}"')
        engine = await storage_engine.open_engine(f"{_BASE}/{name}", pool_size=2)
        try:
            await upgrade(engine)
        finally:
            await storage_engine.close(engine)

    _run(make())
    return name


def create_from_template(template: str) -> tuple[str, str]:
    """(name, url) of a new database cloned from ``template``."""
    name = f"stint_test_{_PID}_{uuid.uuid4().hex[:12]}"
    _run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return name, f"{_BASE}/{name}"


def create_empty() -> tuple[str, str]:
    name = f"stint_test_{_PID}_{uuid.uuid4().hex[:12]}"
    _run(_admin(f'CREATE DATABASE "{name}"'))
    return name, f"{_BASE}/{name}"


def drop(name: str) -> None:
    _run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def create_sqlite_template(path: Path) -> None:
    """A migrated SQLite database at ``path``."""

    async def make() -> None:
        engine = await storage_engine.open_engine(f"sqlite:///{path}")
        try:
            await upgrade(engine)
        finally:
            await storage_engine.close(engine)

    _run(make())


def copy_sqlite(template: Path, path: Path) -> None:
    """A copy of ``template`` at ``path`` through SQLite's backup API, which copies a
    consistent database whatever its journal mode left beside the file."""
    source = sqlite3.connect(template)
    target = sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
