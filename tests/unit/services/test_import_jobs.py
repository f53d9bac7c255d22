"""Big imports in the background (core.services.import_jobs) and the import's progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.clock import FixedClock
from core.errors import NotFound
from core.services.import_jobs import import_status, run_import, start_import
from core.services.worklog_import import CHECK_STEP, import_worklogs
from core.tracking import NumberedRow
from core.tracking.import_jobs import ImportState
from tests.fakes import FakeUnitOfWorkFactory

from .conftest import Seed

FIRST = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)


def _rows(count: int) -> list[NumberedRow]:
    return [NumberedRow(n + 2, {"User": "boss@acme.test",
                                "Timestamp": (FIRST + timedelta(minutes=2 * n)).isoformat(),
                                "Duration (hours)": "0.01", "Comment": f"row {n}"}) for n in range(count)]


async def test_the_import_says_how_far_its_check_got_a_step_at_a_time_then_that_it_stores(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant()
    boss = seed.admin(tenant)
    told: list[tuple[str, int]] = []

    async def progress(stage: str, done: int) -> None:
        told.append((stage, done))

    count = 2 * CHECK_STEP + 7
    stored = await import_worklogs(uow, clock, tenant=tenant, actor=boss, rows=_rows(count),
                                   may_import_for_others=True, time_zone="UTC", progress=progress)
    assert len(stored) == count
    assert told == [("checking", CHECK_STEP), ("checking", 2 * CHECK_STEP), ("checking", count),
                    ("storing", count)]


async def test_a_background_import_ends_done_or_failed_with_every_bad_line_and_is_its_owners(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant()
    boss, ann = seed.admin(tenant), seed.user(tenant, "ann@acme.test")
    rows = _rows(30)

    job = await start_import(uow, clock, tenant=tenant, actor=boss, total=len(rows))
    assert (job.state, job.done, job.total) == (ImportState.QUEUED, 0, 30)
    ended = await run_import(uow, clock, tenant=tenant, actor=boss, job=job, rows=rows,
                             may_import_for_others=True, time_zone="UTC")
    assert (ended.state, ended.done, ended.imported) == (ImportState.DONE, 30, 30)
    assert await import_status(uow, tenant=tenant, user=boss, job_id=job.id) == ended
    with pytest.raises(NotFound):
        await import_status(uow, tenant=tenant, user=ann, job_id=job.id)

    bad = [*rows[:3], NumberedRow(5, {"User": "nobody@acme.test", "Timestamp": "2026-02-03T08:00:00",
                                      "Duration (hours)": "1"})]
    failing = await start_import(uow, clock, tenant=tenant, actor=boss, total=len(bad))
    failed = await run_import(uow, clock, tenant=tenant, actor=boss, job=failing, rows=bad,
                              may_import_for_others=True, time_zone="UTC")
    assert failed.state is ImportState.FAILED and failed.imported == 0
    assert [e["line"] for e in failed.errors] == [5]
    assert await import_status(uow, tenant=tenant, user=boss, job_id=failing.id) == failed
