"""Worklogs changed in a batch, all or nothing (core.services.worklog_batch_edit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.activities import ActivityType
from core.budgets import AssignmentKind, BudgetClosed, BudgetDraft, create_budget
from core.clock import FixedClock
from core.errors import AccessDenied, NotFound, ValidationFailed, WeekLocked
from core.services.worklog_batch_edit import BatchChanges, update_worklogs
from core.tracking import TrackingRules, WeekStatus
from core.tracking.ports import UserWeek
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory

from .conftest import Seed
from .tracking_builders import Tracking

MONDAY = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)  # 2026-W11
NEXT_WEEK = MONDAY + timedelta(days=7)


@pytest.fixture
def tracking(store: FakeDatabase) -> Tracking:
    return Tracking(store)


async def test_billable_true_makes_each_whole_length_billable_and_the_batch_is_audited_once(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    boss, ann = seed.admin(tenant), seed.user(tenant, "ann@acme.test")
    short = tracking.worklog(tenant, ann, NEXT_WEEK, 600, comment="short")
    long = tracking.worklog(tenant, ann, NEXT_WEEK + timedelta(hours=2), 5400, comment="long")

    updated = await update_worklogs(uow, clock, tenant=tenant, actor=boss, ids=[short.id, long.id],
                                    changes=BatchChanges(billable=True), actor_can_edit_others=True)

    assert updated == 2
    assert {w.id: w.billable_length_s for w in tracking.worklogs(tenant)} == {short.id: 600, long.id: 5400}
    assert seed.actions().count("worklogs.batch_updated") == 1
    [row] = seed.audit("worklogs.batch_updated")
    assert row.detail == {"count": 2, "fields": ["billable"]}


async def test_a_missing_a_foreign_or_a_locked_worklog_changes_nothing_and_each_is_named(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking, store: FakeDatabase
) -> None:
    """404 before 403 before 423, as the batch delete answers; the ids that are fine are untouched."""
    tenant = seed.tenant()
    boss, ann = seed.admin(tenant), seed.user(tenant, "ann@acme.test")
    free = tracking.worklog(tenant, ann, NEXT_WEEK, comment="free")
    bosses = tracking.worklog(tenant, boss, NEXT_WEEK, comment="the boss's")
    in_approved = tracking.worklog(tenant, ann, MONDAY, comment="approved")
    store.week_statuses.setdefault(tenant.id, {})[UserWeek(ann.id, "2026-W11")] = WeekStatus.APPROVED
    before = tracking.worklogs(tenant)
    billable = BatchChanges(billable=True)

    with pytest.raises(NotFound) as missing:
        await update_worklogs(uow, clock, tenant=tenant, actor=ann, ids=[free.id, "gone", bosses.id],
                              changes=billable, actor_can_edit_others=False)
    assert missing.value.extra["errors"] == [
        {"index": 1, "id": "gone", "code": "not_found", "reason": "there is no such worklog"}
    ]
    with pytest.raises(AccessDenied) as foreign:
        await update_worklogs(uow, clock, tenant=tenant, actor=ann, ids=[free.id, bosses.id],
                              changes=billable, actor_can_edit_others=False)
    assert [(e["index"], e["id"], e["code"]) for e in foreign.value.extra["errors"]] == [
        (1, bosses.id, "not_permitted")
    ]
    with pytest.raises(WeekLocked) as locked:
        await update_worklogs(uow, clock, tenant=tenant, actor=boss, ids=[in_approved.id, free.id],
                              changes=billable, actor_can_edit_others=True)
    assert [(e["index"], e["id"], e["code"]) for e in locked.value.extra["errors"]] == [
        (0, in_approved.id, "week_locked")
    ]
    assert tracking.worklogs(tenant) == before
    assert "worklogs.batch_updated" not in seed.actions()


async def test_a_billable_length_past_one_worklogs_length_refuses_the_batch_naming_that_worklog(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    boss, ann = seed.admin(tenant), seed.user(tenant, "ann@acme.test")
    long = tracking.worklog(tenant, ann, NEXT_WEEK, 3600, comment="long")
    short = tracking.worklog(tenant, ann, NEXT_WEEK + timedelta(hours=2), 600, comment="short")

    with pytest.raises(ValidationFailed) as refused:
        await update_worklogs(uow, clock, tenant=tenant, actor=boss, ids=[long.id, short.id],
                              changes=BatchChanges(billable_length_s=1800), actor_can_edit_others=True)

    assert [(e["index"], e["id"], e["code"]) for e in refused.value.extra["errors"]] == [
        (1, short.id, "validation_error")
    ]
    assert [w.billable_length_s for w in tracking.worklogs(tenant)] == [0, 0]


async def test_clearing_the_work_item_under_the_require_work_item_rule_names_the_worklogs_without_a_comment(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    seed.work_items(tenant, 42)
    boss, ann = seed.admin(tenant), seed.user(tenant, "ann@acme.test")
    tracking.rules(tenant, TrackingRules(tracking_without_work_item=False))
    said = tracking.worklog(tenant, ann, NEXT_WEEK, work_item="42", comment="said why")
    bare = tracking.worklog(tenant, ann, NEXT_WEEK + timedelta(hours=2), work_item="42")

    with pytest.raises(ValidationFailed) as refused:
        await update_worklogs(uow, clock, tenant=tenant, actor=boss, ids=[said.id, bare.id],
                              changes=BatchChanges(work_item=None), actor_can_edit_others=True)
    assert [(e["index"], e["id"]) for e in refused.value.extra["errors"]] == [(1, bare.id)]
    assert all(w.work_item == "42" for w in tracking.worklogs(tenant))

    await update_worklogs(uow, clock, tenant=tenant, actor=boss, ids=[said.id],
                          changes=BatchChanges(work_item=None), actor_can_edit_others=True)
    assert {w.id: w.work_item for w in tracking.worklogs(tenant)} == {said.id: None, bare.id: "42"}


async def test_an_unknown_activity_type_or_work_item_refuses_the_whole_batch_by_field(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    boss = seed.admin(tenant)
    worklog = tracking.worklog(tenant, boss, NEXT_WEEK, comment="mine")
    for changes, field in ((BatchChanges(activity_type_id="nope"), "activity_type_id"),
                           (BatchChanges(work_item="7"), "work_item"),
                           (BatchChanges(billable=True, billable_length_s=60), "billable"),
                           (BatchChanges(), "set")):
        with pytest.raises(ValidationFailed) as refused:
            await update_worklogs(uow, clock, tenant=tenant, actor=boss, ids=[worklog.id], changes=changes,
                                  actor_can_edit_others=True)
        assert refused.value.field == field
    assert tracking.worklogs(tenant) == [worklog]


async def test_the_activity_type_is_set_by_id_with_its_current_name(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking, store: FakeDatabase
) -> None:
    tenant = seed.tenant()
    boss = seed.admin(tenant)
    store.activity_types.setdefault(tenant.id, {})["dev"] = ActivityType(
        id="dev", name="Development", color="#336699", billable_by_default=False, active=True,
        hourly_rate=None)
    worklog = tracking.worklog(tenant, boss, NEXT_WEEK, comment="mine")

    await update_worklogs(uow, clock, tenant=tenant, actor=boss, ids=[worklog.id],
                          changes=BatchChanges(activity_type_id="dev"), actor_can_edit_others=True)

    [after] = tracking.worklogs(tenant)
    assert (after.activity_type_id, after.activity_type) == ("dev", "Development")


async def test_a_budget_is_assigned_to_every_worklog_and_null_removes_their_own_assignments(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking, store: FakeDatabase
) -> None:
    tenant = seed.tenant()
    boss = seed.admin(tenant)
    store.budgets.setdefault(tenant.id, {})["b1"] = create_budget(BudgetDraft(name="Shop"), "b1", clock.now())
    shut = create_budget(BudgetDraft(name="Old", open=False), "b2", clock.now())
    store.budgets[tenant.id]["b2"] = shut
    logs = [tracking.worklog(tenant, boss, NEXT_WEEK + timedelta(hours=n), comment=f"{n}") for n in range(3)]
    ids = [w.id for w in logs]

    await update_worklogs(uow, clock, tenant=tenant, actor=boss, ids=ids[:2],
                          changes=BatchChanges(budget_id="b1"), actor_can_edit_others=True)
    assert {target for (_, target), budget in store.budget_assignments[tenant.id].items()
            if budget == "b1"} == set(ids[:2])

    with pytest.raises(BudgetClosed):
        await update_worklogs(uow, clock, tenant=tenant, actor=boss, ids=ids,
                              changes=BatchChanges(budget_id="b2"), actor_can_edit_others=True)
    with pytest.raises(NotFound):
        await update_worklogs(uow, clock, tenant=tenant, actor=boss, ids=ids,
                              changes=BatchChanges(budget_id="nope"), actor_can_edit_others=True)

    # One of them sits on the closed budget: unassigning it is refused (frozen), naming it.
    store.budget_assignments[tenant.id][(AssignmentKind.WORKLOG.value, ids[2])] = "b2"
    assignments = dict(store.budget_assignments[tenant.id])
    with pytest.raises(BudgetClosed) as frozen:
        await update_worklogs(uow, clock, tenant=tenant, actor=boss, ids=ids,
                              changes=BatchChanges(budget_id=None), actor_can_edit_others=True)
    assert [(e["index"], e["code"]) for e in frozen.value.extra["errors"]] == [(2, "budget_closed")]
    assert store.budget_assignments[tenant.id] == assignments

    await update_worklogs(uow, clock, tenant=tenant, actor=boss, ids=ids[:2],
                          changes=BatchChanges(budget_id=None), actor_can_edit_others=True)
    assert store.budget_assignments[tenant.id] == {(AssignmentKind.WORKLOG.value, ids[2]): "b2"}
