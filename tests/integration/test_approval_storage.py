"""The approval queue's storage on the real databases (m0023): a week stored before the
migration keeps its status, and approvers, week particulars and approval settings round-trip
without disturbing the tracking rules beside them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from core.tracking import LockPolicy, TrackingRules, WeekRecord, WeekStatus
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade
from plugins.storage.tracking_repo import PiccoloTrackingDirectory, PiccoloTrackingRepo

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
async def empty_engine(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Any]:
    """A brand-new database of the parametrised kind with no migration applied."""
    from tests.support import databases

    if request.param == "sqlite":
        engine = await storage_engine.open_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        name = None
    else:
        name, url = databases.create_empty()
        engine = await storage_engine.open_engine(url, pool_size=2)
    storage_engine.bind(engine)
    yield engine
    await storage_engine.close(engine)
    if name:
        databases.drop(name)


@pytest.mark.parametrize("empty_engine", ENGINES, indirect=True)
async def test_weeks_and_rules_stored_before_the_migration_keep_their_values(empty_engine: Any) -> None:
    from plugins.storage.tracking_tables import TrackingRule

    engine = empty_engine
    await upgrade(engine, target="0022")
    # The columns as of 0022: no particulars, no approval settings.
    await TrackingRule.raw(
        "INSERT INTO week_status (id, tenant_id, user_id, week, status, updated_by, updated_at) "
        "VALUES ('w1', 'ten1', 'ann', '2026-W02', 'approved', 'max', {})", AT,
    )
    await TrackingRule.raw(
        "INSERT INTO tracking_rule (tenant_id, tracking_without_work_item, activity_check_minutes, "
        "answer_window_minutes, max_track_minutes, locked_until, updated_at) "
        "VALUES ('ten1', {}, 60, 10, 720, {}, {})", True, date(2025, 12, 31), AT,
    )
    assert "0023" in await upgrade(engine)
    repo = PiccoloTrackingRepo(engine, "ten1")
    assert await repo.week_record("ann", "2026-W02") == WeekRecord("ann", "2026-W02", WeekStatus.APPROVED)
    assert (await repo.rules()).lock == LockPolicy(locked_until=date(2025, 12, 31))
    assert await PiccoloTrackingDirectory(engine).tenants_with_auto_lock() == []


@pytest.mark.parametrize("empty_engine", ENGINES, indirect=True)
async def test_approvers_particulars_and_settings_round_trip_per_tenant(empty_engine: Any) -> None:
    engine = empty_engine
    await upgrade(engine)
    acme, globex = PiccoloTrackingRepo(engine, "acme"), PiccoloTrackingRepo(engine, "globex")
    await acme.set_approvers("ann", ["pam", "max", "pam"], AT)
    await acme.set_approvers("bob", ["pam"], AT)
    await globex.set_approvers("eve", ["pam"], AT)
    assert await acme.approvers() == {"ann": ["max", "pam"], "bob": ["pam"]}
    assert await acme.approvers("ann") == {"ann": ["max", "pam"]}
    assert await acme.approvees("pam") == ["ann", "bob"]
    await acme.set_approvers("ann", [], AT)
    assert await acme.approvers() == {"bob": ["pam"]}

    rejected = WeekRecord("bob", "2026-W02", WeekStatus.REJECTED, submitted_at=AT, decided_by="pam",
                          decided_at=AT, note="Tuesday is missing")
    await acme.save_week(rejected, "pam", AT)
    await acme.save_week(WeekRecord("bob", "2026-W01", WeekStatus.SUBMITTED, submitted_at=AT), "bob", AT)
    await globex.save_week(WeekRecord("eve", "2026-W02", WeekStatus.REJECTED, note="x"), "pam", AT)
    assert await acme.week_record("bob", "2026-W02") == rejected
    found = await acme.week_records(statuses={WeekStatus.REJECTED, WeekStatus.SUBMITTED})
    assert [(r.user_id, r.week) for r in found] == [("bob", "2026-W02"), ("bob", "2026-W01")]
    assert await acme.week_records(statuses={WeekStatus.REJECTED}, user_ids=["ann"]) == []
    sheet = await acme.week_sheet("bob", "2026-W02", AT, AT)
    assert (sheet.status, sheet.note) == (WeekStatus.REJECTED, "Tuesday is missing")

    await acme.save_rules(TrackingRules(), LockPolicy(locked_until=date(2025, 12, 31)), AT)
    await acme.save_approval_settings(date(2026, 1, 5), 3, AT)
    await acme.save_rules(TrackingRules(), LockPolicy(locked_until=date(2025, 12, 30)), AT)
    assert (await acme.rules()).lock == LockPolicy(date(2025, 12, 30), date(2026, 1, 5), 3)
    sheet = await acme.week_sheet("bob", "2026-W02", AT, AT)
    assert sheet.lock == LockPolicy(date(2025, 12, 30), date(2026, 1, 5), 3)
    assert await PiccoloTrackingDirectory(engine).tenants_with_auto_lock() == ["acme"]
