"""Big worklog imports (issue #15, F4): a 100,000-row CSV imports on both engines, all or
nothing, with its work-item effects queued once per item."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from core.ids import new_id
from core.services.signup import signup
from core.services.timesheets import save_rules
from core.services.worklog_import import ImportRejected, import_worklogs
from core.tracking import LockPolicy, TrackingRules, create_worklog, draft_worklog, read_csv
from core.work_items import StateCategory, WorkItem
from plugins.identity.passwords import Argon2Hasher
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade
from plugins.storage.tracking_tables import WorkItemOutbox
from plugins.storage.uow import PiccoloUnitOfWorkFactory
from server.app import MAX_BODY_BYTES
from tests.conftest import make_settings
from tests.integration.tracking_support import make_org
from tests.support.api import api_client

HEADER = "User,Timestamp,Duration (hours),Billable duration,Activity type,Comment,Work item\r\n"
FIRST = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
#: SQLite writes more slowly per row; a quarter of the rows still needs dozens of batches.
ROWS = {"sqlite": 25_000, "postgres": 100_000}
#: The work items :func:`big_csv` names.
ITEM_IDS = range(1000, 1200)

World = tuple[PiccoloUnitOfWorkFactory, FixedClock, Any, Any, str]


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    engine = await storage_engine.open_engine(database_url, pool_size=4)
    storage_engine.bind(engine)
    await upgrade(engine)
    uow = PiccoloUnitOfWorkFactory(engine)
    clock = FixedClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    made = await signup(uow, Argon2Hasher(fast=True), clock, slug="acme", name="Acme", deployment="cloud",
                        admin_email="admin@acme.test", admin_password="correct horse battery",
                        admin_name="Admin", trial_days=28)
    # The work items the big files name (1000 to 1199) are in the tenant's mirror.
    async with uow(write=True) as work:
        await work.tenant(made.tenant.id).work_items().upsert([
            WorkItem(id=n, title=f"Work item {n}", type="Task", state="New",
                     state_category=StateCategory.PROPOSED, changed_at=clock.now())
            for n in ITEM_IDS
        ])
        await work.commit()
    yield uow, clock, made.tenant, made.admin, engine.engine_type
    await storage_engine.close(engine)


def big_csv(rows: int, *, items: int = 200) -> str:
    """``rows`` quarter-hour worklogs one after another, on ``items`` work items in turn."""
    lines = [
        f"admin@acme.test,{(FIRST + timedelta(minutes=15 * n)).isoformat()},0.25,0.25,Development,"
        f"row {n},{1000 + n % items}\r\n"
        for n in range(rows)
    ]
    return HEADER + "".join(lines)


async def test_a_big_csv_imports_whole_with_one_work_item_effect_per_item(world: World) -> None:
    """100,000 rows on PostgreSQL (25,000 on SQLite): every row stored, 200 outbox effects whose
    Remaining Work deltas add up to the imported time."""
    uow, clock, tenant, admin, engine_type = world
    count = ROWS["postgres" if engine_type == "postgres" else "sqlite"]

    imported = await import_worklogs(uow, clock, tenant=tenant, actor=admin, rows=read_csv(big_csv(count)),
                                     may_import_for_others=True, time_zone="UTC")

    assert len(imported) == count
    async with uow() as work:
        repo = work.tenant(tenant.id).tracking()
        assert await repo.count_worklogs() == count
        last = await repo.worklogs(start=FIRST + timedelta(minutes=15 * (count - 1)))
        assert [(w.comment, w.work_item, w.length_s, w.billable_length_s) for w in last] == [
            (f"row {count - 1}", str(1000 + (count - 1) % 200), 900, 900)
        ]
        effects = await WorkItemOutbox.select(WorkItemOutbox.remaining_delta_s).where(
            WorkItemOutbox.tenant_id == tenant.id
        )
    assert len(effects) == 200
    assert sum(e["remaining_delta_s"] for e in effects) == 900 * count


async def test_a_bad_row_at_the_end_of_a_big_import_leaves_nothing_behind(world: World) -> None:
    """All or nothing: the last of 25,000 rows is bad, so no worklog and no outbox row is stored."""
    uow, clock, tenant, admin, _ = world
    text = big_csv(25_000) + "admin@acme.test,2026-01-05T09:00:00Z,-1,,,,\r\n"

    with pytest.raises(ImportRejected) as rejected:
        await import_worklogs(uow, clock, tenant=tenant, actor=admin, rows=read_csv(text),
                              may_import_for_others=True, time_zone="UTC")

    assert rejected.value.extra["errors"] == [{"line": 25_002, "reason": "negative duration '-1'"}]
    async with uow() as work:
        assert await work.tenant(tenant.id).tracking().count_worklogs() == 0
    assert await WorkItemOutbox.count().where(WorkItemOutbox.tenant_id == tenant.id) == 0


def test_a_100000_row_csv_larger_than_the_app_body_limit_imports_through_the_api(
    sqlite_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    """The import route has its own body limit: a 100,000-row CSV (~8 MB) is accepted, not 413."""
    body = big_csv(100_000).encode()
    assert len(body) > MAX_BODY_BYTES
    with api_client(make_settings(sqlite_url, tmp_path), clock) as client:
        org = make_org(client)
        org.work_items(*ITEM_IDS)
        response = client.post("/api/v1/worklogs/import", content=body,
                               headers={**org.admin, "Content-Type": "text/csv"})
    assert response.status_code == 201, response.text[:500]
    assert response.json() == {"imported": 100_000}


async def test_a_write_failing_in_the_last_batch_takes_the_batches_before_it_back(world: World) -> None:
    """25,000 worklogs in one unit of work, the last a duplicate of the first: the earlier
    batches (a dozen INSERTs on SQLite, the COPY's rows on PostgreSQL) are rolled back too."""
    uow, clock, tenant, admin, _ = world
    worklogs = [
        create_worklog(draft_worklog(admin.id, FIRST + timedelta(minutes=15 * n), 900), new_id())
        for n in range(25_000)
    ]
    worklogs.append(worklogs[0])

    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        async with uow(write=True) as work:
            await work.tenant(tenant.id).tracking().add_worklogs(worklogs, clock.now())
            await work.commit()

    async with uow() as work:
        assert await work.tenant(tenant.id).tracking().count_worklogs() == 0


class Meanwhile:
    """The real unit-of-work factory, except that ``change`` runs (and commits) just before
    the first write unit of work opens: another user's change landing between an import's
    check and its write."""

    def __init__(self, uow: PiccoloUnitOfWorkFactory, change: Callable[[], Awaitable[None]]) -> None:
        self._uow = uow
        self._change: Callable[[], Awaitable[None]] | None = change

    def __call__(self, *, write: bool = False, staged: Any = None) -> Any:
        if write and self._change is not None:
            change, self._change = self._change, None
            return _AfterChange(self._uow(write=True, staged=staged), change)
        return self._uow(write=write, staged=staged)


class _AfterChange:
    def __init__(self, work: Any, change: Callable[[], Awaitable[None]]) -> None:
        self._work = work
        self._change = change

    async def __aenter__(self) -> Any:
        await self._change()
        return await self._work.__aenter__()

    async def __aexit__(self, *exc: Any) -> None:
        await self._work.__aexit__(*exc)


async def test_a_week_locked_while_the_rows_were_checked_refuses_the_import(world: World) -> None:
    """The rows passed the check, then an administrator locked January: the write unit of
    work sees the new lock, checks again and stores nothing."""
    uow, clock, tenant, admin, _ = world

    async def lock_january() -> None:
        await save_rules(uow, clock, tenant=tenant, actor=admin, rules=TrackingRules(),
                         lock=LockPolicy(locked_until=date(2025, 1, 31)))

    with pytest.raises(ImportRejected) as rejected:
        await import_worklogs(Meanwhile(uow, lock_january), clock, tenant=tenant, actor=admin,
                              rows=read_csv(big_csv(3)), may_import_for_others=True, time_zone="UTC")

    assert [e["line"] for e in rejected.value.extra["errors"]] == [2, 3, 4]
    assert "locked week" in rejected.value.extra["errors"][0]["reason"]
    async with uow() as work:
        assert await work.tenant(tenant.id).tracking().count_worklogs() == 0
