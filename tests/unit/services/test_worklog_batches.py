"""Worklogs in batches, all or nothing (core.services.worklog_batches)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.clock import FixedClock
from core.errors import NotFound, ValidationFailed, WeekLocked
from core.services.worklog_batches import MAX_BATCH, create_worklogs, delete_worklogs
from core.services.worklogs import NewWorklog
from core.tracking import WeekStatus
from core.tracking.ports import UserWeek
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory

from .conftest import Seed
from .tracking_builders import Tracking

MONDAY = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)  # 2026-W11


@pytest.fixture
def tracking(store: FakeDatabase) -> Tracking:
    return Tracking(store)


async def test_one_bad_id_deletes_nothing_and_a_clean_batch_deletes_all_audited_once(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking, store: FakeDatabase
) -> None:
    tenant = seed.tenant()
    boss, ann = seed.admin(tenant), seed.user(tenant, "ann@acme.test")
    mine = [tracking.worklog(tenant, ann, MONDAY + timedelta(days=7, hours=n)) for n in range(3)]
    in_approved = tracking.worklog(tenant, ann, MONDAY)
    store.week_statuses.setdefault(tenant.id, {})[UserWeek(ann.id, "2026-W11")] = WeekStatus.APPROVED
    ids = [w.id for w in mine]

    with pytest.raises(NotFound) as missing:
        await delete_worklogs(uow, clock, tenant=tenant, actor=boss, ids=[*ids, "gone"],
                              actor_can_edit_others=True)
    assert missing.value.extra["errors"] == [
        {"index": 3, "id": "gone", "code": "not_found", "reason": "there is no such worklog"}
    ]
    with pytest.raises(WeekLocked) as locked:
        await delete_worklogs(uow, clock, tenant=tenant, actor=boss, ids=[in_approved.id, *ids],
                              actor_can_edit_others=True)
    assert [(e["index"], e["id"]) for e in locked.value.extra["errors"]] == [(0, in_approved.id)]
    assert len(tracking.worklogs(tenant)) == 4

    assert await delete_worklogs(uow, clock, tenant=tenant, actor=boss, ids=[*ids, ids[0]],
                                 actor_can_edit_others=True) == 3
    assert tracking.worklogs(tenant) == [in_approved]
    assert seed.actions().count("worklogs.batch_deleted") == 1


async def test_an_empty_or_oversized_batch_is_refused(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant()
    boss = seed.admin(tenant)
    for ids in ([], [f"w{n}" for n in range(MAX_BATCH + 1)]):
        with pytest.raises(ValidationFailed):
            await delete_worklogs(uow, clock, tenant=tenant, actor=boss, ids=ids, actor_can_edit_others=True)


async def test_a_batch_create_names_every_bad_line_and_adds_nothing_then_adds_all_audited_once(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking, store: FakeDatabase
) -> None:
    tenant = seed.tenant()
    seed.work_items(tenant, 42)
    boss, ann = seed.admin(tenant), seed.user(tenant, "ann@acme.test")
    later = MONDAY + timedelta(days=7)
    good = [(ann.id, NewWorklog(later, 600, work_item="42")), (boss.id, NewWorklog(later, 900))]
    bad = [*good, (ann.id, NewWorklog(later, 600, work_item="7")), (ann.id, NewWorklog(later, -5))]

    with pytest.raises(ValidationFailed) as refused:
        await create_worklogs(uow, clock, tenant=tenant, actor=boss, worklogs=bad, may_add_for_others=True)
    assert [(e["index"], e["code"]) for e in refused.value.extra["errors"]] == [
        (2, "unknown_work_item"), (3, "validation_error"),
    ]
    assert tracking.worklogs(tenant) == []

    made = await create_worklogs(uow, clock, tenant=tenant, actor=boss, worklogs=good,
                                 may_add_for_others=True)
    assert tracking.worklogs(tenant) == sorted(made, key=lambda w: (w.started_at, w.id))
    assert seed.actions().count("worklogs.batch_created") == 1
