"""The worklog change history as the tracking repository writes it, on both engines and in
the fake alike: every write records itself, in its own transaction, under the scope's origin."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.origin import Origin, Source
from core.tracking import Worklog, WorklogFlag
from core.tracking.history import ChangeCursor
from core.tracking.ports import StagedWorklogs
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade
from plugins.storage.tracking_repo import PiccoloTrackingRepo
from plugins.storage.tracking_tables import WorklogChangeRow
from tests.fakes.tracking import FakeTrackingRepository
from tests.fakes.unit_of_work import FakeDatabase

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BY_ANN = Origin(Source.API, "ann")

#: (tenant, origin) → that tenant's tracking repository; and the engine (None: the fake).
Repos = tuple[Callable[[str, Origin], Any], Any]


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def repos(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Repos]:
    if request.param == "fake":
        store = FakeDatabase()
        yield (lambda tenant, origin: FakeTrackingRepository(store, tenant, origin)), None
        return
    async for found in _database(request.param, tmp_path):
        yield found


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def databases_only(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Repos]:
    """As ``repos``, on the two engines only: what SQL and transactions alone can show."""
    async for found in _database(request.param, tmp_path):
        yield found


async def _database(kind: str, tmp_path: Any) -> AsyncIterator[Repos]:
    name = None
    if kind == "sqlite":
        engine = await storage_engine.open_engine(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    else:
        from tests.support import databases

        name, url = databases.create_empty()
        engine = await storage_engine.open_engine(url, pool_size=2)
    storage_engine.bind(engine)
    await upgrade(engine)
    yield (lambda tenant, origin: PiccoloTrackingRepo(engine, tenant, origin)), engine
    await storage_engine.close(engine)
    if name:
        from tests.support import databases

        databases.drop(name)


def _transaction(engine: Any) -> Any:
    # Bulk writes run inside a write unit of work's transaction; the fake needs none.
    return engine.transaction() if engine is not None else contextlib.nullcontext()


def _worklog(n: int, user: str = "ann") -> Worklog:
    return Worklog(id=f"wl{n:05d}", user_id=user, started_at=NOW - timedelta(hours=n), length_s=600,
                   billable_length_s=0, work_item=None, comment=f"n{n}", activity_type=None, added_by=user,
                   flags=frozenset({WorklogFlag.MANUAL}))


async def test_every_add_edit_and_delete_records_itself_under_the_scopes_origin(repos: Repos) -> None:
    """5,000 added at once are 5,000 "added" entries; an edit records only what it changed
    (none when it changed nothing); a batch delete keeps each worklog's last values."""
    make, engine = repos
    repo = make("t1", BY_ANN)
    added = [_worklog(n) for n in range(5_000)]
    async with _transaction(engine):
        await repo.add_worklogs(added, NOW)
    later = NOW + timedelta(minutes=5)
    async with _transaction(engine):
        await make("t1", Origin(Source.PAGE, "max")).save_worklogs(
            [replace(added[0], comment="changed"), replace(added[1], length_s=1200), added[2]], later
        )
    async with _transaction(engine):
        await make("t1", Origin(Source.SYSTEM)).delete_worklogs([added[0].id, added[3].id], later)

    first = await repo.worklog_history(added[0].id)
    untouched = await repo.worklog_history(added[2].id)
    assert [(c.action.value, c.source, c.actor_id) for c in first] == [
        ("added", "api", "ann"), ("edited", "page", "max"), ("deleted", "system", None),
    ]
    assert first[1].before == {"comment": "n0"} and first[1].after == {"comment": "changed"}
    assert first[2].before["comment"] == "changed" and first[2].after == {}
    assert [c.action.value for c in await repo.worklog_history(added[1].id)] == ["added", "edited"]
    assert [c.action.value for c in untouched] == ["added"]
    assert [c.action.value for c in await repo.worklog_history(added[4_999].id)] == ["added"]
    assert await make("t2", BY_ANN).worklog_history(added[0].id) == []
    if engine is not None:
        assert await WorklogChangeRow.count().where(WorklogChangeRow.tenant_id == "t1") == 5_000 + 2 + 2


async def test_an_imports_worklogs_keep_their_added_entry_before_and_after_an_edit_or_deletion(
    repos: Repos,
) -> None:
    """An import may record itself once instead of each worklog's addition (m0034); each
    worklog's history still begins with its "added" entry, by the import's actor with the
    values imported, and keeps it, the same and at the same place for a cursor, when the
    first edit or deletion writes it out."""
    make, engine = repos
    repo = make("t1", BY_ANN)
    imported = [replace(_worklog(n), flags=frozenset({WorklogFlag.IMPORTED})) for n in range(3)]
    async with _transaction(engine):
        await repo.add_staged_worklogs(StagedWorklogs("t1", imported, NOW))
    before = [await repo.worklog_history(w.id) for w in imported]
    later = NOW + timedelta(minutes=5)
    async with _transaction(engine):
        await make("t1", Origin(Source.PAGE, "max")).save_worklogs(
            [replace(imported[0], comment="changed")], later)
    async with _transaction(engine):
        await make("t1", Origin(Source.SYSTEM)).delete_worklogs([imported[1].id], later)

    edited, deleted, untouched = [await repo.worklog_history(w.id) for w in imported]
    assert [(c.action.value, c.source, c.actor_id, c.at) for c in edited] == [
        ("added", "import", "ann", NOW), ("edited", "page", "max", later),
    ]
    assert edited[0] == before[0][0] and edited[0].after["comment"] == "n0"
    assert [c.action.value for c in deleted] == ["added", "deleted"] and deleted[0] == before[1][0]
    assert untouched == before[2] and [c.action.value for c in untouched] == ["added"]
    first = await repo.worklog_history(imported[0].id, limit=1)
    assert first == edited[:1]
    past_first = ChangeCursor(first[0].at, first[0].id)
    assert await repo.worklog_history(imported[0].id, after=past_first) == edited[1:]
    assert await make("t2", BY_ANN).worklog_history(imported[2].id) == []
    if engine is not None:  # written out for the edited and the deleted one only
        assert await WorklogChangeRow.count().where(
            (WorklogChangeRow.tenant_id == "t1") & (WorklogChangeRow.action == "added")) == 2


async def test_a_rolled_back_write_leaves_no_history(databases_only: Repos) -> None:
    make, engine = databases_only
    repo = make("t1", BY_ANN)
    with pytest.raises(RuntimeError, match="stop"):
        async with engine.transaction():
            await repo.add_worklogs([_worklog(1)], NOW)
            raise RuntimeError("stop")

    assert await repo.worklog_history(_worklog(1).id) == []
    assert await WorklogChangeRow.count() == 0


async def test_the_deleted_worklogs_since_a_time_and_their_last_values_are_one_query(
    databases_only: Repos,
) -> None:
    """What a ``workLogsWithDeleted`` set will read: plain SQL on the history table."""
    make, engine = databases_only
    repo = make("t1", BY_ANN)
    async with engine.transaction():
        await repo.add_worklogs([_worklog(1), _worklog(2)], NOW)
    async with engine.transaction():
        await repo.delete_worklog(_worklog(2).id, NOW + timedelta(hours=1))

    rows = await WorklogChangeRow.raw(
        "SELECT worklog_id, user_id, before FROM worklog_change "
        "WHERE tenant_id = {} AND action = 'deleted' AND at >= {}", "t1", NOW + timedelta(minutes=30),
    )

    assert [(r["worklog_id"], r["user_id"], json.loads(r["before"])["comment"]) for r in rows] == [
        ("wl00002", "ann", "n2"),
    ]
