"""``/work-items``: the tenant's work items and iterations.

Everyone with a seat lists and searches them. In standalone mode the page creates and edits
items and iterations (plain forms, htmx when there is JavaScript); with Azure DevOps connected
it is read-only and shows when the last sync ran, with a "Sync now" button that posts to
``/work-items/sync`` (the sync job's route). The use cases are the API's
(``core.services.planning``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Template

from core.errors import ValidationFailed
from core.licensing.access import Action
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
    work_items_mode,
)
from core.services.users import list_users
from core.work_items import WorkItemNotFound
from core.work_items.ports import WorkItemFilter
from core.work_items.rules import USUAL_TYPES
from plugins.i18n import gettext

from ..schemas import cursor_text, opaque_cursor
from .render import Page, open_page, render, stint_of

__all__ = ["WorkItemsPageController"]

_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)
_PAGE_SIZE = 50
_USUAL_STATES = ("New", "Active", "Resolved", "Closed", "Removed")
Text = Annotated[str, msgspec.Meta(max_length=1000)]


class ItemForm(msgspec.Struct):
    """A create or an edit: every field is sent; an empty optional field clears it."""

    title: Text = ""
    type: Text = ""
    state: Text = "New"
    parent_id: Text = ""
    iteration_id: Text = ""
    assigned_to: Text = ""
    original_estimate_h: Text = ""
    remaining_h: Text = ""


class IterationForm(msgspec.Struct):
    path: Text = ""
    start: Annotated[str, msgspec.Meta(max_length=20)] = ""
    finish: Annotated[str, msgspec.Meta(max_length=20)] = ""


def _number(text: str, field: str) -> int | None:
    value = text.strip().lstrip("#")
    if not value:
        return None
    if not (value.isascii() and value.isdecimal() and len(value) <= 18):
        raise ValidationFailed(f"{field.replace('_', ' ')} must be a work item number", field=field)
    return int(value)


def _hours(text: str, field: str) -> Decimal | None:
    value = text.strip().replace(",", ".")
    if not value:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValidationFailed(f"{field.replace('_', ' ')} must be a number of hours", field=field) from None


def _day(text: str, field: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(f"{field} must be a date (YYYY-MM-DD)", field=field) from None


def _assignee(text: str) -> AssigneeChoice | None:
    """A user id, or ``name:…`` (someone from outside, kept as the item had them)."""
    if not text:
        return None
    if text.startswith("name:"):
        return AssigneeChoice(name=text.removeprefix("name:"))
    return AssigneeChoice(user_id=text)


def _item_id(text: str) -> int:
    value = text.strip()
    if not (value.isascii() and value.isdecimal() and len(value) <= 18) or int(value) == 0:
        raise WorkItemNotFound(f"there is no work item {text!r}")
    return int(value)


async def _list_context(
    request: Request[Any, Any, Any], page: Page, where: WorkItemFilter, cursor: str, **extra: Any
) -> dict[str, Any]:
    stint = stint_of(request)
    tenant = page.principal.tenant
    mode = await work_items_mode(stint.uow, stint.devops.store, tenant=tenant)
    after = cursor_text(cursor) if cursor else None
    found = await list_work_items(stint.uow, tenant=tenant, where=where, cursor=after, limit=_PAGE_SIZE)
    iterations = await list_iterations(stint.uow, tenant=tenant)
    users, _, _ = await list_users(stint.uow, tenant=tenant, limit=500)
    return page.context(
        mode=mode,
        items=found.items,
        next_cursor=opaque_cursor(found.next_cursor) if found.next_cursor else None,
        where=where,
        iterations=iterations,
        iteration_paths={it.id: it.path for it in iterations},
        users=[user for user, _ in users],
        types=USUAL_TYPES,
        states=_USUAL_STATES,
        **extra,
    )


class WorkItemsPageController(Controller):
    path = "/work-items"
    include_in_schema = False

    @get("/", name="work_items")
    async def index(
        self, request: Request[Any, Any, Any],
        search: Annotated[str, QueryParameter(max_length=200)] = "",
        type_: Annotated[str, QueryParameter(name="type", max_length=64)] = "",
        item_state: Annotated[str, QueryParameter(name="state", max_length=64)] = "",
        iteration: Annotated[str, QueryParameter(max_length=20)] = "",
        mine: Annotated[str, QueryParameter(max_length=5)] = "",
        cursor: Annotated[str, QueryParameter(max_length=200)] = "",
    ) -> Template:
        page = await open_page(request, Action.TRACK_TIME)
        where = WorkItemFilter(
            search=search.strip() or None, type=type_.strip() or None, state=item_state.strip() or None,
            iteration_id=_number(iteration, "iteration"),
            assigned_to_user=page.principal.user.id if mine == "on" else None,
        )
        context = await _list_context(request, page, where, cursor)
        return render(request, "work_items/index.html", "work_items/_list.html", context)

    @post("/", status_code=200)
    async def create(
        self, request: Request[Any, Any, Any], data: Annotated[ItemForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, Action.TRACK_TIME)
        stint = stint_of(request)
        view = await create_work_item(
            stint.uow, stint.clock, stint.devops.store, tenant=page.principal.tenant,
            new=NewWorkItem(
                title=data.title, type=data.type, state=data.state.strip() or "New",
                parent_id=_number(data.parent_id, "parent_id"),
                iteration_id=_number(data.iteration_id, "iteration_id"),
                assigned_to=_assignee(data.assigned_to),
                original_estimate_h=_hours(data.original_estimate_h, "original_estimate_h"),
                remaining_h=_hours(data.remaining_h, "remaining_h"),
            ),
        )
        done = gettext("Work item #%(id)s “%(title)s” created.", id=view.item.id, title=view.item.title)
        context = await _list_context(request, page, WorkItemFilter(), "", done=done)
        return render(request, "work_items/index.html", "work_items/_list.html", context)

    @post("/iterations", status_code=200)
    async def add_iteration(
        self, request: Request[Any, Any, Any], data: Annotated[IterationForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, Action.TRACK_TIME)
        stint = stint_of(request)
        iteration = await create_iteration(
            stint.uow, stint.clock, stint.devops.store, tenant=page.principal.tenant, path=data.path,
            start=_day(data.start, "start"), finish=_day(data.finish, "finish"),
        )
        done = gettext("Iteration “%(path)s” created.", path=iteration.path)
        context = await _list_context(request, page, WorkItemFilter(), "", done=done)
        return render(request, "work_items/index.html", "work_items/_list.html", context)

    @post("/sync", status_code=200)
    async def sync_now(self, request: Request[Any, Any, Any]) -> Template:
        """"Sync now" (Administrators): start a run in the background, as the API's POST does."""
        page = await open_page(request, Action.MANAGE_SETTINGS)
        begun = await stint_of(request).work_item_syncs.start(page.principal.tenant.id)
        done = (
            gettext("Sync started: the items arrive as their pages are read; reload to see them.")
            if begun.started else gettext("A sync is already running; reload in a moment to see its items.")
        )
        context = await _list_context(request, page, WorkItemFilter(), "", done=done)
        return render(request, "work_items/index.html", "work_items/_list.html", context)

    @get("/{item_id:str}")
    async def show(self, request: Request[Any, Any, Any], item_id: FromPath[str]) -> Template:
        page = await open_page(request, Action.TRACK_TIME)
        return await self._item_page(request, page, _item_id(item_id))

    @post("/{item_id:str}", status_code=200)
    async def save(
        self, request: Request[Any, Any, Any], item_id: FromPath[str], data: Annotated[ItemForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, Action.TRACK_TIME)
        stint = stint_of(request)
        number = _item_id(item_id)
        await edit_work_item(
            stint.uow, stint.clock, stint.devops.store, tenant=page.principal.tenant, item_id=number,
            changes=WorkItemChanges(
                title=data.title, type=data.type, state=data.state,
                parent_id=_number(data.parent_id, "parent_id"),
                iteration_id=_number(data.iteration_id, "iteration_id"),
                assigned_to=_assignee(data.assigned_to),
                original_estimate_h=_hours(data.original_estimate_h, "original_estimate_h"),
                remaining_h=_hours(data.remaining_h, "remaining_h"),
            ),
        )
        return await self._item_page(request, page, number, done=gettext("Saved."))

    async def _item_page(
        self, request: Request[Any, Any, Any], page: Page, number: int, **extra: Any
    ) -> Template:
        stint = stint_of(request)
        tenant = page.principal.tenant
        view = await get_work_item(stint.uow, tenant=tenant, item_id=number)
        mode = await work_items_mode(stint.uow, stint.devops.store, tenant=tenant)
        iterations = await list_iterations(stint.uow, tenant=tenant)
        users, _, _ = await list_users(stint.uow, tenant=tenant, limit=500)
        context = page.context(
            view=view, item=view.item, mode=mode, iterations=iterations,
            iteration_paths={it.id: it.path for it in iterations}, users=[user for user, _ in users],
            types=USUAL_TYPES, states=_USUAL_STATES, **extra,
        )
        return render(request, "work_items/item.html", "work_items/_item.html", context)
