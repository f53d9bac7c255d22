"""The team-wide worklog list (core.services.explorer, explorer_grouping): filters reduced to
the worklog row's columns, the budget filter by the resolution rule, and grouping with totals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.budgets import AssignmentKind
from core.services.explorer import ExplorerFilters, explore_worklogs, export_explored
from core.services.explorer_grouping import group_explored
from core.tracking import WeekStatus
from core.tracking.explorer import GroupBy
from core.tracking.ports import UserWeek, WorklogCursor
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory
from tests.fakes.work_items import mirror_items

from .conftest import Seed
from .tracking_builders import Tracking

MONDAY = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)  # 2026-W11


@pytest.fixture
def tracking(store: FakeDatabase) -> Tracking:
    return Tracking(store)


def _in_iteration(store: FakeDatabase, tenant_id: str, item: int, iteration: int) -> None:
    items = store.work_items[tenant_id]
    items[item] = replace(items[item], iteration_id=iteration)


async def test_iterations_and_users_filter_together_and_pages_walk_each_worklog_once(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking, store: FakeDatabase
) -> None:
    tenant = seed.tenant()
    ann, bob, cy = (seed.user(tenant, f"{n}@acme.test") for n in ("ann", "bob", "cy"))
    mirror_items(store, tenant.id, 1, 2)
    _in_iteration(store, tenant.id, 1, 7)
    wanted = [tracking.worklog(tenant, who, MONDAY + timedelta(hours=n), work_item="1")
              for n, who in enumerate((ann, bob, ann, bob))]
    tracking.worklog(tenant, cy, MONDAY, work_item="1")  # another user
    tracking.worklog(tenant, ann, MONDAY, work_item="2")  # another iteration (none)
    filters = ExplorerFilters(users=frozenset({ann.id, bob.id}), iterations=frozenset({7}))

    seen, after = [], None
    while True:
        page = await explore_worklogs(uow, tenant=tenant, filters=filters, after=after, limit=3)
        seen += page
        if len(page) < 3:
            break
        after = WorklogCursor(page[-1].started_at, page[-1].id)
    assert [w.id for w in seen] == [w.id for w in wanted]
    assert uow.writes == 0


async def test_the_budget_filter_follows_the_resolution_rule(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking, store: FakeDatabase
) -> None:
    """Through the item's iteration and the item itself, or directly; a worklog on the
    budget's item that is assigned directly to another budget leaves it."""
    tenant = seed.tenant()
    ann = seed.user(tenant)
    mirror_items(store, tenant.id, 1, 2, 3)
    _in_iteration(store, tenant.id, 1, 7)
    assigned = store.budget_assignments.setdefault(tenant.id, {})
    via_iteration = tracking.worklog(tenant, ann, MONDAY, work_item="1")
    via_item = tracking.worklog(tenant, ann, MONDAY + timedelta(hours=1), work_item="2")
    moved = tracking.worklog(tenant, ann, MONDAY + timedelta(hours=2), work_item="2")
    direct = tracking.worklog(tenant, ann, MONDAY + timedelta(hours=3), work_item="3")
    tracking.worklog(tenant, ann, MONDAY + timedelta(hours=4), work_item="3")
    assigned[(AssignmentKind.ITERATION.value, "7")] = "B"
    assigned[(AssignmentKind.WORK_ITEM.value, "2")] = "B"
    assigned[(AssignmentKind.WORKLOG.value, direct.id)] = "B"
    assigned[(AssignmentKind.WORKLOG.value, moved.id)] = "C"

    found = await explore_worklogs(uow, tenant=tenant, filters=ExplorerFilters(budgets=frozenset({"B"})))
    assert [w.id for w in found] == [via_iteration.id, via_item.id, direct.id]
    other = await explore_worklogs(uow, tenant=tenant, filters=ExplorerFilters(budgets=frozenset({"C"})))
    assert [w.id for w in other] == [moved.id]


async def test_groups_by_day_within_users_sum_the_lengths_and_newest_first_reverses_the_list(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    first = tracking.worklog(tenant, ann, MONDAY, 600, billable_length_s=60)
    second = tracking.worklog(tenant, ann, MONDAY + timedelta(hours=1), 900)
    third = tracking.worklog(tenant, ann, MONDAY + timedelta(days=1), 300, billable_length_s=300)

    groups = await group_explored(uow, tenant=tenant, filters=ExplorerFilters(),
                                  levels=(GroupBy.USER, GroupBy.DAY), time_zone="UTC")
    [mine] = groups
    totals = (mine.key, mine.tracked_s, mine.billable_s, mine.amount.amount)
    assert totals == ({"user_id": ann.id}, 1800, 360, 0)
    assert [(g.key, g.tracked_s, g.billable_s) for g in mine.groups or []] == [
        ({"day": "2026-03-09"}, 1500, 60), ({"day": "2026-03-10"}, 300, 300),
    ]
    newest = await explore_worklogs(uow, tenant=tenant, filters=ExplorerFilters(descending=True))
    assert [w.id for w in newest] == [third.id, second.id, first.id]
    only_billable = ExplorerFilters(billable=True)
    billable = await export_explored(uow, tenant=tenant, filters=only_billable, time_zone="UTC")
    assert len(billable) == 2


async def test_the_approval_filter_takes_the_weeks_in_those_states(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking, store: FakeDatabase
) -> None:
    tenant = seed.tenant()
    ann, bob = seed.user(tenant, "ann@acme.test"), seed.user(tenant, "bob@acme.test")
    approved = tracking.worklog(tenant, ann, MONDAY)
    later = tracking.worklog(tenant, ann, MONDAY + timedelta(days=7))
    bobs = tracking.worklog(tenant, bob, MONDAY)
    store.week_statuses.setdefault(tenant.id, {})[UserWeek(ann.id, "2026-W11")] = WeekStatus.APPROVED

    async def ids(*states: WeekStatus) -> list[str]:
        filters = ExplorerFilters(approval=frozenset(states))
        found = await explore_worklogs(uow, tenant=tenant, filters=filters)
        return [w.id for w in found]

    assert await ids(WeekStatus.APPROVED) == [approved.id]
    assert sorted(await ids(WeekStatus.OPEN)) == sorted([later.id, bobs.id])
    assert await ids(WeekStatus.SUBMITTED) == []
