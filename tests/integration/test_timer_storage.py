"""The timer's one-statement read and write (``timer_reads``, ``write_timer``) give what the
separate reads and writes give, with the same types, on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from core.ids import new_id
from core.tracking import LockPolicy, Timer, TrackingRules, WeekStatus, Worklog, WorklogFlag
from core.tracking.ports import TrackingPreference, WorkItemEffect
from plugins.storage.uow import PiccoloUnitOfWorkFactory

AT = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)


@pytest.fixture
def uow(engine: Any) -> PiccoloUnitOfWorkFactory:
    return PiccoloUnitOfWorkFactory(engine)


def _timer(user_id: str, started_at: datetime, work_item: str | None = "1042") -> Timer:
    return Timer(user_id=user_id, started_at=started_at, work_item=work_item, comment="on it",
                 next_activity_check_at=started_at + timedelta(hours=1), check_asked_at=started_at,
                 activity_type_id="a1", activity_type="Design", billable=True)


async def test_nothing_stored_reads_as_the_defaults(uow: Any) -> None:
    async with uow(write=True) as work:
        repo = work.tenant("t1").tracking()
        await repo.lock_user("ann")
        reads = await repo.timer_reads("ann", start=True, weeks=("2026-W09", "2026-W10"), work_item=7)
    assert reads.settings == await _separately(uow, "rules")
    assert reads.timer is None and reads.time_zone is None
    assert reads.week_statuses == {"2026-W09": WeekStatus.OPEN, "2026-W10": WeekStatus.OPEN}
    assert reads.work_item_exists is False and reads.closed_budget is False
    # No tenant row, so no plan: the use case asks the catalogue (which refuses it).
    assert reads.worklog_limits is None


async def test_the_read_holds_what_the_separate_reads_hold(uow: Any) -> None:
    rules = TrackingRules(tracking_without_work_item=False, activity_check_every=timedelta(minutes=30),
                          answer_window=timedelta(minutes=5), max_track_length=timedelta(hours=9))
    async with uow(write=True) as work:
        repo = work.tenant("t1").tracking()
        await repo.save_rules(rules, LockPolicy(locked_until=date(2026, 2, 27)), AT)
        await repo.save_approval_settings(date(2026, 1, 5), 3, AT)
        await repo.save_preference("ann", TrackingPreference("Europe/Vienna"), AT)
        await repo.save_week_status("ann", "2026-W10", WeekStatus.SUBMITTED, "ann", AT)
        await repo.save_timer(_timer("ann", AT), AT)
        await work.commit()
    async with uow(write=True) as work:
        repo = work.tenant("t1").tracking()
        await repo.lock_user("ann")
        reads = await repo.timer_reads("ann", start=True, weeks=("2026-W09", "2026-W10"))
        stop_reads = await repo.timer_reads("ann")
    assert reads.settings == stop_reads.settings == await _separately(uow, "rules")
    assert reads.settings.rules == rules
    assert reads.timer == stop_reads.timer == _timer("ann", AT)
    assert reads.timer is not None and reads.timer.started_at.tzinfo is not None
    assert reads.time_zone == "Europe/Vienna"
    assert reads.week_statuses == {"2026-W09": WeekStatus.OPEN, "2026-W10": WeekStatus.SUBMITTED}
    assert reads.work_item_exists is None


async def test_a_write_replaces_the_timer_and_stores_the_track_its_history_and_effects_once(uow: Any) -> None:
    worklog = Worklog(id=new_id(), user_id="ann", started_at=AT, length_s=1800, billable_length_s=1800,
                      work_item="1042", comment="on it", activity_type="Design", added_by="ann",
                      flags=frozenset({WorklogFlag.TRACKED, WorklogFlag.BILLABLE}), activity_type_id="a1")
    effects = [WorkItemEffect("1042", "sync:x", 0), WorkItemEffect("1042", "remaining:x", 1800)]
    later = AT + timedelta(minutes=30)
    async with uow(write=True) as work:
        repo = work.tenant("t1").tracking()
        await repo.write_timer("ann", _timer("ann", AT), AT)
        await work.commit()
    async with uow(write=True) as work:
        repo = work.tenant("t1").tracking()
        await repo.write_timer("ann", _timer("ann", later, None), later, worklog=worklog,
                               stop_reason="concurrency", effects=effects)
        # A key queued already is skipped, not an error.
        await repo.write_timer("ann", _timer("ann", later, None), later, effects=effects[:1])
        await work.commit()
    async with uow() as work:
        repo = work.tenant("t1").tracking()
        assert await repo.timer("ann") == _timer("ann", later, None)
        assert await repo.worklogs(user_id="ann") == [worklog]
        assert [change.action.value for change in await repo.worklog_history(worklog.id)] == ["added"]
        queued = await repo.pending_effects("1042")
    assert sorted((entry.effect_key, entry.remaining_delta_s) for entry in queued) == [
        ("remaining:x", 1800), ("sync:x", 0)]
    async with uow(write=True) as work:
        repo = work.tenant("t1").tracking()
        await repo.write_timer("ann", None, later)
        await work.commit()
    async with uow() as work:
        assert await work.tenant("t1").tracking().timer("ann") is None


async def _separately(uow: Any, what: str) -> Any:
    async with uow() as work:
        return await getattr(work.tenant("t1").tracking(), what)()
