"""Timesheets, approval and locking (core.services.timesheets): the week grid and the month
calendar in the user's zone, week statuses, and the tenant's tracking rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.clock import FixedClock
from core.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from core.services.timesheets import change_week, month_view, save_rules, tracking_rules, week_view
from core.tracking import LockPolicy, TrackingRules, WeekId, WeekStatus
from core.tracking.ports import TrackingSettings
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory

from .conftest import Seed
from .tracking_builders import THIS_WEEK, Tracking


@pytest.fixture
def tracking(store: FakeDatabase) -> Tracking:
    return Tracking(store)


MONDAY = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


# The week and the month -------------------------------------------------------------------


async def test_the_week_grid_totals_each_day_and_work_item_from_one_read(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann, bob = seed.user(tenant, "ann@acme.test"), seed.user(tenant, "bob@acme.test")
    tracking.worklog(tenant, ann, MONDAY, 3600, work_item="42")
    tracking.worklog(tenant, ann, MONDAY + timedelta(days=1), 1800, work_item="42")
    tracking.worklog(tenant, ann, MONDAY + timedelta(days=1), 600)
    tracking.worklog(tenant, ann, MONDAY + timedelta(days=7), 600)  # next week
    tracking.worklog(tenant, bob, MONDAY, 900)
    view = await week_view(uow, tenant=tenant, user_id=ann.id, week=THIS_WEEK)
    rows = [(row.work_item, row.days_s[:2]) for row in view.grid.rows]
    assert rows == [("42", (3600, 1800)), (None, (0, 600))]
    assert view.grid.total_s == 6000
    assert (view.status, view.locked, view.time_zone) == (WeekStatus.OPEN, False, "UTC")
    assert uow.writes == 0


async def test_a_worklog_counts_on_its_start_day_in_the_users_own_zone(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant(time_zone="UTC")
    ann = seed.user(tenant)
    tracking.preference(tenant, ann, time_zone="Pacific/Auckland")
    # Sunday 20:00 UTC is already Monday morning in Auckland: this week's first day there.
    tracking.worklog(tenant, ann, datetime(2026, 3, 8, 20, 0, tzinfo=UTC), 3600)
    view = await week_view(uow, tenant=tenant, user_id=ann.id, week=THIS_WEEK)
    assert view.time_zone == "Pacific/Auckland"
    assert view.grid.day_totals_s[0] == 3600


async def test_a_week_is_shown_locked_when_approved_or_on_or_before_the_lock_date(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    tracking.week(tenant, ann, WeekStatus.APPROVED)
    approved = await week_view(uow, tenant=tenant, user_id=ann.id, week=THIS_WEEK)
    assert (approved.status, approved.locked) == (WeekStatus.APPROVED, True)
    # Locked up to Monday 9 March: a week shows locked when its Monday is.
    tracking.rules(tenant, locked_until=date(2026, 3, 9))
    last_week = await week_view(uow, tenant=tenant, user_id=ann.id, week=WeekId(2026, 10))
    next_week = await week_view(uow, tenant=tenant, user_id=ann.id, week=WeekId(2026, 12))
    assert (last_week.locked, next_week.locked) == (True, False)


async def test_the_month_is_whole_monday_weeks_with_each_weeks_status(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    tracking.week(tenant, ann, WeekStatus.SUBMITTED)
    tracking.worklog(tenant, ann, MONDAY, 3600)
    tracking.worklog(tenant, ann, datetime(2026, 2, 28, 8, tzinfo=UTC), 600)  # shown, not counted
    view = await month_view(uow, tenant=tenant, user_id=ann.id, year=2026, month=3)
    assert view.calendar.weeks[0].days[0].day == date(2026, 2, 23)
    assert view.calendar.weeks[-1].days[-1].day == date(2026, 4, 5)
    assert view.calendar.total_s == 3600
    assert view.statuses[str(THIS_WEEK)] is WeekStatus.SUBMITTED
    assert set(view.statuses.values()) == {WeekStatus.OPEN, WeekStatus.SUBMITTED}


async def test_a_month_that_does_not_exist_is_refused(uow: FakeUnitOfWorkFactory, seed: Seed) -> None:
    tenant = seed.tenant()
    with pytest.raises(ValidationFailed):
        await month_view(uow, tenant=tenant, user_id=seed.user(tenant).id, year=2026, month=13)


# Approval -----------------------------------------------------------------------------------


async def test_the_owner_submits_and_an_approval_manager_approves_each_audited(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant, "ann@acme.test")
    max_ = seed.user(tenant, "max@acme.test", approval_manager=True)
    assert (await change_week(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, week=THIS_WEEK,
                              action="submit")).status is WeekStatus.SUBMITTED
    assert (await change_week(uow, clock, tenant=tenant, actor=max_, owner_id=ann.id, week=THIS_WEEK,
                              action="approve")).status is WeekStatus.APPROVED
    assert tracking.status(tenant, ann) is WeekStatus.APPROVED
    assert [(r.actor, r.action, r.subject) for r in seed.audit()] == [
        (f"user:{ann.id}", "week.submit", f"{ann.id}/{THIS_WEEK}"),
        (f"user:{max_.id}", "week.approve", f"{ann.id}/{THIS_WEEK}"),
    ]


async def test_only_the_owner_submits_and_only_approval_managers_approve(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann, bob = seed.user(tenant, "ann@acme.test"), seed.user(tenant, "bob@acme.test")
    with pytest.raises(AccessDenied):
        await change_week(uow, clock, tenant=tenant, actor=bob, owner_id=ann.id, week=THIS_WEEK,
                          action="submit")
    tracking.week(tenant, ann, WeekStatus.SUBMITTED)
    with pytest.raises(AccessDenied):
        await change_week(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, week=THIS_WEEK,
                          action="approve")
    assert tracking.status(tenant, ann) is WeekStatus.SUBMITTED
    assert seed.audit() == [] and uow.commits == 0


async def test_a_rejected_week_is_open_to_its_owner_again(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant, "ann@acme.test")
    max_ = seed.user(tenant, "max@acme.test", approval_manager=True)
    tracking.week(tenant, ann, WeekStatus.APPROVED)
    await change_week(uow, clock, tenant=tenant, actor=max_, owner_id=ann.id, week=THIS_WEEK, action="reject",
                      note="Tuesday is missing")
    assert (await change_week(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, week=THIS_WEEK,
                              action="submit")).status is WeekStatus.SUBMITTED


async def test_a_move_the_status_does_not_allow_is_a_conflict_and_changes_nothing(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant, "ann@acme.test")
    max_ = seed.user(tenant, "max@acme.test", approval_manager=True)
    with pytest.raises(Conflict) as refused:
        await change_week(uow, clock, tenant=tenant, actor=max_, owner_id=ann.id, week=THIS_WEEK,
                          action="approve")
    assert refused.value.extra == {"week_status": "open"}
    assert tracking.status(tenant, ann) is WeekStatus.OPEN and seed.audit() == []


async def test_a_week_of_a_user_not_in_the_tenant_is_not_found(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    acme, globex = seed.tenant("acme"), seed.tenant("globex")
    max_ = seed.user(acme, "max@acme.test", approval_manager=True)
    eve = seed.user(globex, "eve@globex.test")
    with pytest.raises(NotFound):
        await change_week(uow, clock, tenant=acme, actor=max_, owner_id=eve.id, week=THIS_WEEK,
                          action="close")


# Rules ------------------------------------------------------------------------------------


async def test_a_tenant_without_saved_rules_has_the_defaults(uow: FakeUnitOfWorkFactory, seed: Seed) -> None:
    assert await tracking_rules(uow, tenant=seed.tenant()) == TrackingSettings(TrackingRules(), LockPolicy())


async def test_saved_rules_and_lock_date_are_kept_and_audited(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant, other = seed.tenant("acme"), seed.tenant("globex")
    boss = seed.admin(tenant)
    rules = TrackingRules(tracking_without_work_item=False, activity_check_every=timedelta(minutes=30))
    lock = LockPolicy(locked_until=date(2026, 2, 28))
    await save_rules(uow, clock, tenant=tenant, actor=boss, rules=rules, lock=lock)
    assert await tracking_rules(uow, tenant=tenant) == TrackingSettings(rules, lock)
    assert await tracking_rules(uow, tenant=other) == TrackingSettings(TrackingRules(), LockPolicy())
    [audited] = seed.audit("tracking.rules_changed")
    assert (audited.subject, audited.detail) == ("acme", {"locked_until": "2026-02-28"})
