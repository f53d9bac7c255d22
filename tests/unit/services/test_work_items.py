"""Work item automation (core.services.work_items): Completed Work is the sum of the item's
tracked hours, Remaining Work is lowered once per track, retried until done, never twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from core.clock import FixedClock
from core.services.work_items import completed_hours, lowered_remaining, run_work_item_outbox
from core.services.worklogs import NewWorklog, add_worklog, delete_worklog, edit_worklog
from core.tenancy import Tenant, User
from core.tracking import Worklog, WorklogChanges
from core.tracking.ports import DevOpsConnector
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory
from tests.fakes.tracking import FakeDevOpsConnector, FakeTrackingDirectory
from tests.fakes.work_items import mirror_items

from .conftest import Seed
from .tracking_builders import Tracking

MONDAY = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
D = Decimal


@pytest.fixture
def tracking(store: FakeDatabase) -> Tracking:
    return Tracking(store)


@pytest.fixture
def directory(store: FakeDatabase) -> FakeTrackingDirectory:
    return FakeTrackingDirectory(store)


@pytest.fixture
def platform() -> FakeDevOpsConnector:
    return FakeDevOpsConnector()


class Job:
    """The work-item job over one platform, and the use cases that queue its effects."""

    def __init__(
        self, uow: FakeUnitOfWorkFactory, clock: FixedClock, directory: FakeTrackingDirectory,
        connector_for: Callable[[str], DevOpsConnector],
    ) -> None:
        self.uow, self.clock, self.directory, self.connector_for = uow, clock, directory, connector_for

    async def run(self) -> int:
        return await run_work_item_outbox(self.uow, self.clock, self.directory, self.connector_for)

    async def log(self, tenant: Tenant, user: User, seconds: int, item: str = "42") -> Worklog:
        mirror_items(self.uow.store, tenant.id, item)  # a worklog names an item of the mirror
        return await add_worklog(self.uow, self.clock, tenant=tenant, actor=user, owner_id=user.id,
                                 new=NewWorklog(MONDAY, seconds, work_item=item), may_add_for_others=False)


@pytest.fixture
def job(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, directory: FakeTrackingDirectory,
    platform: FakeDevOpsConnector,
) -> Job:
    return Job(uow, clock, directory, lambda tenant_id: platform)


def test_completed_work_is_hours_with_one_decimal_rounded_half_to_even() -> None:
    assert completed_hours(5400) == D("1.5")
    assert completed_hours(180) == D("0.0")  # 0.05 h rounds to the even 0.0
    assert completed_hours(540) == D("0.2")  # 0.15 h rounds to the even 0.2


def test_remaining_work_is_lowered_to_two_decimals_never_below_zero_and_never_invented() -> None:
    assert lowered_remaining(D("8"), 5400) == D("6.50")
    assert lowered_remaining(D("1"), 7200) == D("0.00")
    assert lowered_remaining(None, 3600) is None
    assert lowered_remaining(D("3.333"), 0) == D("3.333")


async def test_a_new_worklog_sets_completed_work_and_lowers_remaining_work(
    job: Job, platform: FakeDevOpsConnector, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    platform.add_item("42", remaining=D("8"))
    await job.log(tenant, ann, 5400)
    assert await job.run() == 1
    state = platform.state("42")
    assert (state.completed_work, state.remaining_work) == (D("1.5"), D("6.50"))
    assert tracking.pending(tenant) == []


async def test_editing_and_deleting_recompute_completed_work_but_never_raise_remaining_work(
    job: Job, platform: FakeDevOpsConnector, seed: Seed, tracking: Tracking, uow: FakeUnitOfWorkFactory,
    clock: FixedClock,
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    platform.add_item("42", remaining=D("8"))
    worklog = await job.log(tenant, ann, 7200)
    await job.run()
    await edit_worklog(uow, clock, tenant=tenant, actor=ann, worklog_id=worklog.id,
                       changes=WorklogChanges(length_s=3600), actor_can_edit_others=False)
    await job.run()
    assert (platform.state("42").completed_work, platform.state("42").remaining_work) == (D("1.0"), D("6.00"))
    await delete_worklog(uow, clock, tenant=tenant, actor=ann, worklog_id=worklog.id,
                         actor_can_edit_others=False)
    await job.run()
    assert (platform.state("42").completed_work, platform.state("42").remaining_work) == (D("0.0"), D("6.00"))


async def test_running_again_writes_nothing_more(job: Job, platform: FakeDevOpsConnector, seed: Seed) -> None:
    tenant = seed.tenant()
    platform.add_item("42", remaining=D("8"))
    await job.log(tenant, seed.user(tenant), 3600)
    assert await job.run() == 1
    assert await job.run() == 0
    assert len(platform.writes) == 1


async def test_a_write_whose_answer_was_lost_is_not_applied_twice(
    job: Job, platform: FakeDevOpsConnector, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    platform.add_item("42", remaining=D("8"))
    await job.log(tenant, seed.user(tenant), 3600)
    platform.lose_acknowledgements = 1
    assert await job.run() == 0
    assert tracking.errors(tenant) == ["TimeoutError: the reply to the update was lost"] * 2
    assert len(tracking.pending(tenant)) == 2
    assert await job.run() == 0  # the retry recognises its own revision
    assert platform.writes == [("42", D("1.0"), D("7.00"))]
    assert platform.state("42").remaining_work == D("7.00")
    assert tracking.pending(tenant) == [] and tracking.errors(tenant) == []


async def test_a_stale_revision_is_read_again_and_written_on_top(
    job: Job, platform: FakeDevOpsConnector, seed: Seed
) -> None:
    tenant = seed.tenant()
    platform.add_item("42", remaining=D("8"))
    await job.log(tenant, seed.user(tenant), 3600)
    platform.meanwhile = [(None, D("10"))]  # someone re-estimates the item as the job writes
    assert await job.run() == 1
    assert platform.state("42").remaining_work == D("9.00")


async def test_an_item_that_keeps_changing_is_left_pending_for_the_next_run(
    job: Job, platform: FakeDevOpsConnector, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    platform.add_item("42", remaining=D("8"))
    await job.log(tenant, seed.user(tenant), 3600)
    platform.meanwhile = [(None, D("8"))] * 5
    assert await job.run() == 0
    assert len(tracking.pending(tenant)) == 2
    assert tracking.errors(tenant)[0].startswith("StaleWorkItem")
    assert await job.run() == 1
    assert platform.state("42").remaining_work == D("7.00")


async def test_a_platform_that_cannot_be_reached_leaves_the_update_pending_with_the_reason(
    job: Job, platform: FakeDevOpsConnector, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    platform.add_item("42", remaining=D("8"))
    await job.log(tenant, seed.user(tenant), 3600)
    platform.unreachable = True
    assert await job.run() == 0
    assert tracking.errors(tenant) == ["ConnectionError: the DevOps platform cannot be reached"] * 2
    platform.unreachable = False
    assert await job.run() == 1
    assert platform.state("42").remaining_work == D("7.00")


async def test_an_unknown_work_item_is_given_up_rather_than_retried_for_ever(
    job: Job, platform: FakeDevOpsConnector, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    await job.log(tenant, seed.user(tenant), 3600, item="404")
    assert await job.run() == 0
    assert tracking.pending(tenant) == []
    assert tracking.errors(tenant) == ["the work item does not exist"] * 2


async def test_an_item_already_showing_the_right_values_is_not_written(
    job: Job, platform: FakeDevOpsConnector, seed: Seed, tracking: Tracking, uow: FakeUnitOfWorkFactory,
    clock: FixedClock,
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    platform.add_item("42", completed=D("1.0"))
    worklog = await job.log(tenant, ann, 3600)
    await job.run()
    # A comment edit queues a recount; the sum is unchanged, so the platform is left alone.
    await edit_worklog(uow, clock, tenant=tenant, actor=ann, worklog_id=worklog.id,
                       changes=WorklogChanges(comment="notes"), actor_can_edit_others=False)
    assert await job.run() == 0
    assert platform.writes == [] and tracking.pending(tenant) == []


async def test_each_tenant_writes_to_its_own_platform(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, directory: FakeTrackingDirectory, seed: Seed
) -> None:
    acme, globex = seed.tenant("acme"), seed.tenant("globex")
    platforms = {acme.id: FakeDevOpsConnector(), globex.id: FakeDevOpsConnector()}
    for platform in platforms.values():
        platform.add_item("42", remaining=D("8"))
    job = Job(uow, clock, directory, platforms.__getitem__)
    await job.log(acme, seed.user(acme, "ann@acme.test"), 3600)
    await job.log(globex, seed.user(globex, "eve@globex.test"), 7200)
    assert await job.run() == 2
    assert platforms[acme.id].state("42").remaining_work == D("7.00")
    assert platforms[globex.id].state("42").remaining_work == D("6.00")
