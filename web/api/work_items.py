"""``/api/v1/work-items`` and ``/api/v1/iterations``: the tenant's work items mirror.

Everyone with a seat (Team and above) reads them and, in standalone mode, creates and edits
them (they track time against them); with Azure DevOps connected a create or an edit is 409
``managed_by_devops``. Ids are integers; one in the path that is not is 404.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from core.budgets import Resolution
from core.errors import ValidationFailed
from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.budgets import resolve_work_items
from core.services.planning import (
    KEEP,
    AssigneeChoice,
    NewWorkItem,
    WorkItemChanges,
    WorkItemView,
    create_work_item,
    edit_work_item,
    get_work_item,
    list_work_items,
)
from core.tenancy import Tenant
from core.work_items import WorkItem, WorkItemNotFound
from core.work_items.ports import WorkItemFilter
from plugins.bootstrap import Stint

from ..access import requires
from ..auth import TenantRequest
from ..deps import StintDep
from ..schemas import BudgetRef, Strict, cursor_text, opaque_cursor

__all__ = ["WorkItemsController", "api_hours", "query_id", "work_item_out"]

Title = Annotated[str, msgspec.Meta(max_length=1000)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
ItemId = Annotated[int, msgspec.Meta(ge=1, le=999_999_999_999_999_999)]


class AssigneeOut(msgspec.Struct):
    name: str
    user_id: str | None


class AssigneeIn(Strict):
    """A user of the tenant (``user_id``), or only a name from outside (``name``)."""

    user_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    name: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class WorkItemOut(msgspec.Struct):
    id: int
    title: str
    type: str
    state: str
    state_category: str
    parent_id: int | None
    iteration_id: int | None
    area_path: str | None
    assigned_to: AssigneeOut | None
    original_estimate_h: float | None
    remaining_h: float | None
    completed_h: float | None
    changed_at: datetime
    #: The budget the item resolves to and how (SPEC §12).
    budget: BudgetRef


class WorkItemDetail(WorkItemOut):
    tracked_s: int
    """Seconds on the item's own worklogs."""
    tracked_total_s: int
    """Seconds on the item's and all its descendants' worklogs."""


class WorkItemPageOut(msgspec.Struct):
    items: list[WorkItemOut]
    next_cursor: str | None


class WorkItemIn(Strict):
    title: Title
    type: Short
    state: Short = "New"
    parent_id: ItemId | None = None
    iteration_id: ItemId | None = None
    assigned_to: AssigneeIn | None = None
    original_estimate_h: Decimal | None = None
    remaining_h: Decimal | None = None


class WorkItemPatch(Strict):
    """Only the fields sent change; ``null`` clears an optional one."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    type: Short | msgspec.UnsetType = msgspec.UNSET
    state: Short | msgspec.UnsetType = msgspec.UNSET
    parent_id: ItemId | msgspec.UnsetType | None = msgspec.UNSET
    iteration_id: ItemId | msgspec.UnsetType | None = msgspec.UNSET
    assigned_to: AssigneeIn | msgspec.UnsetType | None = msgspec.UNSET
    original_estimate_h: Decimal | msgspec.UnsetType | None = msgspec.UNSET
    remaining_h: Decimal | msgspec.UnsetType | None = msgspec.UNSET


def api_hours(value: Decimal | None) -> float | None:
    # At most two places: the float's shortest text is the decimal itself.
    return None if value is None else float(value)


def work_item_out(item: WorkItem, budget: Resolution) -> WorkItemOut:
    assignee = item.assigned_to
    return WorkItemOut(
        id=item.id, title=item.title, type=item.type, state=item.state,
        state_category=item.state_category.value, parent_id=item.parent_id, iteration_id=item.iteration_id,
        area_path=item.area_path,
        assigned_to=AssigneeOut(assignee.name, assignee.user_id) if assignee else None,
        original_estimate_h=api_hours(item.original_estimate_h), remaining_h=api_hours(item.remaining_h),
        completed_h=api_hours(item.completed_h), changed_at=item.changed_at,
        budget=BudgetRef(budget.budget_id, budget.assignment.value),
    )


async def _detail(stint: Stint, tenant: Tenant, view: WorkItemView) -> WorkItemDetail:
    budgets = await resolve_work_items(stint.uow, tenant=tenant, items=[view.item.id])
    base = work_item_out(view.item, budgets[view.item.id])
    return WorkItemDetail(
        **{field: getattr(base, field) for field in WorkItemOut.__struct_fields__},
        tracked_s=view.tracked_s, tracked_total_s=view.tracked_total_s,
    )


def _assignee(value: AssigneeIn | None) -> AssigneeChoice | None:
    return None if value is None else AssigneeChoice(user_id=value.user_id, name=value.name)


def _keep(value: Any) -> Any:
    return KEEP if value is msgspec.UNSET else value


def path_id(text: str) -> int:
    """A work item id from the path; anything but a positive integer names no item (404)."""
    value = text.strip()
    if not (value.isascii() and value.isdecimal() and len(value) <= 18) or int(value) == 0:
        raise WorkItemNotFound(f"there is no work item {text!r}")
    return int(value)


def query_id(text: str | None, field: str) -> int | None:
    if text is None or text == "":
        return None
    value = text.strip()
    if not (value.isascii() and value.isdecimal() and len(value) <= 18):
        raise ValidationFailed(f"{field} must be a positive integer id", field=field)
    return int(value)


class WorkItemsController(Controller):
    path = "/work-items"
    tags = ("work items",)

    @get("/", summary="The tenant's work items in id order, filtered, a page at a time",
         guards=[requires(Action.TRACK_TIME, Scope.TRACKING)])
    async def list(
        self, request: TenantRequest, stint: StintDep,
        search: Annotated[str | None, QueryParameter(max_length=200)] = None,
        state_: Annotated[str | None, QueryParameter(name="state", max_length=64)] = None,
        type_: Annotated[str | None, QueryParameter(name="type", max_length=64)] = None,
        iteration: Annotated[str | None, QueryParameter(max_length=20)] = None,
        assigned_to: Annotated[str | None, QueryParameter(max_length=64)] = None,
        parent: Annotated[str | None, QueryParameter(max_length=20)] = None,
        cursor: Annotated[str, QueryParameter(max_length=200)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> WorkItemPageOut:
        principal = request.user
        who = principal.user.id if assigned_to == "me" else (assigned_to or None)
        where = WorkItemFilter(
            search=search or None, state=state_ or None, type=type_ or None,
            iteration_id=query_id(iteration, "iteration"), assigned_to_user=who,
            parent_id=query_id(parent, "parent"),
        )
        after = cursor_text(cursor) if cursor else None
        page = await list_work_items(
            stint.uow, tenant=principal.tenant, where=where, cursor=after, limit=limit
        )
        budgets = await resolve_work_items(
            stint.uow, tenant=principal.tenant, items=[item.id for item in page.items]
        )
        return WorkItemPageOut(
            items=[work_item_out(item, budgets[item.id]) for item in page.items],
            next_cursor=opaque_cursor(page.next_cursor) if page.next_cursor else None,
        )

    @get("/{item_id:str}", summary="One work item, with the time tracked on it and below it",
         guards=[requires(Action.TRACK_TIME, Scope.TRACKING)])
    async def one(self, request: TenantRequest, item_id: FromPath[str], stint: StintDep) -> WorkItemDetail:
        view = await get_work_item(stint.uow, tenant=request.user.tenant, item_id=path_id(item_id))
        return await _detail(stint, request.user.tenant, view)

    @post("/", summary="Create a work item (standalone mode)",
          guards=[requires(Action.TRACK_TIME, Scope.WORKLOGS_WRITE)])
    async def create(
        self, request: TenantRequest, data: JSONBody[WorkItemIn], stint: StintDep
    ) -> WorkItemDetail:
        new = NewWorkItem(
            title=data.title, type=data.type, state=data.state, parent_id=data.parent_id,
            iteration_id=data.iteration_id, assigned_to=_assignee(data.assigned_to),
            original_estimate_h=data.original_estimate_h, remaining_h=data.remaining_h,
        )
        view = await create_work_item(stint.uow, stint.clock, stint.devops.store, tenant=request.user.tenant,
                                      new=new)
        return await _detail(stint, request.user.tenant, view)

    @patch("/{item_id:str}", summary="Change a work item (standalone mode)",
           guards=[requires(Action.TRACK_TIME, Scope.WORKLOGS_WRITE)])
    async def change(
        self, request: TenantRequest, item_id: FromPath[str], data: JSONBody[WorkItemPatch], stint: StintDep
    ) -> WorkItemDetail:
        assigned: Any = data.assigned_to
        changes = WorkItemChanges(
            title=_keep(data.title), type=_keep(data.type), state=_keep(data.state),
            parent_id=_keep(data.parent_id), iteration_id=_keep(data.iteration_id),
            assigned_to=KEEP if assigned is msgspec.UNSET else _assignee(assigned),
            original_estimate_h=_keep(data.original_estimate_h), remaining_h=_keep(data.remaining_h),
        )
        view = await edit_work_item(stint.uow, stint.clock, stint.devops.store, tenant=request.user.tenant,
                                    item_id=path_id(item_id), changes=changes)
        return await _detail(stint, request.user.tenant, view)
