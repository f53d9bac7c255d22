"""``GET /api/v1/worklogs/all``: everyone's worklogs, filtered and optionally grouped (the
Times Explorer's list; issue #17). A controller of its own beside ``WorklogsController``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import JSONBody, QueryParameter

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.access import ensure_access
from core.services.explorer import explore_worklogs, group_explored
from core.services.tracking_common import user_zone
from core.services.worklog_batches import MAX_BATCH, create_worklogs, delete_worklogs
from core.services.worklogs import NewWorklog
from core.tracking.explorer import WorklogGroup, parse_group_by

from ..access import requires
from ..auth import TenantPrincipal
from ..deps import StintDep
from ..schemas import MoneyOut, Strict
from .worklog_filters import explorer_filters
from .worklogs import WorkItemRef, WorklogPage, decode_cursor, encode_cursor, is_admin, item_text, titled

__all__ = [
    "ExplorerController", "GroupOut", "GroupsOut", "WorklogBatchesController", "ensure_may_see_everyone",
]

TenantRequest = Request[TenantPrincipal, Any, State]

ListParam = Annotated[str | None, QueryParameter(max_length=4_000)]
BoundParam = Annotated[str | None, QueryParameter(max_length=64, description=(
    "a date (YYYY-MM-DD, in your time zone) or an ISO 8601 date-time with an offset"))]


class BatchDeleteIn(Strict):
    ids: Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=MAX_BATCH)]


class BatchDeleteOut(msgspec.Struct):
    deleted: int


class BatchWorklogIn(Strict):
    started_at: datetime
    length_s: int
    billable_length_s: int = 0
    work_item: WorkItemRef | None = None
    comment: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    activity_type: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    activity_type_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    user_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class BatchCreateIn(Strict):
    worklogs: Annotated[list[BatchWorklogIn], msgspec.Meta(max_length=MAX_BATCH)]


class BatchCreateOut(msgspec.Struct):
    ids: list[str]


class GroupOut(msgspec.Struct):
    key: dict[str, str | int | None]
    tracked_s: int
    billable_s: int
    amount: MoneyOut
    groups: list[GroupOut] | None = None


class GroupsOut(msgspec.Struct):
    groups: list[GroupOut]


def _group_out(group: WorklogGroup) -> GroupOut:
    return GroupOut(
        key=group.key, tracked_s=group.tracked_s, billable_s=group.billable_s,
        amount=MoneyOut(group.amount.amount, group.amount.currency),
        groups=None if group.groups is None else [_group_out(g) for g in group.groups],
    )


async def ensure_may_see_everyone(request: TenantRequest, stint: StintDep) -> None:
    """Product, Budget and Administrators; and approval managers, who today approve every
    user's weeks (one tenant-wide flag), so "their people" are everyone. Team: 403."""
    principal = request.user
    if principal.user.approval_manager:
        return
    await ensure_access(
        stint.uow, stint.clock, tenant=principal.tenant, user=principal.user,
        action=Action.VIEW_ALL_WORKLOGS, grace_days=stint.settings.grace_days,
        clock_tolerance=stint.settings.clock_tolerance, cache=principal.cache or stint.access_cache,
    )


async def caller_zone(request: TenantRequest, stint: StintDep) -> str:
    principal = request.user
    async with stint.uow() as work:
        repo = work.tenant(principal.tenant.id).tracking()
        return await user_zone(repo, principal.tenant, principal.user.id)


class ExplorerController(Controller):
    path = "/worklogs"
    tags = ("worklogs",)

    @get("/all", summary="Everyone's worklogs, filtered; with group_by, their totals by group",
         guards=[requires(Action.VIEW_OWN_TIMESHEET, Scope.WORKLOGS_READ)])
    async def everyone(
        self, request: TenantRequest, stint: StintDep,
        users: ListParam = None,
        start: Annotated[str | None, QueryParameter(name="from", max_length=64)] = None,
        end: Annotated[str | None, QueryParameter(name="to", max_length=64)] = None,
        work_items: ListParam = None,
        iterations: ListParam = None,
        budgets: ListParam = None,
        activity_types: ListParam = None,
        billable: Annotated[bool | None, QueryParameter()] = None,
        created_from: BoundParam = None,
        created_to: BoundParam = None,
        edited_since: BoundParam = None,
        approval: Annotated[str | None, QueryParameter(
            max_length=64, description="week states, comma-separated (open, submitted, approved …)",
        )] = None,
        sort: Annotated[Literal["started_at", "-started_at"], QueryParameter()] = "started_at",
        group_by: Annotated[str | None, QueryParameter(max_length=64)] = None,
        cursor: Annotated[str, QueryParameter(max_length=200)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> WorklogPage | GroupsOut:
        await ensure_may_see_everyone(request, stint)
        tenant = request.user.tenant
        time_zone = await caller_zone(request, stint)
        filters = explorer_filters(
            time_zone, users=users, start=start, end=end, work_items=work_items, iterations=iterations,
            budgets=budgets, activity_types=activity_types, billable=billable,
            created_from=created_from, created_to=created_to, edited_since=edited_since,
            approval=approval,
            descending=sort == "-started_at",
        )
        if group_by is not None:
            levels = parse_group_by(group_by)
            groups = await group_explored(stint.uow, tenant=tenant, filters=filters, levels=levels,
                                          time_zone=time_zone)
            return GroupsOut([_group_out(g) for g in groups])
        after = decode_cursor(cursor) if cursor else None
        found = await explore_worklogs(
            stint.uow, tenant=tenant, filters=filters, after=after, limit=limit + 1
        )
        page = found[:limit]
        return WorklogPage(
            items=await titled(stint, tenant, page),
            next_cursor=encode_cursor(page[-1]) if len(found) > limit else None,
        )


class WorklogBatchesController(Controller):
    """Worklogs in batches, all or nothing (``core/services/worklog_batches.py``)."""

    path = "/worklogs"
    tags = ("worklogs",)

    @post("/batch", summary="Add worklogs, all or none",
          guards=[requires(Action.EDIT_OWN_WORKLOGS, Scope.WORKLOGS_WRITE)])
    async def create_batch(
        self, request: TenantRequest, data: JSONBody[BatchCreateIn], stint: StintDep
    ) -> BatchCreateOut:
        principal = request.user
        made = await create_worklogs(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user,
            worklogs=[
                (line.user_id or principal.user.id, NewWorklog(
                    started_at=line.started_at, length_s=line.length_s,
                    billable_length_s=line.billable_length_s, work_item=item_text(line.work_item),
                    comment=line.comment, activity_type=line.activity_type,
                    activity_type_id=line.activity_type_id,
                ))
                for line in data.worklogs
            ],
            may_add_for_others=is_admin(principal) or principal.user.approval_manager,
        )
        return BatchCreateOut([worklog.id for worklog in made])

    @post("/batch-delete", summary="Delete worklogs, all or none", status_code=200,
          guards=[requires(Action.EDIT_OWN_WORKLOGS, Scope.WORKLOGS_WRITE)])
    async def delete_batch(
        self, request: TenantRequest, data: JSONBody[BatchDeleteIn], stint: StintDep
    ) -> BatchDeleteOut:
        principal = request.user
        deleted = await delete_worklogs(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, ids=data.ids,
            actor_can_edit_others=is_admin(principal),
        )
        return BatchDeleteOut(deleted)
