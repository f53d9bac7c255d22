"""``/api/v1/explorer/views``: each user's saved Times Explorer views (issue #17)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from core.errors import ValidationFailed
from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.saved_views import delete_view, list_views, save_view
from core.tracking.saved_views import COLUMNS, FILTERS, SavedView

from ..access import requires
from ..auth import TenantRequest
from ..deps import StintDep
from ..schemas import Strict, cursor_text, opaque_cursor
from .explorer import caller_zone, ensure_may_see_everyone
from .worklog_filters import explorer_filters

__all__ = ["ExplorerViewsController", "check_view_filters"]

Short = Annotated[str, msgspec.Meta(max_length=64)]
FilterText = Annotated[str, msgspec.Meta(max_length=4000)]


class ViewIn(Strict):
    name: Annotated[str, msgspec.Meta(max_length=200)]
    #: The ``GET /worklogs/all`` query: its parameter names and their text.
    filters: dict[Short, FilterText] = msgspec.field(default_factory=dict)
    columns: Annotated[list[Short], msgspec.Meta(max_length=len(COLUMNS))] = msgspec.field(
        default_factory=list)
    group_by: Annotated[list[Short], msgspec.Meta(max_length=2)] = msgspec.field(default_factory=list)


class ViewOut(msgspec.Struct):
    id: str
    name: str
    filters: dict[str, str]
    columns: list[str]
    group_by: list[str]
    created_at: datetime


class ViewsOut(msgspec.Struct):
    items: list[ViewOut]
    next_cursor: str | None


def view_out(view: SavedView) -> ViewOut:
    return ViewOut(view.id, view.name, dict(view.filters), list(view.columns), list(view.group_by),
                   view.created_at)


_BOOLEANS = {"true": True, "false": False}


def check_view_filters(filters: Mapping[str, str], time_zone: str) -> None:
    """A view's filters must be ones the list takes: 422 naming the parameter otherwise."""
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise ValidationFailed(f"{unknown[0]!r} is not a filter of the explorer", field="filters")
    text = {key: value.strip() or None for key, value in filters.items()}
    billable = text.get("billable")
    if billable is not None and billable.lower() not in _BOOLEANS:
        raise ValidationFailed("billable is true or false", field="billable")
    if text.get("sort") not in (None, "started_at", "-started_at"):
        raise ValidationFailed("sort is started_at or -started_at", field="sort")
    explorer_filters(
        time_zone, users=text.get("users"), start=text.get("from"), end=text.get("to"),
        work_items=text.get("work_items"), iterations=text.get("iterations"), budgets=text.get("budgets"),
        activity_types=text.get("activity_types"),
        billable=None if billable is None else _BOOLEANS[billable.lower()],
        created_from=text.get("created_from"), created_to=text.get("created_to"),
        edited_since=text.get("edited_since"), approval=text.get("approval"),
    )


class ExplorerViewsController(Controller):
    """Saved views belong to the user who saved them; nobody else sees or deletes them."""

    path = "/explorer/views"
    tags = ("worklogs",)

    @get("/", summary="Your saved Times Explorer views",
         guards=[requires(Action.VIEW_OWN_TIMESHEET, Scope.WORKLOGS_READ)])
    async def list(
        self, request: TenantRequest, stint: StintDep,
        cursor: Annotated[str, QueryParameter(max_length=200)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> ViewsOut:
        await ensure_may_see_everyone(request, stint)
        views = await list_views(stint.uow, tenant=request.user.tenant, user=request.user.user)
        if cursor:  # the last view's id
            after = cursor_text(cursor)
            position = next((n for n, view in enumerate(views) if view.id == after), None)
            if position is None:
                raise ValidationFailed("this cursor did not come from a previous page", field="cursor")
            views = views[position + 1:]
        page = views[:limit]
        more = opaque_cursor(page[-1].id) if len(views) > limit else None
        return ViewsOut([view_out(view) for view in page], more)

    @post("/", summary="Save a Times Explorer view",
          guards=[requires(Action.VIEW_OWN_TIMESHEET, Scope.WORKLOGS_READ)],
          status_code=201)
    async def save(self, request: TenantRequest, data: JSONBody[ViewIn], stint: StintDep) -> ViewOut:
        await ensure_may_see_everyone(request, stint)
        check_view_filters(data.filters, await caller_zone(request, stint))
        view = await save_view(
            stint.uow, stint.clock, tenant=request.user.tenant, user=request.user.user, name=data.name,
            filters=data.filters, columns=data.columns, group_by=data.group_by,
        )
        return view_out(view)

    @delete("/{view_id:str}", summary="Delete one of your saved views",
            guards=[requires(Action.VIEW_OWN_TIMESHEET, Scope.WORKLOGS_READ)])
    async def remove(self, request: TenantRequest, view_id: FromPath[str], stint: StintDep) -> None:
        await ensure_may_see_everyone(request, stint)
        await delete_view(stint.uow, tenant=request.user.tenant, user=request.user.user, view_id=view_id)
