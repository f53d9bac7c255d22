"""Worklogs after the fact (core.services.worklogs): add, edit, delete, list, import, export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.clock import FixedClock
from core.errors import AccessDenied, NotFound, WeekLocked
from core.services.worklog_import import ImportRejected, import_worklogs
from core.services.worklogs import (
    NewWorklog,
    add_worklog,
    delete_worklog,
    edit_worklog,
    export_worklogs,
    list_worklogs,
)
from core.tracking import WeekStatus, WorklogChanges, WorklogFlag, WorklogLimitReached
from core.tracking.ports import WorklogCursor
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory

from .conftest import Seed, active
from .tracking_builders import Tracking


@pytest.fixture
def tracking(store: FakeDatabase) -> Tracking:
    return Tracking(store)


MONDAY = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


def row(
    email: str, timestamp: str = "2026-03-09T08:00:00", hours: str = "1.5", **more: str
) -> dict[str, object]:
    return {"User": email, "Timestamp": timestamp, "Duration (hours)": hours, **more}


# Listing ------------------------------------------------------------------------------------


async def test_pages_walk_every_worklog_once_in_start_order_even_with_equal_starts(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    # Two by two with equal starts, ids falling as they are added: the order is (start, id).
    made = [tracking.worklog(tenant, ann, MONDAY + timedelta(hours=n // 2), worklog_id=f"w{9 - n}")
            for n in range(5)]
    seen, after = [], None
    while True:
        page = await list_worklogs(uow, tenant=tenant, user_id=None, after=after, limit=2)
        seen += page
        if len(page) < 2:
            break
        after = WorklogCursor(page[-1].started_at, page[-1].id)
    assert [w.id for w in seen] == [w.id for w in sorted(made, key=lambda w: (w.started_at, w.id))]
    assert uow.writes == 0


async def test_listing_keeps_to_the_user_and_the_window_asked_for(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann, bob = seed.user(tenant, "ann@acme.test"), seed.user(tenant, "bob@acme.test")
    inside = tracking.worklog(tenant, ann, MONDAY)
    tracking.worklog(tenant, ann, MONDAY + timedelta(days=1))  # at the window's end: left out
    tracking.worklog(tenant, bob, MONDAY)
    found = await list_worklogs(
        uow, tenant=tenant, user_id=ann.id, start=MONDAY, end=MONDAY + timedelta(days=1)
    )
    assert found == [inside]


# Adding -----------------------------------------------------------------------------------


async def test_a_worklog_added_by_hand_keeps_every_field_and_is_flagged_manual_and_billable(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    seed.work_items(tenant, 42)
    ann = seed.user(tenant)
    new = NewWorklog(MONDAY, 5400, 3600, work_item="42", comment="review", activity_type="Development")
    worklog = await add_worklog(
        uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, new=new, may_add_for_others=False
    )
    assert tracking.worklogs(tenant) == [worklog]
    assert (worklog.length_s, worklog.billable_length_s, worklog.comment) == (5400, 3600, "review")
    assert worklog.flags == frozenset({WorklogFlag.MANUAL, WorklogFlag.BILLABLE})
    assert worklog.added_by == ann.id
    assert tracking.stop_reason(tenant, worklog) is None
    assert tracking.effects(tenant) == [("42", "sync", 0), ("42", "remaining", 5400)]


async def test_a_team_user_cannot_add_a_worklog_for_someone_else(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann, bob = seed.user(tenant, "ann@acme.test"), seed.user(tenant, "bob@acme.test")
    with pytest.raises(AccessDenied) as refused:
        await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=bob.id,
                          new=NewWorklog(MONDAY, 600), may_add_for_others=False)
    assert refused.value.code == "not_permitted"
    assert tracking.worklogs(tenant) == [] and uow.commits == 0


async def test_a_manager_adds_for_a_user_of_the_tenant_and_not_for_an_unknown_one(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant, other = seed.tenant("acme"), seed.tenant("globex")
    boss, ann = seed.admin(tenant), seed.user(tenant)
    stranger = seed.user(other, "eve@globex.test")
    worklog = await add_worklog(uow, clock, tenant=tenant, actor=boss, owner_id=ann.id,
                                new=NewWorklog(MONDAY, 600), may_add_for_others=True)
    assert (worklog.user_id, worklog.added_by) == (ann.id, boss.id)
    with pytest.raises(NotFound) as refused:
        await add_worklog(uow, clock, tenant=tenant, actor=boss, owner_id=stranger.id,
                          new=NewWorklog(MONDAY, 600), may_add_for_others=True)
    assert refused.value.extra == {"field": "user_id"}
    assert tracking.worklogs(tenant) == [worklog] and tracking.worklogs(other) == []


async def test_nothing_is_added_inside_an_approved_week(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    seed.work_items(tenant, 42)
    ann = seed.user(tenant)
    tracking.week(tenant, ann, WeekStatus.APPROVED)
    with pytest.raises(WeekLocked):
        await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id,
                          new=NewWorklog(MONDAY, 600, work_item="42"), may_add_for_others=False)
    assert tracking.worklogs(tenant) == [] and tracking.outbox(tenant) == []


async def test_the_free_plan_refuses_the_501st_worklog(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant(subscription=active("free", seats=1))
    ann = seed.user(tenant)
    tracking.many_worklogs(tenant, ann, 500)
    with pytest.raises(WorklogLimitReached):
        await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id,
                          new=NewWorklog(MONDAY, 600), may_add_for_others=False)
    assert len(tracking.worklogs(tenant)) == 500


# Editing and deleting ---------------------------------------------------------------------


async def test_editing_moves_a_worklog_to_another_item_and_recounts_both(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    seed.work_items(tenant, 42, 43)
    ann = seed.user(tenant)
    before = tracking.worklog(tenant, ann, MONDAY, work_item="42")
    after = await edit_worklog(uow, clock, tenant=tenant, actor=ann, worklog_id=before.id,
                               changes=WorklogChanges(work_item="43", comment=None),
                               actor_can_edit_others=False)
    assert (after.work_item, after.comment) == ("43", None)
    assert WorklogFlag.CHANGED in after.flags
    assert tracking.worklogs(tenant) == [after]
    assert tracking.effects(tenant) == [("42", "sync", 0), ("43", "sync", 0)]


async def test_an_edit_that_changes_nothing_stores_and_queues_nothing(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    before = tracking.worklog(tenant, ann, MONDAY, work_item="42")
    same = await edit_worklog(uow, clock, tenant=tenant, actor=ann, worklog_id=before.id,
                              changes=WorklogChanges(work_item="42"), actor_can_edit_others=False)
    assert same == before
    assert uow.commits == 0 and tracking.outbox(tenant) == []


async def test_a_worklog_cannot_be_moved_into_or_out_of_a_locked_week(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    tracking.week(tenant, ann, WeekStatus.CLOSED)
    open_week = tracking.worklog(tenant, ann, MONDAY + timedelta(days=7))
    locked_week = tracking.worklog(tenant, ann, MONDAY)
    for worklog, to in ((open_week, MONDAY), (locked_week, MONDAY + timedelta(days=8))):
        with pytest.raises(WeekLocked):
            await edit_worklog(uow, clock, tenant=tenant, actor=ann, worklog_id=worklog.id,
                               changes=WorklogChanges(started_at=to), actor_can_edit_others=False)
    assert tracking.worklogs(tenant) == [locked_week, open_week]


async def test_a_managers_worklog_for_a_user_is_editable_by_both_until_the_user_edits_it(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    manager, ann = seed.user(tenant, "max@acme.test"), seed.user(tenant, "ann@acme.test")
    worklog = tracking.worklog(tenant, ann, MONDAY, added_by=manager)
    await edit_worklog(uow, clock, tenant=tenant, actor=manager, worklog_id=worklog.id,
                       changes=WorklogChanges(comment="by max"), actor_can_edit_others=False)
    await edit_worklog(uow, clock, tenant=tenant, actor=ann, worklog_id=worklog.id,
                       changes=WorklogChanges(comment="by ann"), actor_can_edit_others=False)
    with pytest.raises(AccessDenied):
        await edit_worklog(uow, clock, tenant=tenant, actor=manager, worklog_id=worklog.id,
                           changes=WorklogChanges(comment="max again"), actor_can_edit_others=False)
    with pytest.raises(AccessDenied):
        await delete_worklog(uow, clock, tenant=tenant, actor=manager, worklog_id=worklog.id,
                             actor_can_edit_others=False)
    [kept] = tracking.worklogs(tenant)
    assert kept.comment == "by ann" and kept.owner_edited


async def test_editing_or_deleting_a_worklog_of_another_tenant_is_not_found(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    acme, globex = seed.tenant("acme"), seed.tenant("globex")
    ann = seed.user(acme)
    theirs = tracking.worklog(globex, seed.user(globex, "eve@globex.test"), MONDAY)
    with pytest.raises(NotFound):
        await edit_worklog(uow, clock, tenant=acme, actor=ann, worklog_id=theirs.id,
                           changes=WorklogChanges(comment="mine"), actor_can_edit_others=True)
    with pytest.raises(NotFound):
        await delete_worklog(uow, clock, tenant=acme, actor=ann, worklog_id=theirs.id,
                             actor_can_edit_others=True)
    assert tracking.worklogs(globex) == [theirs]


async def test_deleting_removes_the_worklog_and_recounts_its_item_without_raising_remaining_work(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    worklog = tracking.worklog(tenant, ann, MONDAY, work_item="42")
    await delete_worklog(uow, clock, tenant=tenant, actor=ann, worklog_id=worklog.id,
                         actor_can_edit_others=False)
    assert tracking.worklogs(tenant) == []
    assert tracking.effects(tenant) == [("42", "sync", 0)]


async def test_nothing_is_deleted_inside_a_locked_day(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    tracking.rules(tenant, locked_until=MONDAY.date())
    worklog = tracking.worklog(tenant, ann, MONDAY)
    with pytest.raises(WeekLocked):
        await delete_worklog(uow, clock, tenant=tenant, actor=ann, worklog_id=worklog.id,
                             actor_can_edit_others=True)
    assert tracking.worklogs(tenant) == [worklog]


# Export and import ------------------------------------------------------------------------


async def test_export_gives_each_worklog_with_its_owners_email_in_the_zone_asked(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant, "ann@acme.test")
    tracking.worklog(tenant, ann, MONDAY, 5400, work_item="42", comment="=SUM(A1)")
    [exported] = await export_worklogs(uow, tenant=tenant, user_id=None, time_zone="Europe/Berlin")
    assert exported["User"] == "ann@acme.test"
    assert exported["Timestamp"] == "2026-03-09T09:00:00+01:00"
    assert exported["Duration (hours)"] == "1.5"
    assert exported["Comment"] == "'=SUM(A1)"  # a formula cannot run in a spreadsheet


async def test_an_import_stores_every_row_flagged_imported_and_queues_their_items(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    seed.work_items(tenant, 42)
    boss, ann = seed.admin(tenant), seed.user(tenant, "ann@acme.test")
    rows = [(2, row("ann@acme.test", **{"Work item": "42"})), (3, row("BOSS@acme.test", hours="2"))]
    stored = await import_worklogs(uow, clock, tenant=tenant, actor=boss, rows=rows,
                                   may_import_for_others=True, time_zone="UTC")
    assert [(w.user_id, w.length_s) for w in stored] == [(ann.id, 5400), (boss.id, 7200)]
    assert all(w.flags == frozenset({WorklogFlag.IMPORTED}) and w.added_by == boss.id for w in stored)
    assert len(tracking.worklogs(tenant)) == 2
    # One effect per work item, carrying all of its imported time (core.services.tracking_common).
    assert tracking.effects(tenant) == [("42", "import", 5400)]


async def test_an_import_with_bad_rows_stores_nothing_and_names_every_bad_line(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant, "ann@acme.test")
    tracking.week(tenant, ann, WeekStatus.APPROVED)
    rows = [
        (2, row("ann@acme.test", timestamp="2026-03-16T08:00:00")),
        (3, row("ann@acme.test", hours="-1", timestamp="2026-03-16T08:00:00")),
        (4, row("ann@acme.test")),  # inside the approved week
        (5, row("ann@acme.test", timestamp="2026-03-17T08:00:00")),
    ]
    with pytest.raises(ImportRejected) as rejected:
        await import_worklogs(uow, clock, tenant=tenant, actor=ann, rows=rows,
                              may_import_for_others=False, time_zone="UTC")
    assert [e["line"] for e in rejected.value.extra["errors"]] == [3, 4]
    assert "locked week" in rejected.value.extra["errors"][1]["reason"]
    assert tracking.worklogs(tenant) == [] and uow.commits == 0


async def test_a_team_user_cannot_import_rows_for_someone_else(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant, "ann@acme.test")
    seed.user(tenant, "bob@acme.test")
    with pytest.raises(ImportRejected) as rejected:
        await import_worklogs(uow, clock, tenant=tenant, actor=ann, rows=[(2, row("bob@acme.test"))],
                              may_import_for_others=False, time_zone="UTC")
    assert [e["line"] for e in rejected.value.extra["errors"]] == [2]
    assert tracking.worklogs(tenant) == []


async def test_an_import_that_would_pass_the_start_plans_limit_for_one_user_stores_nothing(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant(subscription=active("start", seats=2))
    boss, ann = seed.admin(tenant), seed.user(tenant, "ann@acme.test")
    tracking.many_worklogs(tenant, ann, 999)
    rows = [(2, row("boss@acme.test")), (3, row("ann@acme.test")), (4, row("ann@acme.test", hours="1"))]
    with pytest.raises(WorklogLimitReached):
        await import_worklogs(uow, clock, tenant=tenant, actor=boss, rows=rows,
                              may_import_for_others=True, time_zone="UTC")
    assert len(tracking.worklogs(tenant)) == 999
