"""Budgets (core.services.budgets): manage, assign, resolve, usage and statement, who sees what,
and the closed budget refusing new worklogs and timer starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.budgets import Assignment, BudgetChanges, BudgetClosed, BudgetDraft, Resolution
from core.clock import FixedClock
from core.errors import NotFound, ValidationFailed
from core.money import Money
from core.services.budget_usage import budget_statement, budget_usage
from core.services.budgets import (
    BudgetViewer,
    Targets,
    add_budget,
    assign_budget,
    change_budget,
    get_budget,
    list_budgets,
    resolve_work_items,
    resolve_worklogs,
    unassign_budget,
)
from core.services.tracking import start_tracking
from core.services.worklog_import import import_worklogs
from core.services.worklogs import NewWorklog, add_worklog, edit_worklog
from core.tenancy import Tenant, User
from core.tracking import NumberedRow, WorklogChanges
from core.work_items import Iteration, StateCategory, WorkItem
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory

from .conftest import NOW, Seed, active
from .tracking_builders import Tracking

MANAGER = BudgetViewer("manager", sees_all=True)
BOSS = "user:manager"


def seed_tree(store: FakeDatabase, tenant: Tenant) -> None:
    """Iteration 1; epic 1 → feature 2 → story 3 → task 4; item 9 on its own."""
    store.iterations.setdefault(tenant.id, {})[1] = Iteration(1, "Sprint 1")
    items = store.work_items.setdefault(tenant.id, {})
    for item_id, parent in ((1, None), (2, 1), (3, 2), (4, 3), (9, None)):
        items[item_id] = WorkItem(
            id=item_id,
            title=f"Item {item_id}",
            type="Task",
            state="Active",
            state_category=StateCategory.IN_PROGRESS,
            changed_at=NOW,
            parent_id=parent,
            iteration_id=1 if item_id != 9 else None,
        )


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


async def test_budgets_are_added_changed_and_listed_by_name_and_the_audit_trail_says_who(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, store: FakeDatabase
) -> None:
    b = await add_budget(
        uow, clock, tenant=tenant, actor=BOSS, draft=BudgetDraft(name="Beta", amount=Money(100_000))
    )
    a = await add_budget(uow, clock, tenant=tenant, actor=BOSS, draft=BudgetDraft(name="Alpha"))
    changed = await change_budget(
        uow,
        clock,
        tenant=tenant,
        actor=BOSS,
        budget_id=b.id,
        changes=BudgetChanges(open=False, customer="ACME-7"),
    )
    assert (changed.open, changed.customer) == (False, "ACME-7")
    assert [x.id for x in await list_budgets(uow, tenant=tenant, viewer=MANAGER)] == [a.id, b.id]
    with pytest.raises(NotFound):
        await change_budget(
            uow, clock, tenant=tenant, actor=BOSS, budget_id="nope", changes=BudgetChanges(open=False)
        )
    await assign_budget(
        uow, clock, tenant=tenant, actor=BOSS, budget_id=a.id, targets=Targets(work_items=[2])
    )
    trail = [(row.actor, row.action, row.subject) for row in store.audit if row.action.startswith("budget.")]
    assert trail == [
        (BOSS, "budget.added", "Beta"),
        (BOSS, "budget.added", "Alpha"),
        (BOSS, "budget.changed", "Beta"),
        (BOSS, "budget.assigned", "Alpha"),
    ]
    assert [row.detail["fields"] for row in store.audit if row.action == "budget.changed"] == [
        ["customer", "open"]
    ]


async def test_assigning_checks_every_target_first_and_moves_a_target_between_budgets(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, store: FakeDatabase
) -> None:
    a = await add_budget(uow, clock, tenant=tenant, actor=BOSS, draft=BudgetDraft(name="A"))
    b = await add_budget(uow, clock, tenant=tenant, actor=BOSS, draft=BudgetDraft(name="B"))
    with pytest.raises(ValidationFailed) as refused:
        await assign_budget(
            uow, clock, tenant=tenant, actor=BOSS, budget_id=a.id, targets=Targets(work_items=[2, 777])
        )
    assert refused.value.field == "work_items"
    assert store.budget_assignments.get(tenant.id, {}) == {}  # all or nothing
    await assign_budget(
        uow, clock, tenant=tenant, actor=BOSS, budget_id=a.id, targets=Targets(work_items=[2], iterations=[1])
    )
    await assign_budget(
        uow, clock, tenant=tenant, actor=BOSS, budget_id=b.id, targets=Targets(work_items=[2])
    )
    found = await resolve_work_items(uow, tenant=tenant, items=[2, 4, 9])
    assert found == {
        2: Resolution(b.id, Assignment.DIRECT),
        4: Resolution(b.id, Assignment.PARENT),
        9: Resolution(None, Assignment.NONE),
    }
    item_2 = Targets(work_items=[2])
    assert await unassign_budget(uow, clock, tenant=tenant, actor=BOSS, budget_id=a.id, targets=item_2) == 0
    assert await unassign_budget(uow, clock, tenant=tenant, actor=BOSS, budget_id=b.id, targets=item_2) == 1
    resolved = await resolve_work_items(uow, tenant=tenant, items=[4])
    assert resolved[4] == Resolution(a.id, Assignment.ITERATION)


async def test_a_closed_budget_takes_no_assignment_no_worklog_no_timer_start_and_no_moved_worklog(
    uow: FakeUnitOfWorkFactory,
    clock: FixedClock,
    tenant: Tenant,
    ann: User,
    tracking: Tracking,
) -> None:
    a = await add_budget(uow, clock, tenant=tenant, actor=BOSS, draft=BudgetDraft(name="A"))
    await assign_budget(
        uow, clock, tenant=tenant, actor=BOSS, budget_id=a.id, targets=Targets(work_items=[2])
    )
    elsewhere = tracking.worklog(tenant, ann, NOW - timedelta(hours=5), work_item="9")
    await change_budget(
        uow, clock, tenant=tenant, actor=BOSS, budget_id=a.id, changes=BudgetChanges(open=False)
    )
    with pytest.raises(BudgetClosed):
        await assign_budget(
            uow, clock, tenant=tenant, actor=BOSS, budget_id=a.id, targets=Targets(work_items=[9])
        )
    with pytest.raises(BudgetClosed):
        await unassign_budget(
            uow, clock, tenant=tenant, actor=BOSS, budget_id=a.id, targets=Targets(work_items=[2])
        )
    with pytest.raises(BudgetClosed):
        await add_worklog(
            uow,
            clock,
            tenant=tenant,
            actor=ann,
            owner_id=ann.id,
            may_add_for_others=False,
            new=NewWorklog(started_at=NOW - timedelta(hours=2), length_s=600, work_item="4"),
        )
    with pytest.raises(BudgetClosed):
        await start_tracking(uow, clock, tenant=tenant, user=ann, work_item="4", comment=None)
    with pytest.raises(BudgetClosed):
        await edit_worklog(
            uow,
            clock,
            tenant=tenant,
            actor=ann,
            worklog_id=elsewhere.id,
            changes=WorklogChanges(work_item="3"),
            actor_can_edit_others=False,
        )
    # A worklog assigned to an open budget of its own may move onto the closed budget's item:
    # its own assignment wins, so no time goes to the closed budget.
    b = await add_budget(uow, clock, tenant=tenant, actor=BOSS, draft=BudgetDraft(name="B"))
    own = tracking.worklog(tenant, ann, NOW - timedelta(hours=6), work_item="9")
    await assign_budget(
        uow, clock, tenant=tenant, actor=BOSS, budget_id=b.id, targets=Targets(worklogs=[own.id])
    )
    moved = await edit_worklog(
        uow,
        clock,
        tenant=tenant,
        actor=ann,
        worklog_id=own.id,
        changes=WorklogChanges(work_item="3"),
        actor_can_edit_others=False,
    )
    assert moved.work_item == "3"
    # Work outside the closed budget goes on.
    await add_worklog(
        uow,
        clock,
        tenant=tenant,
        actor=ann,
        owner_id=ann.id,
        may_add_for_others=False,
        new=NewWorklog(started_at=NOW - timedelta(hours=2), length_s=600, work_item="9"),
    )


async def test_usage_and_statement_price_with_the_budget_rate_and_agree_to_the_cent(
    uow: FakeUnitOfWorkFactory,
    clock: FixedClock,
    tenant: Tenant,
    ann: User,
    seed: Seed,
    tracking: Tracking,
) -> None:
    bob = seed.user(tenant, "bob@acme.test", licensed=True)
    a = await add_budget(
        uow,
        clock,
        tenant=tenant,
        actor=BOSS,
        draft=BudgetDraft(name="A", limit_s=10 * 3600, amount=Money(100_000), hourly_rate=Money(12_345)),
    )
    await assign_budget(
        uow, clock, tenant=tenant, actor=BOSS, budget_id=a.id, targets=Targets(work_items=[2])
    )
    march = datetime(2026, 3, 2, 9, tzinfo=UTC)
    tracking.worklog(tenant, ann, march, 3_600, work_item="4", billable_length_s=1_800)  # 61.725 → 61.72
    tracking.worklog(tenant, bob, march, 7_200, work_item="3", billable_length_s=7_200)  # 246.90
    tracking.worklog(tenant, bob, march, 900, work_item="3")  # not billable
    tracking.worklog(tenant, ann, march, 3_600, work_item="9", billable_length_s=3_600)  # no budget
    _, usage = await budget_usage(uow, tenant=tenant, viewer=MANAGER, budget_id=a.id, start=None, end=None)
    assert (usage.tracked_s, usage.billable_s) == (3_600 + 7_200 + 900, 9_000)
    assert usage.amount == Money(6_172 + 24_690)
    assert usage.left_s == 10 * 3600 - 11_700
    assert usage.amount_left == Money(100_000 - 30_862)
    _, statement = await budget_statement(uow, tenant=tenant, viewer=MANAGER, budget_id=a.id, month="2026-03")
    assert [line.amount.amount for line in statement.lines] in ([6_172, 24_690], [24_690, 6_172])
    assert statement.amount == usage.amount
    assert {line.work_item_title for line in statement.lines} == {"Item 3", "Item 4"}
    _, february = await budget_statement(uow, tenant=tenant, viewer=MANAGER, budget_id=a.id, month="2026-02")
    assert february.lines == []


async def test_a_team_user_sees_only_budgets_their_worklogs_hit_and_only_their_own_lines(
    uow: FakeUnitOfWorkFactory,
    clock: FixedClock,
    tenant: Tenant,
    ann: User,
    seed: Seed,
    tracking: Tracking,
) -> None:
    bob = seed.user(tenant, "bob@acme.test", licensed=True)
    a = await add_budget(
        uow, clock, tenant=tenant, actor=BOSS, draft=BudgetDraft(name="A", amount=Money(100_000))
    )
    b = await add_budget(uow, clock, tenant=tenant, actor=BOSS, draft=BudgetDraft(name="B"))
    await assign_budget(
        uow, clock, tenant=tenant, actor=BOSS, budget_id=a.id, targets=Targets(work_items=[2])
    )
    mine = tracking.worklog(tenant, ann, NOW - timedelta(days=1), 600, work_item="4")
    tracking.worklog(tenant, bob, NOW - timedelta(days=1), 1_200, work_item="4")
    viewer = BudgetViewer(ann.id, sees_all=False)
    assert [x.id for x in await list_budgets(uow, tenant=tenant, viewer=viewer)] == [a.id]
    with pytest.raises(NotFound):
        await get_budget(uow, tenant=tenant, viewer=viewer, budget_id=b.id)
    _, usage = await budget_usage(uow, tenant=tenant, viewer=viewer, budget_id=a.id, start=None, end=None)
    assert usage.tracked_s == 600
    assert [row.key for row in usage.by_user] == [ann.id]
    assert usage.amount_left is None  # would reveal everyone's total
    assert (await resolve_worklogs(uow, tenant=tenant, worklogs=[(mine.id, "4")]))[mine.id] == Resolution(
        a.id, Assignment.PARENT
    )


async def test_a_month_that_is_not_yyyy_mm_is_refused(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant
) -> None:
    a = await add_budget(uow, clock, tenant=tenant, actor=BOSS, draft=BudgetDraft(name="A"))
    for bad in ("2026-13", "2026-3", "march", "0000-01"):
        with pytest.raises(ValidationFailed):
            await budget_statement(uow, tenant=tenant, viewer=MANAGER, budget_id=a.id, month=bad)


async def test_an_import_with_a_row_on_a_closed_budget_stores_nothing(
    uow: FakeUnitOfWorkFactory,
    clock: FixedClock,
    tenant: Tenant,
    ann: User,
    store: FakeDatabase,
) -> None:
    a = await add_budget(uow, clock, tenant=tenant, actor=BOSS, draft=BudgetDraft(name="A", open=False))
    store.budget_assignments.setdefault(tenant.id, {})[("work_item", "3")] = a.id  # assigned while open
    rows = [
        NumberedRow(
            line,
            {
                "User": ann.email,
                "Timestamp": "2026-03-09T08:00:00",
                "Duration (hours)": "1",
                "Work item": item,
            },
        )
        for line, item in ((2, "9"), (3, "4"))
    ]
    with pytest.raises(BudgetClosed):
        await import_worklogs(
            uow, clock, tenant=tenant, actor=ann, rows=rows, may_import_for_others=False, time_zone="UTC"
        )
    assert store.worklogs.get(tenant.id, {}) == {}
