"""The Budgets pages' read models (core.services.budget_overview): every budget's usage in one
read equals its own usage answer, and the burn-down's days add up to the same totals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.budgets import Budget, BudgetDraft, PricedLine, WorklogFact
from core.clock import FixedClock
from core.errors import NotFound
from core.money import Money
from core.services.budget_overview import BurnDay, budget_burndown, budgets_overview, burn_days
from core.services.budget_usage import budget_usage
from core.services.budgets import BudgetViewer, Targets, add_budget, assign_budget
from core.tenancy import Tenant, User
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory

from .conftest import NOW, Seed, active
from .test_budgets import seed_tree
from .tracking_builders import Tracking

MANAGER = BudgetViewer("manager", sees_all=True)
BOSS = "user:manager"


async def _add(uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, draft: BudgetDraft) -> Budget:
    return await add_budget(uow, clock, tenant=tenant, actor=BOSS, draft=draft)


async def _assign(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, budget_id: str, targets: Targets
) -> None:
    await assign_budget(uow, clock, tenant=tenant, actor=BOSS, budget_id=budget_id, targets=targets)


@pytest.fixture
def tracking(store: FakeDatabase) -> Tracking:
    return Tracking(store)


@pytest.fixture
def tenant(seed: Seed, store: FakeDatabase) -> Tenant:
    made = seed.tenant(subscription=active())
    seed_tree(store, made)
    return made


@pytest.fixture
def ann(seed: Seed, tenant: Tenant) -> User:
    return seed.user(tenant, "ann@acme.test", licensed=True)


async def test_the_overview_gives_each_budget_the_usage_its_own_usage_answer_gives(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, ann: User, seed: Seed, tracking: Tracking,
) -> None:
    bob = seed.user(tenant, "bob@acme.test", licensed=True)
    a = await _add(uow, clock, tenant, BudgetDraft(
        name="A", limit_s=10 * 3600, amount=Money(100_000), hourly_rate=Money(12_345)))
    b = await _add(uow, clock, tenant, BudgetDraft(name="B", hourly_rate=Money(9_999)))
    empty = await _add(uow, clock, tenant, BudgetDraft(name="C", limit_s=3600))
    await _assign(uow, clock, tenant, a.id, Targets(work_items=[2]))
    await _assign(uow, clock, tenant, b.id, Targets(work_items=[9]))
    march = datetime(2026, 3, 2, 9, tzinfo=UTC)
    tracking.worklog(tenant, ann, march, 3_600, work_item="4", billable_length_s=1_800)
    tracking.worklog(tenant, bob, march, 7_200, work_item="3", billable_length_s=7_200)
    single = tracking.worklog(tenant, bob, march, 900, work_item="3", billable_length_s=900)
    tracking.worklog(tenant, ann, march, 1_234, work_item="9", billable_length_s=1_234)
    await _assign(uow, clock, tenant, b.id, Targets(worklogs=[single.id]))

    rows = await budgets_overview(uow, tenant=tenant, viewer=MANAGER)
    assert [row.budget.id for row in rows] == [a.id, b.id, empty.id]
    for row in rows:
        _, usage = await budget_usage(uow, tenant=tenant, viewer=MANAGER, budget_id=row.budget.id,
                                      start=None, end=None)
        assert row.usage == usage
    assert rows[2].usage.tracked_s == 0 and rows[2].usage.left_s == 3600

    mine = BudgetViewer(ann.id, sees_all=False)
    seen = await budgets_overview(uow, tenant=tenant, viewer=mine)
    assert [row.budget.id for row in seen] == [a.id, b.id]
    assert [row.usage.tracked_s for row in seen] == [3_600, 1_234]
    assert all(row.usage.left_s is None and row.usage.amount_left is None for row in seen)


async def test_the_burn_down_runs_from_the_start_date_to_the_end_date_and_adds_up_to_the_usage(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, ann: User, tracking: Tracking,
) -> None:
    # NOW is 2026-03-10 09:00 UTC; the budget runs 1 to 20 March, so days stop at today.
    a = await _add(uow, clock, tenant, BudgetDraft(
        name="A", limit_s=20 * 3600, amount=Money(50_000), hourly_rate=Money(10_000),
        starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 20)))
    await _assign(uow, clock, tenant, a.id, Targets(work_items=[1]))
    tracking.worklog(tenant, ann, datetime(2026, 2, 27, 9, tzinfo=UTC), 1_800, work_item="4",
                     billable_length_s=1_800)  # before the start: counts on the first day
    tracking.worklog(tenant, ann, datetime(2026, 3, 3, 9, tzinfo=UTC), 7_200, work_item="2",
                     billable_length_s=3_600)
    tracking.worklog(tenant, ann, datetime(2026, 3, 3, 15, tzinfo=UTC), 3_600, work_item="3")
    tracking.worklog(tenant, ann, datetime(2026, 3, 9, 9, tzinfo=UTC), 2_000, work_item="4",
                     billable_length_s=2_000)  # 5,555.5… → 5,556

    burn = await budget_burndown(uow, clock, tenant=tenant, viewer=MANAGER, budget_id=a.id)
    assert (burn.start, burn.end, burn.today) == (date(2026, 3, 1), date(2026, 3, 20), date(2026, 3, 10))
    assert [d.day for d in burn.days] == [date(2026, 3, 1) + timedelta(days=n) for n in range(10)]
    assert burn.days[0] == BurnDay(date(2026, 3, 1), 1_800, 5_000)
    assert burn.days[2] == BurnDay(date(2026, 3, 3), 1_800 + 7_200 + 3_600, 5_000 + 10_000)
    assert (burn.days[7].tracked_s, burn.days[7].amount) == (burn.days[2].tracked_s, burn.days[2].amount)
    assert burn.days[-1] == BurnDay(date(2026, 3, 10), 14_600, 5_000 + 10_000 + 5_556)
    assert (burn.days[-1].tracked_s, burn.days[-1].amount) == (burn.usage.tracked_s, burn.usage.amount.amount)
    assert burn.usage.left_s == 20 * 3600 - 14_600


async def test_the_burn_down_counts_single_worklogs_assigned_to_it_and_not_those_assigned_elsewhere(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, ann: User, tracking: Tracking,
) -> None:
    a = await _add(uow, clock, tenant, BudgetDraft(name="A", limit_s=36_000))
    b = await _add(uow, clock, tenant, BudgetDraft(name="B"))
    await _assign(uow, clock, tenant, a.id, Targets(work_items=[2]))
    tracking.worklog(tenant, ann, NOW - timedelta(days=3), 600, work_item="4")
    moved = tracking.worklog(tenant, ann, NOW - timedelta(days=2), 1_200, work_item="3")
    joined = tracking.worklog(tenant, ann, NOW - timedelta(days=1), 2_400, work_item="9")
    await _assign(uow, clock, tenant, b.id, Targets(worklogs=[moved.id]))
    await _assign(uow, clock, tenant, a.id, Targets(worklogs=[joined.id]))
    burn = await budget_burndown(uow, clock, tenant=tenant, viewer=MANAGER, budget_id=a.id)
    _, usage = await budget_usage(uow, tenant=tenant, viewer=MANAGER, budget_id=a.id, start=None, end=None)
    assert [d.tracked_s for d in burn.days] == [600, 600, 3_000, 3_000]
    assert burn.usage == usage and usage.tracked_s == 3_000


async def test_without_dates_the_burn_down_starts_at_the_first_work_and_ends_today(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, ann: User, tracking: Tracking,
) -> None:
    a = await _add(uow, clock, tenant, BudgetDraft(name="A"))
    await _assign(uow, clock, tenant, a.id, Targets(work_items=[4]))
    tracking.worklog(tenant, ann, NOW - timedelta(days=4), 600, work_item="4")
    burn = await budget_burndown(uow, clock, tenant=tenant, viewer=MANAGER, budget_id=a.id)
    assert (burn.start, burn.end) == ((NOW - timedelta(days=4)).date(), NOW.date())
    assert [d.tracked_s for d in burn.days] == [600] * 5
    assert burn.currency == "USD" and burn.days[-1].amount == 0


async def test_a_team_user_gets_no_burn_down_of_a_budget_their_work_does_not_hit(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, ann: User, seed: Seed, tracking: Tracking,
) -> None:
    bob = seed.user(tenant, "bob@acme.test", licensed=True)
    a = await _add(uow, clock, tenant, BudgetDraft(name="A", limit_s=3600))
    await _assign(uow, clock, tenant, a.id, Targets(work_items=[4]))
    tracking.worklog(tenant, bob, NOW - timedelta(days=1), 600, work_item="4")
    with pytest.raises(NotFound):
        await budget_burndown(uow, clock, tenant=tenant, viewer=BudgetViewer(ann.id, False), budget_id=a.id)
    with pytest.raises(NotFound):
        await budget_burndown(uow, clock, tenant=tenant, viewer=MANAGER, budget_id="nope")
    bobs = BudgetViewer(bob.id, sees_all=False)
    mine = await budget_burndown(uow, clock, tenant=tenant, viewer=bobs, budget_id=a.id)
    assert mine.usage.left_s is None and mine.days[-1].tracked_s == 600


def test_burn_days_count_each_day_in_the_time_zone_and_clamp_to_the_first_and_last_day() -> None:
    zone = ZoneInfo("Europe/Berlin")

    def line(at: datetime, length_s: int, minor: int) -> PricedLine:
        fact = WorklogFact("w", "u", at, 1, None, length_s, length_s)
        return PricedLine(fact, None, Money(minor))

    lines = [
        line(datetime(2026, 3, 1, 23, 30, tzinfo=UTC), 60, 1),   # 2 March in Berlin
        line(datetime(2026, 2, 1, 9, tzinfo=UTC), 10, 2),        # before: the first day
        line(datetime(2026, 4, 1, 9, tzinfo=UTC), 5, 4),         # after: the last day
    ]
    days = burn_days(lines, zone, date(2026, 3, 1), date(2026, 3, 3))
    assert days == [
        BurnDay(date(2026, 3, 1), 10, 2),
        BurnDay(date(2026, 3, 2), 70, 3),
        BurnDay(date(2026, 3, 3), 75, 7),
    ]
