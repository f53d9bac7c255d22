"""Work items and iterations (core.services.planning): standalone creates and edits with their
rules, reads with tracked totals, and the refusal when Azure DevOps owns the items."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.clock import FixedClock
from core.errors import ValidationFailed
from core.services.planning import (
    AssigneeChoice,
    NewWorkItem,
    WorkItemChanges,
    create_iteration,
    create_work_item,
    edit_work_item,
    get_work_item,
    list_iterations,
    list_work_items,
    parse_work_item_id,
    require_work_item,
    work_items_mode,
)
from core.tenancy import Tenant
from core.tracking import Worklog, WorklogFlag
from core.tracking.ports import ConnectorKind, StoredDevOpsConnection
from core.work_items import (
    ManagedByDevOps,
    StateCategory,
    UnknownIteration,
    UnknownParent,
    UnknownWorkItem,
    WorkItemCycle,
    WorkItemNotFound,
)
from core.work_items.ports import WorkItemFilter
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory
from tests.fakes.tracking import FakeDevOpsConnectionStore

from .conftest import NOW, Seed


@pytest.fixture
def connections(store: FakeDatabase) -> FakeDevOpsConnectionStore:
    return FakeDevOpsConnectionStore(store)


class Planner:
    """The use cases bound to one tenant, so the tests read as what a person does."""

    def __init__(
        self, uow: FakeUnitOfWorkFactory, clock: FixedClock, connections: FakeDevOpsConnectionStore,
        tenant: Tenant,
    ) -> None:
        self.uow, self.clock, self.connections, self.tenant = uow, clock, connections, tenant

    async def create(self, title: str, type_: str = "Task", **extra: object) -> int:
        view = await create_work_item(
            self.uow, self.clock, self.connections, tenant=self.tenant, new=NewWorkItem(title, type_, **extra)  # type: ignore[arg-type]
        )
        return view.item.id

    async def edit(self, item_id: int, **changes: object) -> None:
        await edit_work_item(
            self.uow, self.clock, self.connections, tenant=self.tenant, item_id=item_id,
            changes=WorkItemChanges(**changes),
        )


@pytest.fixture
def planner(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, connections: FakeDevOpsConnectionStore, seed: Seed
) -> Planner:
    return Planner(uow, clock, connections, seed.tenant())


def _worklog(store: FakeDatabase, tenant_id: str, worklog_id: str, item: int, length_s: int) -> None:
    store.worklogs.setdefault(tenant_id, {})[worklog_id] = Worklog(
        id=worklog_id, user_id="use1", started_at=NOW, length_s=length_s, billable_length_s=0,
        work_item=str(item), comment=None, activity_type=None, added_by="use1",
        flags=frozenset({WorklogFlag.MANUAL}),
    )


async def test_an_epic_to_task_tree_is_built_and_a_task_reads_back_with_its_fields(
    planner: Planner, uow: FakeUnitOfWorkFactory
) -> None:
    sprint = await create_iteration(
        uow, planner.clock, planner.connections, tenant=planner.tenant, path=" Shop\\Sprint 1 ",
        start=date(2026, 3, 9), finish=date(2026, 3, 20),
    )
    epic = await planner.create("Shop", "Epic")
    feature = await planner.create("Checkout", "Feature", parent_id=epic)
    story = await planner.create("Pay by card", "User Story", parent_id=feature, iteration_id=sprint.id)
    task = await planner.create(
        "  Card form  ", "Task", state="Active", parent_id=story, iteration_id=sprint.id,
        original_estimate_h=Decimal("6"), remaining_h=Decimal("4.5"),
    )
    view = await get_work_item(uow, tenant=planner.tenant, item_id=task)
    item = view.item
    assert (item.id, item.title, item.type, item.state) == (4, "Card form", "Task", "Active")
    assert item.state_category is StateCategory.IN_PROGRESS
    assert (item.parent_id, item.iteration_id, item.original_estimate_h, item.remaining_h) == (
        story, sprint.id, Decimal("6"), Decimal("4.5")
    )
    assert item.changed_at == NOW and item.rev == 1
    assert (await list_iterations(uow, tenant=planner.tenant))[0].path == "Shop\\Sprint 1"


async def test_tracked_totals_count_the_item_alone_and_with_every_descendant(
    planner: Planner, uow: FakeUnitOfWorkFactory, store: FakeDatabase
) -> None:
    epic = await planner.create("Epic", "Epic")
    feature = await planner.create("Feature", "Feature", parent_id=epic)
    task = await planner.create("Task", parent_id=feature)
    other = await planner.create("Unrelated")
    tenant_id = planner.tenant.id
    _worklog(store, tenant_id, "w1", epic, 60)
    _worklog(store, tenant_id, "w2", feature, 600)
    _worklog(store, tenant_id, "w3", task, 3600)
    _worklog(store, tenant_id, "w4", task, 1800)
    _worklog(store, tenant_id, "w5", other, 7)

    epic_view = await get_work_item(uow, tenant=planner.tenant, item_id=epic)
    assert (epic_view.tracked_s, epic_view.tracked_total_s) == (60, 6060)
    task_view = await get_work_item(uow, tenant=planner.tenant, item_id=task)
    assert (task_view.tracked_s, task_view.tracked_total_s) == (5400, 5400)


async def test_bad_drafts_are_refused_and_store_nothing(planner: Planner, store: FakeDatabase) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await planner.create("   ")
    assert caught.value.field == "title"
    with pytest.raises(ValidationFailed):
        await planner.create("x", "t" * 65)
    with pytest.raises(ValidationFailed) as caught:
        await planner.create("x", remaining_h=Decimal("1.234"))
    assert caught.value.field == "remaining_h"
    with pytest.raises(UnknownParent):
        await planner.create("x", parent_id=99)
    with pytest.raises(UnknownIteration):
        await planner.create("x", iteration_id=5)
    with pytest.raises(ValidationFailed) as caught:
        await planner.create("x", assigned_to=AssigneeChoice(user_id="nobody"))
    assert caught.value.field == "assigned_to"
    assert store.work_items.get(planner.tenant.id, {}) == {}


async def test_an_edit_changes_only_what_it_names_bumps_the_revision_and_refuses_cycles(
    planner: Planner, uow: FakeUnitOfWorkFactory, seed: Seed, clock: FixedClock
) -> None:
    root = await planner.create("Root", "Epic")
    middle = await planner.create("Middle", "Feature", parent_id=root)
    leaf = await planner.create("Leaf", parent_id=middle, remaining_h=Decimal(3))
    ann = seed.user(planner.tenant, "ann@acme.test")

    await planner.edit(
        leaf, title="Leaf, renamed", state="Closed", assigned_to=AssigneeChoice(user_id=ann.id)
    )
    item = (await get_work_item(uow, tenant=planner.tenant, item_id=leaf)).item
    assert (item.title, item.state, item.state_category, item.rev) == (
        "Leaf, renamed", "Closed", StateCategory.COMPLETED, 2
    )
    assert item.assigned_to is not None and item.assigned_to.user_id == ann.id
    assert item.remaining_h == Decimal(3) and item.parent_id == middle

    for parent in (root, leaf):  # its own descendant at depth two, and itself
        with pytest.raises(WorkItemCycle):
            await planner.edit(root, parent_id=parent)
    await planner.edit(
        leaf, parent_id=None, assigned_to=AssigneeChoice(name="Outside Olga"), remaining_h=None
    )
    item = (await get_work_item(uow, tenant=planner.tenant, item_id=leaf)).item
    assert item.parent_id is None and item.remaining_h is None
    assert item.assigned_to is not None
    assert (item.assigned_to.name, item.assigned_to.user_id) == ("Outside Olga", None)
    with pytest.raises(WorkItemNotFound):
        await planner.edit(404, title="x")


async def test_with_azure_devops_connected_creates_and_edits_are_refused_but_reads_work(
    planner: Planner, uow: FakeUnitOfWorkFactory, connections: FakeDevOpsConnectionStore
) -> None:
    item = await planner.create("Before the connection")
    await connections.save(
        planner.tenant.id,
        StoredDevOpsConnection(ConnectorKind.AZURE_DEVOPS, "https://dev.azure.com/acme", None, "sealed"), NOW,
    )
    with pytest.raises(ManagedByDevOps):
        await planner.create("After")
    with pytest.raises(ManagedByDevOps):
        await planner.edit(item, title="Changed")
    with pytest.raises(ManagedByDevOps):
        await create_iteration(uow, planner.clock, connections, tenant=planner.tenant, path="S", start=None,
                               finish=None)
    view = await get_work_item(uow, tenant=planner.tenant, item_id=item)
    assert view.item.title == "Before the connection"
    mode = await work_items_mode(uow, connections, tenant=planner.tenant)
    assert not mode.standalone and mode.sync.last_success_at is None


async def test_the_list_filters_searches_and_pages_and_refuses_a_foreign_cursor(
    planner: Planner, uow: FakeUnitOfWorkFactory
) -> None:
    for n in range(5):
        await planner.create(f"Login step {n}", "Bug" if n % 2 else "Task")
    tasks = WorkItemFilter(type="Task")
    page = await list_work_items(uow, tenant=planner.tenant, where=tasks, cursor=None, limit=2)
    assert [i.id for i in page.items] == [1, 3] and page.next_cursor is not None
    page = await list_work_items(uow, tenant=planner.tenant, where=WorkItemFilter(type="Task"),
                                 cursor=page.next_cursor, limit=2)
    assert [i.id for i in page.items] == [5] and page.next_cursor is None
    search = WorkItemFilter(search="STEP 3")
    found = await list_work_items(uow, tenant=planner.tenant, where=search, cursor=None, limit=10)
    assert [i.id for i in found.items] == [4]
    with pytest.raises(ValidationFailed):
        await list_work_items(uow, tenant=planner.tenant, where=WorkItemFilter(), cursor="x", limit=2)


async def test_iterations_need_a_path_dates_in_order_and_a_new_path(
    planner: Planner, uow: FakeUnitOfWorkFactory
) -> None:
    async def make(path: str, start: date | None = None, finish: date | None = None) -> None:
        await create_iteration(uow, planner.clock, planner.connections, tenant=planner.tenant, path=path,
                               start=start, finish=finish)

    await make("Sprint 1", date(2026, 3, 9), date(2026, 3, 20))
    for path, start, finish in (("", None, None), ("Sprint 2", date(2026, 3, 20), date(2026, 3, 9)),
                                ("Sprint 1", None, None)):
        with pytest.raises(ValidationFailed):
            await make(path, start, finish)
    assert [it.path for it in await list_iterations(uow, tenant=planner.tenant)] == ["Sprint 1"]


async def test_a_worklog_may_name_only_an_existing_item_given_as_an_integer_or_digits(
    planner: Planner, uow: FakeUnitOfWorkFactory
) -> None:
    item = await planner.create("Real")
    async with uow() as work:
        repo = work.tenant(planner.tenant.id).work_items()
        assert await require_work_item(repo, item) == str(item)
        assert await require_work_item(repo, f" {item} ") == str(item)
        assert await require_work_item(repo, None) is None
        for bad in (99, "99", "W-1", "1.5", "-1", 0, "", "٣"):
            with pytest.raises(UnknownWorkItem) as caught:
                await require_work_item(repo, bad)
            assert caught.value.code == "unknown_work_item"
    with pytest.raises(ValidationFailed):
        parse_work_item_id(True)
