"""Done when #3 of the work items issue: the Azure DevOps sync against the local server, on
SQLite and PostgreSQL — a first sync of 2,000 items over several pages, an incremental
sync that reads and changes only the 3 items edited since, and a run that fails mid-page
(the connection dropped while a page's items were read) whose re-run leaves the same
mirror as an uninterrupted run."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from core.clock import FixedClock
from core.services.signup import signup
from core.services.work_item_sync import SyncRun, sync_work_items
from core.tenancy import Tenant
from core.work_items import Iteration, WorkItem
from core.work_items.ports import SyncState, WorkItemFilter
from plugins.devops.azure_work_items import AzureDevOpsWorkItems
from plugins.identity.passwords import Argon2Hasher
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade
from plugins.storage.uow import PiccoloUnitOfWorkFactory
from tests.integration.azure_devops_server import PAT, FakeAzureDevOps, FakeIteration, Person, serve

NOW = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
PAGE = 200
TYPES = ("Epic", "Feature", "User Story", "Task", "Bug")
STATES = ("New", "Active", "Resolved", "Closed", "Removed")
PEOPLE = (Person("Ann Smith", "ann@acme.test"), Person("Bob Contractor", "bob@elsewhere.test"))


def _project(fake: FakeAzureDevOps, count: int) -> None:
    """``count`` items in a five-level hierarchy over four sprints, ten to a ChangedDate."""
    start = datetime(2026, 1, 5, tzinfo=UTC)
    fake.iterations = [
        FakeIteration(f"Sprint {n}", f"Fabrikam\\Release 1\\Sprint {n}",
                      start + timedelta(days=14 * n), start + timedelta(days=14 * n + 11))
        for n in range(4)
    ]
    for n in range(count):
        if n % 10 == 0:
            fake.tick()
        fake.add(
            title=f"Item {n}", type=TYPES[n % 5], state=STATES[n % 5],
            parent=None if n % 5 == 0 else n,  # each item's parent is the one before it
            assigned_to=PEOPLE[n % 2] if n % 3 else None,
            iteration_path=fake.iterations[n % 4].path if n % 7 else "Fabrikam",
            area_path="Fabrikam\\Web", original_estimate=float(n % 9), remaining=(n % 9) / 4,
            completed=(n % 5) * 0.5,
        )


@pytest.fixture
def azure() -> Iterator[tuple[FakeAzureDevOps, str]]:
    fake = FakeAzureDevOps()
    server, url = serve(fake)
    yield fake, url
    server.shutdown()
    server.server_close()


@dataclass
class Env:
    uow: PiccoloUnitOfWorkFactory
    clock: FixedClock
    engine: Any

    async def tenant(self, slug: str) -> Tenant:
        made = await signup(self.uow, Argon2Hasher(fast=True), self.clock, slug=slug, name=slug,
                            deployment="cloud", admin_email=f"ann@{slug}.test",
                            admin_password="correct horse battery", admin_name="Ann", trial_days=28)
        return made.tenant

    async def sync(self, tenant: Tenant, url: str) -> SyncRun:
        source = AzureDevOpsWorkItems(url, PAT, project="Fabrikam", page_size=PAGE)
        try:
            return await sync_work_items(self.uow, self.clock, source, tenant_id=tenant.id)
        finally:
            await source.aclose()

    async def mirror(self, tenant: Tenant) -> tuple[dict[int, WorkItem], list[Iteration], SyncState]:
        items: dict[int, WorkItem] = {}
        cursor: str | None = None
        async with self.uow() as work:
            repo = work.tenant(tenant.id).work_items()
            while True:
                page = await repo.find(WorkItemFilter(), cursor, 500)
                items.update((item.id, item) for item in page.items)
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            return items, await repo.iterations(), await repo.sync_state()


@pytest.fixture
async def env(database_url: str) -> AsyncIterator[Env]:
    engine = await storage_engine.open_engine(database_url, pool_size=2)
    storage_engine.bind(engine)
    await upgrade(engine)
    yield Env(PiccoloUnitOfWorkFactory(engine), FixedClock(NOW), engine)
    await storage_engine.close(engine)


def _calls(fake: FakeAzureDevOps, route: str) -> int:
    return sum(1 for method, path in fake.requests if method == "POST" and path.split("?")[0].endswith(route))


async def test_a_first_sync_of_2000_items_then_an_incremental_one_that_reads_only_the_3_changed(
    env: Env, azure: tuple[FakeAzureDevOps, str],
) -> None:
    fake, url = azure
    _project(fake, 2000)
    acme = await env.tenant("acme")

    first = await env.sync(acme, url)

    assert first.completed and first.items == 2000
    assert _calls(fake, "/wiql") == 11  # ten full pages of 200, and the empty one that ends the run
    assert _calls(fake, "/workitemsbatch") == 10
    assert sorted(fake.served) == list(range(1, 2001))  # each item served once
    items, iterations, state = await env.mirror(acme)
    assert len(items) == 2000 and len(iterations) == 4
    assert state.watermark == fake.now and state.items_seen == 2000 and state.last_error is None
    sprints = {it.path: it.id for it in iterations}
    assert items[2].iteration_id == sprints["Fabrikam\\Release 1\\Sprint 1"] and items[1].iteration_id is None
    assert items[2].parent_id == 1 and items[2].assigned_to is not None
    bob = items[2].assigned_to  # from outside the tenant: a name only
    assert bob.unique_name == "bob@elsewhere.test" and bob.user_id is None
    assert items[3].assigned_to is not None and items[3].assigned_to.user_id is not None  # ann@acme.test

    fake.tick()
    for item_id, change in ((17, {"System.State": "Closed"}), (1200, {"System.Title": "Renamed"}),
                            (1999, {"Microsoft.VSTS.Scheduling.RemainingWork": 0.0})):
        fake.change(item_id, change)
    served = len(fake.served)
    wiql = _calls(fake, "/wiql")

    second = await env.sync(acme, url)

    assert second.completed and second.items == 3
    assert sorted(fake.served[served:]) == [17, 1200, 1999]
    assert _calls(fake, "/wiql") - wiql == 1
    after, _, state = await env.mirror(acme)
    assert sorted(i for i in items if items[i] != after[i]) == [17, 1200, 1999]
    assert (after[17].state, after[1200].title, after[1999].remaining_h) == ("Closed", "Renamed", Decimal(0))
    assert state.watermark == fake.now


@pytest.mark.parametrize("how", ["drop", "500"])
async def test_a_sync_that_fails_mid_page_and_is_run_again_ends_as_an_uninterrupted_one(
    env: Env, azure: tuple[FakeAzureDevOps, str], how: str,
) -> None:
    fake, url = azure
    _project(fake, 1000)
    broken, whole = await env.tenant("broken"), await env.tenant("whole")
    fake.fail("workitemsbatch", 3, how)  # page 3's query is answered, reading its items fails

    failed = await env.sync(broken, url)

    assert not failed.completed and failed.items == 2 * PAGE
    items, _, state = await env.mirror(broken)
    assert len(items) == 2 * PAGE
    assert state.watermark is None and state.last_success_at is None and state.last_error
    assert (await env.sync(broken, url)).completed
    assert (await env.sync(whole, url)).completed

    def comparable(mirror: tuple[dict[int, WorkItem], list[Iteration], SyncState]) -> Any:
        found, iterations, sync = mirror
        # Only who is a tenant user differs between two tenants (ann@broken vs ann@whole).
        return ({i: (w.title, w.state, w.parent_id, w.iteration_id, w.rev, w.changed_at, w.remaining_h)
                 for i, w in found.items()}, iterations, sync.watermark, sync.items_seen, sync.last_error)

    assert comparable(await env.mirror(broken)) == comparable(await env.mirror(whole))
