"""Fresh databases per test: a SQLite file in tmp_path, or a PostgreSQL database cloned
from a template migrated once per session (``CREATE DATABASE … TEMPLATE …``)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid
from typing import Any

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


def create_template() -> str:
    """A migrated template database; its name is returned."""
    name = f"stint_tpl_{uuid.uuid4().hex[:12]}"

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
    name = f"stint_test_{uuid.uuid4().hex[:12]}"
    _run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return name, f"{_BASE}/{name}"


def create_empty() -> tuple[str, str]:
    name = f"stint_test_{uuid.uuid4().hex[:12]}"
    _run(_admin(f'CREATE DATABASE "{name}"'))
    return name, f"{_BASE}/{name}"


def drop(name: str) -> None:
    _run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
