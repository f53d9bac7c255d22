"""The unit of work on both engines: writes are transactions; reads on PostgreSQL run on one
pooled connection without BEGIN/ROLLBACK and refuse to write, lock or commit."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from piccolo.engine.sqlite import SQLiteEngine

from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade
from plugins.storage.tables import Enterprise
from plugins.storage.uow import PiccoloUnitOfWorkFactory, ReadOnlyViolation

NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

postgres_only = pytest.mark.postgres


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[Any]:
    engine = await storage_engine.open_engine(database_url, pool_size=1)
    storage_engine.bind(engine)
    await upgrade(engine)  # PostgreSQL's copy of the template already is: nothing to do there
    yield engine
    await storage_engine.close(engine)


@pytest.fixture
async def pg_engine(postgres_url: str) -> AsyncIterator[Any]:
    # One connection in the pool: a unit of work that failed to hand it back would hang the next.
    engine = await storage_engine.open_engine(postgres_url, pool_size=1)
    storage_engine.bind(engine)
    yield engine
    await storage_engine.close(engine)


async def _activity(engine: Any) -> dict[str, Any]:
    """The backend and its transaction's start (``now()``: fixed for a whole transaction)."""
    rows = await engine.run_ddl("SELECT pg_backend_pid() AS pid, now() AS xact_start")
    return dict(rows[0])


@postgres_only
async def test_a_read_unit_of_work_on_postgresql_runs_its_statements_on_one_connection_outside_a_transaction(
    pg_engine: Any,
) -> None:
    """Each statement is its own transaction (no BEGIN was sent), and all use one backend."""
    uow = PiccoloUnitOfWorkFactory(pg_engine)
    async with uow():
        first = await _activity(pg_engine)
        second = await _activity(pg_engine)
    assert first["pid"] == second["pid"]
    assert first["xact_start"] < second["xact_start"]  # two transactions: one per statement

    async with uow(write=True):
        first = await _activity(pg_engine)
        second = await _activity(pg_engine)
    assert first["xact_start"] == second["xact_start"]  # a write unit of work is one transaction


@postgres_only
async def test_a_read_unit_of_work_refuses_to_write_and_the_row_is_not_stored(pg_engine: Any) -> None:
    uow = PiccoloUnitOfWorkFactory(pg_engine)
    with pytest.raises(ReadOnlyViolation, match="only plain SELECTs"):
        async with uow():
            await Enterprise.insert(Enterprise(id="ent1", name="Acme", created_at=NOW))
    with pytest.raises(ReadOnlyViolation):
        async with uow():
            await Enterprise.update({Enterprise.name: "Renamed"}).where(Enterprise.id == "ent1")
    with pytest.raises(ReadOnlyViolation):
        async with uow():
            await Enterprise.delete().where(Enterprise.id == "ent1")
    async with uow() as work:
        assert await Enterprise.count() == 0
        del work


@postgres_only
async def test_a_read_unit_of_work_refuses_row_locks_and_commits(pg_engine: Any) -> None:
    uow = PiccoloUnitOfWorkFactory(pg_engine)
    with pytest.raises(ReadOnlyViolation):
        async with uow():
            await pg_engine.run_ddl("SELECT id FROM enterprise FOR UPDATE")
    with pytest.raises(ReadOnlyViolation, match="cannot commit"):
        async with uow() as work:
            await work.commit()
    with pytest.raises(ReadOnlyViolation, match="cannot commit"):
        # A Piccolo transaction opened inside joins the read session; its commit is refused too.
        async with uow(), pg_engine.transaction() as tx:
            await tx.commit()


@postgres_only
async def test_the_pooled_connection_goes_back_after_a_read_that_failed(pg_engine: Any) -> None:
    uow = PiccoloUnitOfWorkFactory(pg_engine)
    with pytest.raises(ValueError, match="boom"):
        async with uow():
            await Enterprise.count()
            raise ValueError("boom")
    async with uow(write=True) as work:  # the pool's only connection is free again
        await Enterprise.insert(Enterprise(id="ent1", name="Acme", created_at=NOW))
        await work.commit()
    async with uow():
        assert await Enterprise.select(Enterprise.name) == [{"name": "Acme"}]


async def test_units_of_work_do_not_nest_whichever_kinds(engine: Any) -> None:
    uow = PiccoloUnitOfWorkFactory(engine)
    for outer, inner in ((False, False), (False, True), (True, False), (True, True)):
        with pytest.raises(RuntimeError, match="do not nest"):
            async with uow(write=outer), uow(write=inner):
                pass
    async with uow():  # and nothing was left behind by the refusals
        assert await Enterprise.count() == 0


async def test_a_write_unit_of_work_is_rolled_back_unless_committed(engine: Any) -> None:
    uow = PiccoloUnitOfWorkFactory(engine)
    async with uow(write=True):
        await Enterprise.insert(Enterprise(id="ent1", name="Forgotten", created_at=NOW))
    async with uow(write=True) as work:
        await Enterprise.insert(Enterprise(id="ent2", name="Kept", created_at=NOW))
        await work.commit()
    async with uow():
        assert await Enterprise.select(Enterprise.name) == [{"name": "Kept"}]


async def test_a_sqlite_write_unit_of_work_waits_for_the_write_lock_and_starts_soon_after_it_is_free(
    sqlite_url: str,
) -> None:
    """Another connection holds the write lock for 0.4 s: the unit of work waits (not
    SQLite's busy handler, whose sleeps grow to 100 ms, but short steps of its own), then
    starts within a few steps of the release, with SQLite's busy timeout back on its connection."""
    engine = await storage_engine.open_engine(sqlite_url)
    storage_engine.bind(engine)
    path = sqlite_url.removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    released = 0.0

    async def release() -> None:
        nonlocal released
        await asyncio.sleep(0.4)
        other.execute("ROLLBACK")
        released = time.perf_counter()

    releasing = asyncio.create_task(release())
    uow = PiccoloUnitOfWorkFactory(engine)
    async with uow(write=True):
        started = time.perf_counter()
        rows = await engine.run_ddl("PRAGMA busy_timeout")
        await Enterprise.select(Enterprise.id)
    await releasing
    other.close()
    assert released > 0 and 0 <= started - released < 0.08
    assert rows[0]["timeout"] == 30_000


async def test_a_sqlite_write_unit_of_work_gives_up_after_the_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "busy.sqlite3"
    sqlite3.connect(path).close()
    engine = SQLiteEngine(path=str(path), timeout=0.2)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            async with PiccoloUnitOfWorkFactory(engine)(write=True):
                pass  # pragma: no cover - never reached
    finally:
        other.close()


async def test_a_new_sqlite_database_has_16_kib_pages(tmp_path: Path) -> None:
    engine = await storage_engine.open_engine(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    rows = await engine.run_ddl("PRAGMA page_size")
    assert rows[0]["page_size"] == storage_engine.SQLITE_PAGE_SIZE == 16384
