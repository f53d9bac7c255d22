"""The Azure DevOps work item sync (core.services.work_item_sync) on the fake mirror and a
fake DevOps project: pages upserted one unit of work each, a watermark that moves only
when a run completes, and a failed run that a re-run repairs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from core.clock import FixedClock
from core.services.work_item_sync import sync_work_items
from core.tenancy import Tenant
from core.work_items import Assignee, Iteration, WorkItem
from core.work_items.ports import SyncPage, SyncState, WorkItemFilter
from tests.fakes import FakeUnitOfWorkFactory
from tests.fakes.devops_work_items import FakeDevOpsWorkItems

from .conftest import NOW, Seed

SPRINT_1 = Iteration(0, "Fabrikam\\Sprint 1", date(2026, 3, 2), date(2026, 3, 13), external_id="guid-1")
SPRINT_2 = Iteration(0, "Fabrikam\\Sprint 2", date(2026, 3, 16), date(2026, 3, 27), external_id="guid-2")


@pytest.fixture
def tenant(seed: Seed) -> Tenant:
    return seed.tenant()


@pytest.fixture
def devops() -> FakeDevOpsWorkItems:
    source = FakeDevOpsWorkItems(now=NOW - timedelta(days=1), team_iterations=[SPRINT_1, SPRINT_2])
    for n in range(10):
        if n % 4 == 0:
            source.now += timedelta(seconds=1)  # some items share a ChangedDate across pages
        source.add(f"Item {n}", path="Fabrikam\\Sprint 1" if n % 2 else "Fabrikam")
    return source


async def _mirror(uow: FakeUnitOfWorkFactory, tenant: Tenant) -> tuple[list[WorkItem], list[Iteration]]:
    async with uow() as work:
        repo = work.tenant(tenant.id).work_items()
        page = await repo.find(WorkItemFilter(), None, 1000)
        return page.items, await repo.iterations()


async def _state(uow: FakeUnitOfWorkFactory, tenant: Tenant) -> SyncState:
    async with uow() as work:
        return await work.tenant(tenant.id).work_items().sync_state()


async def test_a_first_run_mirrors_every_item_over_several_pages_and_the_team_iterations(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, devops: FakeDevOpsWorkItems,
) -> None:
    run = await sync_work_items(uow, clock, devops, tenant_id=tenant.id)

    assert run.completed and (run.pages, run.items) == (4, 10)  # 3 + 3 + 3 + 1
    items, iterations = await _mirror(uow, tenant)
    assert [i.id for i in items] == list(range(1, 11))
    sprint_1 = next(it for it in iterations if it.path == SPRINT_1.path)
    assert (sprint_1.start, sprint_1.finish) == (SPRINT_1.start, SPRINT_1.finish)
    assert sprint_1.external_id == "guid-1"
    assert {i.iteration_id for i in items if i.id % 2 == 0} == {sprint_1.id}  # odd n ↔ even id
    assert {i.iteration_id for i in items if i.id % 2} == {None}  # the project's root
    state = await _state(uow, tenant)
    assert state == SyncState(watermark=devops.now, last_run_at=NOW, last_success_at=NOW, last_error=None,
                              items_seen=10)


async def test_the_next_run_reads_only_what_changed_since_the_watermark(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, devops: FakeDevOpsWorkItems,
) -> None:
    await sync_work_items(uow, clock, devops, tenant_id=tenant.id)
    devops.edit(4, title="Renamed", state="Active")
    devops.edit(9, remaining_h=Decimal("2.5"))
    served = len(devops.served)

    run = await sync_work_items(uow, clock, devops, tenant_id=tenant.id)

    assert run.completed and run.items == 2
    assert sorted(devops.served[served:]) == [4, 9]
    items, _ = await _mirror(uow, tenant)
    by_id = {i.id: i for i in items}
    assert (by_id[4].title, by_id[4].state, by_id[9].remaining_h) == ("Renamed", "Active", Decimal("2.5"))
    assert (await _state(uow, tenant)).watermark == devops.now
    assert (await sync_work_items(uow, clock, devops, tenant_id=tenant.id)).items == 0


async def test_a_run_that_fails_mid_way_keeps_the_watermark_and_a_rerun_ends_as_an_uninterrupted_run(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, devops: FakeDevOpsWorkItems,
    seed: Seed,
) -> None:
    await sync_work_items(uow, clock, devops, tenant_id=tenant.id)
    before = await _state(uow, tenant)
    for item_id in (2, 5, 7, 8):
        devops.edit(item_id, title=f"edited {item_id}")
    devops.page_size = 2
    devops.fail_on_page = devops.page_requests + 2  # the second page of the next run

    failed = await sync_work_items(uow, clock, devops, tenant_id=tenant.id)

    assert not failed.completed and failed.items == 2
    state = await _state(uow, tenant)
    assert state.watermark == before.watermark and state.last_success_at == before.last_success_at
    assert state.last_error == "SourceDown: the connection was dropped"
    again = await sync_work_items(uow, clock, devops, tenant_id=tenant.id)
    assert again.completed and again.items == 4
    assert (await _state(uow, tenant)).last_error is None

    # The same project synced by another tenant without a failure: the same mirror.
    other = seed.tenant("other")
    await sync_work_items(uow, clock, devops, tenant_id=other.id)
    assert await _mirror(uow, tenant) == await _mirror(uow, other)


async def test_iterations_keep_their_mirror_ids_across_runs_even_when_renamed(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, devops: FakeDevOpsWorkItems,
) -> None:
    await sync_work_items(uow, clock, devops, tenant_id=tenant.id)
    _, first = await _mirror(uow, tenant)
    devops.team_iterations = [replace(SPRINT_1, path="Fabrikam\\Sprint One"), SPRINT_2]

    await sync_work_items(uow, clock, devops, tenant_id=tenant.id)

    _, second = await _mirror(uow, tenant)
    assert {it.external_id: it.id for it in first} == {it.external_id: it.id for it in second}
    assert {it.path for it in second} == {"Fabrikam\\Sprint One", SPRINT_2.path}


async def test_an_iteration_the_team_does_not_list_is_mirrored_without_dates(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant,
) -> None:
    devops = FakeDevOpsWorkItems(now=NOW, team_iterations=[SPRINT_1])
    item = devops.add("Old work", path="Fabrikam\\2025\\Sprint 40")

    await sync_work_items(uow, clock, devops, tenant_id=tenant.id)

    items, iterations = await _mirror(uow, tenant)
    old = next(it for it in iterations if it.path == "Fabrikam\\2025\\Sprint 40")
    assert (old.start, old.finish, old.external_id) == (None, None, None)
    assert items[0].id == item.id and items[0].iteration_id == old.id


async def test_an_assignee_whose_unique_name_is_a_tenant_users_email_is_that_user(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, seed: Seed,
) -> None:
    ann = seed.user(tenant, "ann@acme.test")
    devops = FakeDevOpsWorkItems(now=NOW)
    devops.add("Hers", assigned_to=Assignee("Ann", unique_name="Ann@Acme.test"))
    devops.add("A contractor's", assigned_to=Assignee("Bob", unique_name="bob@elsewhere.test"))

    await sync_work_items(uow, clock, devops, tenant_id=tenant.id)

    items, _ = await _mirror(uow, tenant)
    assert [i.assigned_to for i in items] == [
        Assignee("Ann", user_id=ann.id, unique_name="Ann@Acme.test"),
        Assignee("Bob", user_id=None, unique_name="bob@elsewhere.test"),
    ]


async def test_a_run_that_fails_at_once_records_when_it_ran_and_no_success(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant,
) -> None:
    devops = FakeDevOpsWorkItems(now=NOW, fail_on_page=1)
    run = await sync_work_items(uow, clock, devops, tenant_id=tenant.id)
    assert not run.completed
    state = await _state(uow, tenant)
    assert (state.last_run_at, state.last_success_at, state.watermark) == (NOW, None, None)


class _Overtaken(FakeDevOpsWorkItems):
    """A source during whose first page another run of the same tenant completes."""

    other: FakeDevOpsWorkItems | None = None
    uow: FakeUnitOfWorkFactory | None = None
    clock: FixedClock | None = None
    tenant_id: str = ""

    async def changed_since(self, watermark: datetime | None, continuation: str | None) -> SyncPage:
        if self.other is not None and self.uow is not None and self.clock is not None:
            other, self.other = self.other, None
            assert (await sync_work_items(self.uow, self.clock, other, tenant_id=self.tenant_id)).completed
        return await super().changed_since(watermark, continuation)


@pytest.mark.parametrize("fails", [False, True])
async def test_the_watermark_never_moves_back_when_runs_overlap(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, fails: bool,
) -> None:
    """A slower run (older items, or a failure) ends after a faster one that got further."""
    later = FakeDevOpsWorkItems(now=NOW)
    later.add("Newer")
    slow = _Overtaken(now=NOW - timedelta(hours=1), fail_on_page=2 if fails else None, page_size=1)
    slow.add("Older 1")
    slow.add("Older 2")
    slow.other, slow.uow, slow.clock, slow.tenant_id = later, uow, clock, tenant.id

    run = await sync_work_items(uow, clock, slow, tenant_id=tenant.id)

    assert run.completed is not fails
    assert (await _state(uow, tenant)).watermark == NOW
