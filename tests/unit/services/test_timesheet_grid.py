"""The keyboard timesheet's use cases (core.services.timesheet_grid): which rows a week lists
(the "blue" InProgress-and-mine items among them) and writing a cell through the worklog
use cases, with their rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from core.clock import FixedClock
from core.errors import ValidationFailed, WeekLocked
from core.services.timesheet_grid import SheetFilters, sheet_items, sheet_rows, write_cell
from core.services.timesheets import week_view
from core.tenancy import Tenant, User
from core.tracking import TrackingRules, WeekStatus
from core.work_items import Assignee, Iteration, StateCategory
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory

from .conftest import Seed
from .tracking_builders import THIS_WEEK, Tracking


@pytest.fixture
def tracking(store: FakeDatabase) -> Tracking:
    return Tracking(store)


MONDAY = THIS_WEEK.monday
TUESDAY = MONDAY + timedelta(days=1)


def assign(store: FakeDatabase, tenant: Tenant, item_id: int, user: User | None, state: str,
           iteration_id: int | None = None) -> None:
    items = store.work_items[tenant.id]
    item = items[item_id]
    items[item_id] = replace(
        item, state=state,
        state_category=StateCategory.IN_PROGRESS if state == "Active" else StateCategory.PROPOSED,
        assigned_to=Assignee(user.name or user.email, user.id) if user else None, iteration_id=iteration_id,
    )


def cell(tracking: Tracking, tenant: Tenant, user: User, day: date, item: str | None) -> list[int]:
    return sorted(
        w.length_s for w in tracking.worklogs(tenant)
        if w.user_id == user.id and w.work_item == item and w.started_at.date() == day
    )


async def write(uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, user: User, day: date,
                item: str | None, text: str, confirmed: bool = False) -> str:
    done = await write_cell(uow, clock, tenant=tenant, actor=user, day=day, work_item=item, text=text,
                            confirmed=confirmed)
    return done.outcome


async def test_an_empty_cell_gets_a_worklog_and_one_worklog_gets_its_length_changed(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    seed.work_items(tenant, 42)
    assert await write(uow, clock, tenant, ann, MONDAY, "42", "1h 30m") == "added"
    assert cell(tracking, tenant, ann, MONDAY, "42") == [5400]
    assert await write(uow, clock, tenant, ann, MONDAY, "42", "45m") == "changed"
    assert cell(tracking, tenant, ann, MONDAY, "42") == [2700]
    assert await write(uow, clock, tenant, ann, MONDAY, "42", "0:45") == "kept"
    assert await write(uow, clock, tenant, ann, MONDAY, "42", "") == "cleared"
    assert cell(tracking, tenant, ann, MONDAY, "42") == []


async def test_new_worklogs_of_a_day_follow_each_other_from_nine(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    seed.work_items(tenant, 42, 43)
    await write(uow, clock, tenant, ann, MONDAY, "42", "1.5")
    await write(uow, clock, tenant, ann, MONDAY, "43", "2")
    starts = sorted(w.started_at for w in tracking.worklogs(tenant))
    nine = datetime.combine(MONDAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    assert starts == [nine, nine + timedelta(minutes=90)]


async def test_a_cell_of_several_worklogs_is_raised_by_a_new_one_and_never_lowered_by_guessing(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    seed.work_items(tenant, 42)
    at = datetime.combine(TUESDAY, datetime.min.time(), tzinfo=UTC)
    tracking.worklog(tenant, ann, at + timedelta(hours=9), 3600, work_item="42", comment="review")
    tracking.worklog(tenant, ann, at + timedelta(hours=14), 1800, work_item="42", comment="fix")
    assert await write(uow, clock, tenant, ann, TUESDAY, "42", "2:00") == "added"
    assert cell(tracking, tenant, ann, TUESDAY, "42") == [1800, 1800, 3600]
    with pytest.raises(ValidationFailed, match="3 worklogs"):
        await write(uow, clock, tenant, ann, TUESDAY, "42", "1")
    with pytest.raises(ValidationFailed, match="confirm"):
        await write(uow, clock, tenant, ann, TUESDAY, "42", "")
    assert cell(tracking, tenant, ann, TUESDAY, "42") == [1800, 1800, 3600]
    assert await write(uow, clock, tenant, ann, TUESDAY, "42", "0", confirmed=True) == "cleared"
    assert cell(tracking, tenant, ann, TUESDAY, "42") == []


async def test_a_locked_week_refuses_the_cell_and_keeps_what_it_holds(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    seed.work_items(tenant, 42)
    await write(uow, clock, tenant, ann, MONDAY, "42", "1")
    tracking.week(tenant, ann, WeekStatus.APPROVED)
    for text in ("2", "", "1"):
        with pytest.raises(WeekLocked):
            await write(uow, clock, tenant, ann, TUESDAY if text == "1" else MONDAY, "42", text)
    assert cell(tracking, tenant, ann, MONDAY, "42") == [3600]


async def test_time_without_a_work_item_is_refused_where_the_tenant_requires_one(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    tracking.rules(tenant, TrackingRules(tracking_without_work_item=False))
    with pytest.raises(ValidationFailed, match="work item"):
        await write(uow, clock, tenant, ann, MONDAY, None, "1")
    with pytest.raises(ValidationFailed, match="no work item 77"):
        await write(uow, clock, tenant, ann, MONDAY, "77", "1")
    assert tracking.worklogs(tenant) == []


async def test_the_users_in_progress_items_are_listed_blue_even_without_time(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann, bob = seed.user(tenant), seed.user(tenant, "bob@acme.test")
    seed.work_items(tenant, 41, 42, 43, 44, 45)
    assign(seed.store, tenant, 42, ann, "Active")   # blue
    assign(seed.store, tenant, 43, ann, "New")      # mine, not in progress
    assign(seed.store, tenant, 44, bob, "Active")   # in progress, someone else's
    tracking.worklog(tenant, ann, datetime.combine(MONDAY, datetime.min.time(), tzinfo=UTC)
                     + timedelta(hours=9), 1800, work_item="41")
    view = await week_view(uow, tenant=tenant, user_id=ann.id, week=THIS_WEEK)
    items = await sheet_items(uow, tenant=tenant, user_id=ann.id, week=THIS_WEEK, names=["41", "45"])
    assert items.blue == ("42",)
    rows = sheet_rows(view.grid, items, user_id=ann.id, filters=SheetFilters(), added=("45",))
    assert [(r.work_item, r.blue, r.total_s) for r in rows] == [
        ("41", False, 1800), ("42", True, 0), ("45", False, 0), (None, False, 0),
    ]
    mine = sheet_rows(view.grid, items, user_id=ann.id, filters=SheetFilters(mine=True))
    assert [r.work_item for r in mine] == ["42"]


async def test_the_current_iteration_filter_keeps_the_items_of_an_iteration_over_the_week(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    seed.work_items(tenant, 42, 43)
    seed.store.iterations.setdefault(tenant.id, {}).update({
        1: Iteration(1, "Sprint 1", MONDAY - timedelta(days=14), MONDAY - timedelta(days=1)),
        2: Iteration(2, "Sprint 2", MONDAY, MONDAY + timedelta(days=13)),
    })
    assign(seed.store, tenant, 42, ann, "Active", iteration_id=1)
    assign(seed.store, tenant, 43, ann, "Active", iteration_id=2)
    tracking.rules(tenant, TrackingRules(tracking_without_work_item=False))
    view = await week_view(uow, tenant=tenant, user_id=ann.id, week=THIS_WEEK)
    items = await sheet_items(uow, tenant=tenant, user_id=ann.id, week=THIS_WEEK, names=[])
    assert items.iterations == {2}
    everything = sheet_rows(view.grid, items, user_id=ann.id, filters=SheetFilters())
    assert [r.work_item for r in everything] == ["42", "43"]  # and no row without a work item
    current = sheet_rows(view.grid, items, user_id=ann.id, filters=SheetFilters(current_iteration=True))
    assert [r.work_item for r in current] == ["43"]
