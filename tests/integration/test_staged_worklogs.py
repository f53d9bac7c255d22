"""Staged worklogs (``uow(write=True, staged=…)``): on SQLite an import's rows go into TEMP
tables on the write unit of work's own connection before it takes the write lock, and
``add_staged_worklogs`` moves them under it; elsewhere they are added as ``add_worklogs``
adds them. Either way all or nothing, and nothing staged is seen by anyone else; the import
is recorded once (``worklog_import``), each worklog's "added" history entry implicit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.clock import FixedClock
from core.ids import new_id
from core.services.signup import signup
from core.tracking import Worklog, WorklogFlag, create_worklog, draft_worklog
from core.tracking.history import ChangeAction
from core.tracking.ports import StagedWorklogs
from plugins.identity.passwords import Argon2Hasher
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade
from plugins.storage.tracking_tables import WorklogChangeRow, WorklogImportRow, WorklogRow
from plugins.storage.uow import PiccoloUnitOfWorkFactory

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FIRST = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)


class World:
    def __init__(self, uow: PiccoloUnitOfWorkFactory, tenant: Any, admin: Any) -> None:
        self.uow, self.tenant, self.admin = uow, tenant, admin

    def worklogs(self, count: int) -> list[Worklog]:
        return [create_worklog(draft_worklog(self.admin.id, FIRST + timedelta(minutes=15 * n), 900,
                                             origin=WorklogFlag.IMPORTED), new_id())
                for n in range(count)]

    async def stored(self) -> tuple[int, int, list[int]]:
        """The tenant's worklogs, history rows and its imports' worklog counts."""
        return (await WorklogRow.count().where(WorklogRow.tenant_id == self.tenant.id),
                await WorklogChangeRow.count().where(WorklogChangeRow.tenant_id == self.tenant.id),
                [row["worklogs"] for row in await WorklogImportRow.select(WorklogImportRow.worklogs).where(
                    WorklogImportRow.tenant_id == self.tenant.id)])


async def _world(database_url: str) -> AsyncIterator[World]:
    engine = await storage_engine.open_engine(database_url, pool_size=2)
    storage_engine.bind(engine)
    await upgrade(engine)
    uow = PiccoloUnitOfWorkFactory(engine)
    made = await signup(uow, Argon2Hasher(fast=True), FixedClock(NOW), slug="acme", name="Acme",
                        deployment="cloud", admin_email="admin@acme.test",
                        admin_password="correct horse battery", admin_name="Admin", trial_days=28)
    yield World(uow, made.tenant, made.admin)
    await storage_engine.close(engine)


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    async for made in _world(database_url):
        yield made


@pytest.fixture
async def sqlite_world(sqlite_url: str) -> AsyncIterator[World]:
    async for made in _world(sqlite_url):
        yield made


async def test_staged_worklogs_are_stored_with_one_record_of_their_import_and_each_ones_history(
    world: World,
) -> None:
    worklogs = world.worklogs(2_500)  # more rows than one SQLite statement takes
    staged = StagedWorklogs(world.tenant.id, worklogs, NOW)

    async with world.uow(write=True, staged=staged) as work:
        await work.tenant(world.tenant.id).tracking().add_staged_worklogs(staged)
        await work.commit()

    assert await world.stored() == (2_500, 0, [2_500])
    async with world.uow() as work:
        repo = work.tenant(world.tenant.id).tracking()
        last = await repo.worklog(worklogs[-1].id)
        history = await repo.worklog_history(worklogs[-1].id)
    assert last == worklogs[-1]
    assert [(c.action, c.at, c.actor_id, c.source) for c in history] == [
        (ChangeAction.ADDED, NOW, None, "import")]
    assert history[0].after["length_s"] == 900


def test_staged_worklogs_are_an_imports_only() -> None:
    manual = create_worklog(draft_worklog("u1", FIRST, 900), new_id())

    with pytest.raises(ValueError, match="flagged imported"):
        StagedWorklogs("t1", [manual], NOW)


async def test_on_sqlite_the_rows_wait_in_the_connections_temp_tables_until_they_are_added(
    sqlite_world: World,
) -> None:
    staged = StagedWorklogs(sqlite_world.tenant.id, sqlite_world.worklogs(3), NOW)

    async with sqlite_world.uow(write=True, staged=staged) as work:
        waiting = await WorklogRow.raw("SELECT count(*) AS worklogs FROM temp.staged_worklog")
        assert waiting == [{"worklogs": 3}]
        assert await sqlite_world.stored() == (0, 0, [])
        await work.tenant(sqlite_world.tenant.id).tracking().add_staged_worklogs(staged)
        await work.commit()

    assert await sqlite_world.stored() == (3, 0, [3])


async def test_a_staged_unit_of_work_that_fails_stores_nothing_and_leaves_no_staged_rows(
    sqlite_world: World,
) -> None:
    staged = StagedWorklogs(sqlite_world.tenant.id, sqlite_world.worklogs(3), NOW)

    with pytest.raises(RuntimeError, match="refused"):
        async with sqlite_world.uow(write=True, staged=staged) as work:
            await work.tenant(sqlite_world.tenant.id).tracking().add_staged_worklogs(staged)
            raise RuntimeError("refused after the rows were added")

    assert await sqlite_world.stored() == (0, 0, [])
    # The next unit of work has a connection of its own: no staging table, in any database.
    async with sqlite_world.uow(write=True):
        tables = await WorklogRow.raw(
            "SELECT name FROM sqlite_temp_master UNION ALL SELECT name FROM sqlite_master"
            " WHERE name LIKE 'staged_%'"
        )
    assert tables == []


async def test_worklogs_other_than_the_staged_ones_are_added_as_they_are(world: World) -> None:
    """An import checked again under the lock adds other worklogs than it staged."""
    staged = StagedWorklogs(world.tenant.id, world.worklogs(3), NOW)
    other = StagedWorklogs(world.tenant.id, world.worklogs(2), NOW)

    async with world.uow(write=True, staged=staged) as work:
        await work.tenant(world.tenant.id).tracking().add_staged_worklogs(other)
        await work.commit()

    assert await world.stored() == (2, 0, [2])
