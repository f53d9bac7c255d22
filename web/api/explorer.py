"""``GET /api/v1/worklogs/all``: everyone's worklogs, filtered and optionally grouped (the
Times Explorer's list; issue #17). A controller of its own beside ``WorklogsController``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import JSONBody, QueryParameter

from core.errors import AccessDenied
from core.identity.scopes import Scope
from core.licensing.access import Action, DenialReason
from core.services.access import check_access, ensure_access
from core.services.approvals import deciders
from core.services.editing_rule import edits_others
from core.services.explorer import ExplorerFilters, explore_page
from core.services.explorer_grouping import group_explored
from core.services.tracking_common import cached_user_zone
from core.services.worklog_batch_edit import LEAVE, BatchChanges, update_worklogs
from core.services.worklog_batches import MAX_BATCH, create_worklogs, delete_worklogs
from core.services.worklogs import NewWorklog
from core.tracking.explorer import WorklogGroup, parse_group_by

from ..access import requires
from ..auth import TenantRequest
from ..deps import StintDep
from ..schemas import MoneyOut, Strict
from .worklog_access import is_admin
from .worklog_answers import (
    WorkItemRef,
    WorklogPage,
    decode_cursor,
    encode_cursor,
    item_text,
    page_item,
    with_budgets,
)
from .worklog_filters import explorer_filters

__all__ = [
    "ExplorerController", "GroupOut", "GroupsOut", "WorklogBatchesController", "ensure_may_see_everyone",
]


ListParam = Annotated[str | None, QueryParameter(max_length=4_000)]
BoundParam = Annotated[str | None, QueryParameter(max_length=64, description=(
    "a date (YYYY-MM-DD, in your time zone) or an ISO 8601 date-time with an offset"))]


class BatchDeleteIn(Strict):
    ids: Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=MAX_BATCH)]


class BatchDeleteOut(msgspec.Struct):
    deleted: int


class BatchSetIn(Strict):
    """What the batch sets on every worklog; only the fields sent change."""

    #: True: the whole length is billable; False: none of it.
    billable: bool | msgspec.UnsetType = msgspec.UNSET
    billable_length_s: int | msgspec.UnsetType = msgspec.UNSET
    activity_type_id: Annotated[str, msgspec.Meta(max_length=64)] | msgspec.UnsetType | None = msgspec.UNSET
    #: ``null`` removes the worklogs' own budget assignment.
    budget_id: Annotated[str, msgspec.Meta(max_length=64)] | msgspec.UnsetType | None = msgspec.UNSET
    work_item: WorkItemRef | msgspec.UnsetType | None = msgspec.UNSET
    comment: Annotated[str, msgspec.Meta(max_length=2000)] | msgspec.UnsetType | None = msgspec.UNSET


class BatchUpdateIn(Strict):
    ids: Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=MAX_BATCH)]
    set: BatchSetIn


class BatchUpdateOut(msgspec.Struct):
    updated: int


def _leave(value: Any) -> Any:
    return LEAVE if value is msgspec.UNSET else value


def batch_changes(data: BatchSetIn) -> BatchChanges:
    return BatchChanges(
        billable=_leave(data.billable), billable_length_s=_leave(data.billable_length_s),
        activity_type_id=_leave(data.activity_type_id), budget_id=_leave(data.budget_id),
        work_item=LEAVE if data.work_item is msgspec.UNSET else item_text(data.work_item),
        comment=_leave(data.comment),
    )


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


async def ensure_may_see_everyone(request: TenantRequest, stint: StintDep) -> frozenset[str] | None:
    """Whose worklogs the caller sees here: everyone's (None) for Product, Budget,
    Administrators and global approval managers; an approver whose role alone does not
    allow it sees the people whose weeks they approve; anyone else (Team): 403."""
    principal = request.user
    if principal.user.approval_manager:
        return None
    outcome = await check_access(
        stint.uow, stint.clock, tenant=principal.tenant, user=principal.user,
        action=Action.VIEW_ALL_WORKLOGS, grace_days=stint.settings.grace_days,
        clock_tolerance=stint.settings.clock_tolerance, cache=principal.cache or stint.access_cache,
    )
    decision = outcome.decision
    if decision.allowed:
        return None
    if decision.reason is DenialReason.NOT_PERMITTED:
        people = await deciders(stint.uow, tenant=principal.tenant, actor=principal.user)
        if people:
            return people
    reason = decision.reason or DenialReason.NOT_PERMITTED
    raise AccessDenied(reason.value, decision.message or reason.value, hidden=decision.hidden)


async def caller_zone(request: TenantRequest, stint: StintDep) -> str:
    """The caller's zone, from the request's cache when it holds it (no database read)."""
    principal = request.user
    return await cached_user_zone(stint.uow, principal.tenant, principal.user.id,
                                  principal.cache or stint.access_cache)


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
        people = await ensure_may_see_everyone(request, stint)
        tenant = request.user.tenant

        def filters(time_zone: str) -> ExplorerFilters:
            asked = explorer_filters(
                time_zone, users=users, start=start, end=end, work_items=work_items,
                iterations=iterations, budgets=budgets, activity_types=activity_types, billable=billable,
                created_from=created_from, created_to=created_to, edited_since=edited_since,
                approval=approval, descending=sort == "-started_at",
            )
            if people is None:
                return asked
            # An approver's people only: those asked for among them, else all of them.
            return replace(asked, users=people if asked.users is None else asked.users & people)

        time_zone = await caller_zone(request, stint)
        if group_by is not None:
            levels = parse_group_by(group_by)
            groups = await group_explored(stint.uow, tenant=tenant, filters=filters(time_zone), levels=levels,
                                          time_zone=time_zone, cache=request.user.cache or stint.access_cache)
            return GroupsOut([_group_out(g) for g in groups])
        after = decode_cursor(cursor) if cursor else None
        found = await explore_page(stint.uow, tenant=tenant, filters=filters(time_zone), shape=page_item,
                                   after=after, limit=limit + 1)
        page = found.items[:limit]
        with_budgets(page, found.budgets)
        more = len(found.items) > limit
        return WorklogPage(items=page, next_cursor=encode_cursor(page[-1]) if more else None)


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
            may_add_for_others=is_admin(principal) or principal.user.approval_manager
            or await edits_others(stint.uow, tenant=principal.tenant, user=principal.user),
        )
        return BatchCreateOut([worklog.id for worklog in made])

    @patch("/batch", summary="Change worklogs, all or none",
           guards=[requires(Action.EDIT_OWN_WORKLOGS, Scope.WORKLOGS_WRITE)])
    async def update_batch(
        self, request: TenantRequest, data: JSONBody[BatchUpdateIn], stint: StintDep
    ) -> BatchUpdateOut:
        principal = request.user
        changes = batch_changes(data.set)
        if changes.budget_id is not LEAVE:  # as POST /budgets/{id}/assign asks
            await ensure_access(
                stint.uow, stint.clock, tenant=principal.tenant, user=principal.user,
                action=Action.MANAGE_BUDGETS, grace_days=stint.settings.grace_days,
                clock_tolerance=stint.settings.clock_tolerance, cache=principal.cache or stint.access_cache,
            )
        updated = await update_worklogs(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, ids=data.ids,
            changes=changes, actor_can_edit_others=is_admin(principal),
        )
        return BatchUpdateOut(updated)

    @post("/batch-delete", summary="Delete worklogs, all or none", status_code=200,
          guards=[requires(Action.EDIT_OWN_WORKLOGS, Scope.WORKLOGS_WRITE)])
    async def delete_batch(
        self, request: TenantRequest, data: JSONBody[BatchDeleteIn], stint: StintDep
    ) -> BatchDeleteOut:
        principal = request.user
        deleted = await delete_worklogs(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, ids=data.ids,
            actor_can_edit_others=await edits_others(stint.uow, tenant=principal.tenant, user=principal.user),
        )
        return BatchDeleteOut(deleted)
