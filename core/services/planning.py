"""Work items and iterations as people plan with them: list, read (with tracked time), and
in standalone mode create and edit (SPEC §8, issue #16).

With an Azure DevOps connection the mirror belongs to the sync job: a create or an edit is
refused with ``managed_by_devops`` (409), reads work the same in both modes. Worklogs and
timers name only items of the mirror (:func:`require_work_item`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any, Final

from core.clock import Clock
from core.errors import ValidationFailed
from core.tenancy import Tenant
from core.tracking.fields import check_day
from core.tracking.ports import ConnectorKind, DevOpsConnectionStore
from core.unit_of_work import UnitOfWorkFactory
from core.work_items import (
    Assignee,
    Iteration,
    ManagedByDevOps,
    UnknownIteration,
    UnknownWorkItem,
    WorkItem,
    WorkItemDraft,
    WorkItemNotFound,
    category_of,
)
from core.work_items.ports import SyncState, WorkItemFilter, WorkItemPage, WorkItemRepository
from core.work_items.rules import (
    check_hours,
    check_parent,
    check_path,
    check_state,
    check_title,
    check_type,
    descendants,
)

__all__ = [
    "KEEP",
    "AssigneeChoice",
    "NewWorkItem",
    "WorkItemChanges",
    "WorkItemView",
    "WorkItemsMode",
    "create_iteration",
    "create_work_item",
    "edit_work_item",
    "get_work_item",
    "known_work_item",
    "list_iterations",
    "list_work_items",
    "parse_work_item_id",
    "require_work_item",
    "work_item_titles",
    "work_items_mode",
]


class _Keep:
    """"Leave this field as it is" in an edit (``None`` means "clear it")."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()


@dataclass(frozen=True, slots=True)
class AssigneeChoice:
    """Who an item is assigned to: a user of the tenant (by id), or only a name from outside."""

    user_id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class NewWorkItem:
    title: str
    type: str
    state: str = "New"
    parent_id: int | None = None
    iteration_id: int | None = None
    assigned_to: AssigneeChoice | None = None
    original_estimate_h: Decimal | None = None
    remaining_h: Decimal | None = None


@dataclass(frozen=True, slots=True)
class WorkItemChanges:
    """Only the fields not :data:`KEEP` change; ``None`` clears an optional field."""

    title: Any = KEEP
    type: Any = KEEP
    state: Any = KEEP
    parent_id: Any = KEEP
    iteration_id: Any = KEEP
    assigned_to: Any = KEEP
    original_estimate_h: Any = KEEP
    remaining_h: Any = KEEP


@dataclass(frozen=True, slots=True)
class WorkItemView:
    item: WorkItem
    tracked_s: int
    """Seconds on the item's own worklogs."""
    tracked_total_s: int
    """Seconds on the item's and all its descendants' worklogs."""


@dataclass(frozen=True, slots=True)
class WorkItemsMode:
    """Whether Stint edits the tenant's work items, and where the last sync got to."""

    kind: ConnectorKind
    sync: SyncState

    @property
    def standalone(self) -> bool:
        return self.kind is ConnectorKind.STANDALONE


def parse_work_item_id(value: str | int | None, field: str = "work_item") -> int | None:
    """A work item id sent as a JSON integer or a string of digits (``None``: no item)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationFailed(f"{field} must be a work item id (a positive integer)", field=field)
    if isinstance(value, int):
        number = value
    else:
        text = value.strip()
        if not (text.isascii() and text.isdecimal() and len(text) <= 18):
            raise UnknownWorkItem(f"there is no work item {value!r}: ids are positive integers", field=field)
        number = int(text)
    if not 0 < number < 10**18:
        raise UnknownWorkItem(f"there is no work item {value}", field=field)
    return number


async def require_work_item(
    repo: WorkItemRepository, value: str | int | None, field: str = "work_item"
) -> str | None:
    """The canonical text of an existing work item id (how worklogs store it), or refuse it
    with ``unknown_work_item``; ``None`` stays ``None``."""
    item_id = parse_work_item_id(value, field)
    if item_id is None:
        return None
    return known_work_item(item_id, await repo.get(item_id) is not None, field)


def known_work_item(item_id: int, exists: bool, field: str = "work_item") -> str:
    """:func:`require_work_item`'s answer for an id whose existence was read already."""
    if not exists:
        raise UnknownWorkItem(f"there is no work item {item_id}", field=field)
    return str(item_id)


async def work_item_titles(
    uow: UnitOfWorkFactory, *, tenant: Tenant, names: Iterable[str | None]
) -> dict[str, str]:
    """The titles of the work items ``names`` (worklogs' and timers' ``work_item`` texts), for
    the answers and pages that show them next to the id; a name with no item is left out."""
    ids = {int(name) for name in names if name is not None and name.isascii() and name.isdecimal()
           and len(name) <= 18}
    if not ids:
        return {}
    async with uow() as work:
        found = await work.tenant(tenant.id).work_items().many(sorted(ids))
    return {str(item_id): item.title for item_id, item in found.items()}


async def _connector(connections: DevOpsConnectionStore, tenant_id: str) -> ConnectorKind:
    stored = await connections.load(tenant_id)
    return ConnectorKind.STANDALONE if stored is None else stored.kind


async def _ensure_standalone(connections: DevOpsConnectionStore, tenant_id: str) -> None:
    if await _connector(connections, tenant_id) is not ConnectorKind.STANDALONE:
        raise ManagedByDevOps(
            "this tenant's work items come from Azure DevOps: change them there, the sync brings them here"
        )


async def work_items_mode(
    uow: UnitOfWorkFactory, connections: DevOpsConnectionStore, *, tenant: Tenant
) -> WorkItemsMode:
    async with uow() as work:
        kind = await _connector(connections, tenant.id)
        return WorkItemsMode(kind, await work.tenant(tenant.id).work_items().sync_state())


# Reads. ---------------------------------------------------------------------------------


async def list_work_items(
    uow: UnitOfWorkFactory, *, tenant: Tenant, where: WorkItemFilter, cursor: str | None, limit: int
) -> WorkItemPage:
    async with uow() as work:
        try:
            return await work.tenant(tenant.id).work_items().find(where, cursor, limit)
        except ValueError:
            raise ValidationFailed("this cursor did not come from a previous page", field="cursor") from None


async def get_work_item(uow: UnitOfWorkFactory, *, tenant: Tenant, item_id: int) -> WorkItemView:
    async with uow() as work:
        repo = work.tenant(tenant.id).work_items()
        item = await repo.get(item_id)
        if item is None:
            raise WorkItemNotFound(f"there is no work item {item_id}")
        return await _view(repo, item)


async def _view(repo: WorkItemRepository, item: WorkItem) -> WorkItemView:
    below = descendants(item.id, await repo.parents())
    tracked = await repo.tracked([item.id, *below])
    return WorkItemView(item, tracked.get(item.id, 0), sum(tracked.values()))


async def list_iterations(uow: UnitOfWorkFactory, *, tenant: Tenant) -> list[Iteration]:
    async with uow() as work:
        return await work.tenant(tenant.id).work_items().iterations()


# Standalone writes. -----------------------------------------------------------------------


def _check_dates(start: date | None, finish: date | None) -> None:
    if start is not None:
        check_day(start, "start")
    if finish is not None:
        check_day(finish, "finish")
    if start is not None and finish is not None and finish < start:
        raise ValidationFailed("an iteration cannot finish before it starts", field="finish")


async def create_iteration(
    uow: UnitOfWorkFactory, clock: Clock, connections: DevOpsConnectionStore, *, tenant: Tenant,
    path: str, start: date | None, finish: date | None,
) -> Iteration:
    path = check_path(path, "path")
    _check_dates(start, finish)
    async with uow(write=True) as work:
        await _ensure_standalone(connections, tenant.id)
        repo = work.tenant(tenant.id).work_items()
        if any(existing.path == path for existing in await repo.iterations()):
            raise ValidationFailed(f"there is an iteration {path!r} already", field="path")
        iteration = await repo.create_iteration(path, start, finish, clock.now())
        await work.commit()
    return iteration


async def _assignee(work: Any, tenant_id: str, choice: AssigneeChoice | None) -> Assignee | None:
    if choice is None:
        return None
    if choice.user_id is not None:
        user = await work.tenant(tenant_id).users().get(choice.user_id)
        if user is None:
            raise ValidationFailed("there is no such user to assign the item to", field="assigned_to")
        return Assignee(user.name or user.email, user.id, user.email)
    name = (choice.name or "").strip()
    if not name or len(name) > 255:
        raise ValidationFailed(
            "assigned_to needs a user id or a name of 1–255 characters", field="assigned_to"
        )
    return Assignee(name)


async def _check_iteration(repo: WorkItemRepository, iteration_id: int | None) -> None:
    if iteration_id is not None and await repo.iteration(iteration_id) is None:
        raise UnknownIteration(f"there is no iteration {iteration_id}", field="iteration_id")


async def create_work_item(
    uow: UnitOfWorkFactory, clock: Clock, connections: DevOpsConnectionStore, *, tenant: Tenant,
    new: NewWorkItem,
) -> WorkItemView:
    title, type_ = check_title(new.title), check_type(new.type)
    state = check_state(new.state)
    estimate = check_hours(new.original_estimate_h, "original_estimate_h")
    remaining = check_hours(new.remaining_h, "remaining_h")
    async with uow(write=True) as work:
        await _ensure_standalone(connections, tenant.id)
        repo = work.tenant(tenant.id).work_items()
        if new.parent_id is not None:
            check_parent(None, new.parent_id, await repo.parents())
        await _check_iteration(repo, new.iteration_id)
        draft = WorkItemDraft(
            title=title, type=type_, state=state, parent_id=new.parent_id, iteration_id=new.iteration_id,
            assigned_to=await _assignee(work, tenant.id, new.assigned_to), original_estimate_h=estimate,
            remaining_h=remaining,
        )
        item = await repo.create(draft, clock.now())
        await work.commit()
    return WorkItemView(item, 0, 0)


async def edit_work_item(
    uow: UnitOfWorkFactory, clock: Clock, connections: DevOpsConnectionStore, *, tenant: Tenant,
    item_id: int, changes: WorkItemChanges,
) -> WorkItemView:
    async with uow(write=True) as work:
        await _ensure_standalone(connections, tenant.id)
        repo = work.tenant(tenant.id).work_items()
        item = await repo.get(item_id)
        if item is None:
            raise WorkItemNotFound(f"there is no work item {item_id}")
        values: dict[str, Any] = {}
        if changes.title is not KEEP:
            values["title"] = check_title(changes.title)
        if changes.type is not KEEP:
            values["type"] = check_type(changes.type)
        if changes.state is not KEEP:
            values["state"] = check_state(changes.state)
            values["state_category"] = category_of(values["state"])
        if changes.original_estimate_h is not KEEP:
            values["original_estimate_h"] = check_hours(changes.original_estimate_h, "original_estimate_h")
        if changes.remaining_h is not KEEP:
            values["remaining_h"] = check_hours(changes.remaining_h, "remaining_h")
        if changes.parent_id is not KEEP:
            check_parent(item_id, changes.parent_id, await repo.parents())
            values["parent_id"] = changes.parent_id
        if changes.iteration_id is not KEEP:
            await _check_iteration(repo, changes.iteration_id)
            values["iteration_id"] = changes.iteration_id
        if changes.assigned_to is not KEEP:
            values["assigned_to"] = await _assignee(work, tenant.id, changes.assigned_to)
        if values:
            # A new revision: the write-back job's revision check sees the edit.
            item = replace(item, **values, rev=item.rev + 1, changed_at=clock.now())
            await repo.save(item)
            await work.commit()
        view = await _view(repo, item)
    return view
