"""What the tracking use cases share (core.services.tracking_common): the owner's zone, plan
limits, locked days and the work-item effects a worklog change queues."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from core.errors import WeekLocked
from core.services.tracking_common import (
    check_limits,
    ensure_day_unlocked,
    queue_work_item_effects,
    user_zone,
)
from core.tracking import LockPolicy, WeekStatus, WorklogLimitReached
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory

from .conftest import NOW, Seed, active
from .tracking_builders import THIS_WEEK, Tracking


@pytest.fixture
def tracking(store: FakeDatabase) -> Tracking:
    return Tracking(store)


async def test_a_users_own_time_zone_wins_over_the_tenants(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant(time_zone="Europe/Berlin")
    ann, bob = seed.user(tenant, "ann@acme.test"), seed.user(tenant, "bob@acme.test")
    tracking.preference(tenant, ann, time_zone="America/New_York")
    async with uow() as work:
        repo = work.tenant(tenant.id).tracking()
        assert await user_zone(repo, tenant, ann.id) == "America/New_York"
        assert await user_zone(repo, tenant, bob.id) == "Europe/Berlin"


async def test_the_free_plan_refuses_the_501st_worklog_of_the_tenant(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant(subscription=active("free", seats=3))
    ann, bob = seed.user(tenant, "ann@acme.test"), seed.user(tenant, "bob@acme.test")
    tracking.many_worklogs(tenant, ann, 300)
    tracking.many_worklogs(tenant, bob, 199)
    async with uow() as work:
        await check_limits(work.tenant(tenant.id), work.directory.catalogue, {bob.id: 1})
        with pytest.raises(WorklogLimitReached) as refused:
            await check_limits(work.tenant(tenant.id), work.directory.catalogue, {bob.id: 2})
    assert refused.value.extra == {"limit": 500, "scope": "tenant"}


async def test_the_start_plan_counts_1000_worklogs_per_user_not_per_tenant(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant(subscription=active("start", seats=2))
    ann, bob = seed.user(tenant, "ann@acme.test"), seed.user(tenant, "bob@acme.test")
    tracking.many_worklogs(tenant, ann, 1000)
    async with uow() as work:
        scope = work.tenant(tenant.id)
        await check_limits(scope, work.directory.catalogue, {bob.id: 1000})
        with pytest.raises(WorklogLimitReached) as refused:
            await check_limits(scope, work.directory.catalogue, {bob.id: 1, ann.id: 1})
    assert refused.value.extra["scope"] == "user"


async def test_an_import_for_several_users_is_checked_whole_against_the_tenant_limit(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant(subscription=active("free", seats=2))
    ann, bob = seed.user(tenant, "ann@acme.test"), seed.user(tenant, "bob@acme.test")
    tracking.many_worklogs(tenant, ann, 400)
    async with uow() as work:
        with pytest.raises(WorklogLimitReached):
            await check_limits(work.tenant(tenant.id), work.directory.catalogue, {ann.id: 60, bob.id: 41})


async def test_the_team_plan_and_a_trial_have_no_worklog_limit(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    for tenant in (seed.tenant("team", subscription=active("team")), seed.tenant("trial")):
        user = seed.user(tenant, f"ann@{tenant.slug}.test")
        tracking.many_worklogs(tenant, user, 600)
        async with uow() as work:
            await check_limits(work.tenant(tenant.id), work.directory.catalogue, {user.id: 5000})


async def test_an_approved_week_refuses_a_worklog_on_any_of_its_days(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    tracking.week(tenant, ann, WeekStatus.APPROVED)
    async with uow() as work:
        repo = work.tenant(tenant.id).tracking()
        with pytest.raises(WeekLocked) as refused:
            await ensure_day_unlocked(repo, ann.id, NOW, "UTC", LockPolicy())
        # The next week is open.
        await ensure_day_unlocked(repo, ann.id, NOW + timedelta(days=7), "UTC", LockPolicy())
    assert refused.value.extra["week"] == str(THIS_WEEK)


async def test_the_lock_date_refuses_every_day_up_to_it_and_no_later(
    uow: FakeUnitOfWorkFactory, seed: Seed
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    lock = LockPolicy(locked_until=date(2026, 3, 8))
    async with uow() as work:
        repo = work.tenant(tenant.id).tracking()
        with pytest.raises(WeekLocked):
            await ensure_day_unlocked(repo, ann.id, datetime(2026, 3, 8, 23, 59, tzinfo=UTC), "UTC", lock)
        await ensure_day_unlocked(repo, ann.id, datetime(2026, 3, 9, 0, 0, tzinfo=UTC), "UTC", lock)


async def test_the_locked_day_is_the_day_in_the_owners_zone(uow: FakeUnitOfWorkFactory, seed: Seed) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    lock = LockPolicy(locked_until=date(2026, 3, 8))
    # 23:30 UTC on the 8th is already the 9th in Berlin: not locked there.
    late = datetime(2026, 3, 8, 23, 30, tzinfo=UTC)
    async with uow() as work:
        repo = work.tenant(tenant.id).tracking()
        await ensure_day_unlocked(repo, ann.id, late, "Europe/Berlin", lock)
        with pytest.raises(WeekLocked):
            await ensure_day_unlocked(repo, ann.id, late, "UTC", lock)


async def test_a_new_worklog_with_a_work_item_queues_a_recount_and_lowers_remaining_work_once(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    worklog = tracking.worklog(tenant, ann, length_s=5400, work_item="42")
    async with uow(write=True) as work:
        repo = work.tenant(tenant.id).tracking()
        await queue_work_item_effects(repo, None, worklog, NOW, "change-1")
        # The same creation queued again (a retried request) lowers Remaining Work no further.
        await queue_work_item_effects(repo, None, worklog, NOW, "change-1")
        await work.commit()
    assert tracking.effects(tenant) == [("42", "sync", 0), ("42", "remaining", 5400)]


async def test_moving_a_worklog_to_another_item_recounts_both_and_lowers_nothing(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    before = tracking.worklog(tenant, ann, work_item="42")
    after = replace(before, work_item="43")
    async with uow(write=True) as work:
        await queue_work_item_effects(work.tenant(tenant.id).tracking(), before, after, NOW, "change-2")
        await work.commit()
    assert tracking.effects(tenant) == [("42", "sync", 0), ("43", "sync", 0)]


async def test_deleting_a_worklog_recounts_its_item_and_one_without_an_item_queues_nothing(
    uow: FakeUnitOfWorkFactory, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    with_item = tracking.worklog(tenant, ann, work_item="42")
    without = tracking.worklog(tenant, ann, work_item=None, comment="meeting")
    async with uow(write=True) as work:
        repo = work.tenant(tenant.id).tracking()
        await queue_work_item_effects(repo, with_item, None, NOW, "change-3")
        await queue_work_item_effects(repo, None, without, NOW, "change-4")
        await work.commit()
    assert tracking.effects(tenant) == [("42", "sync", 0)]
