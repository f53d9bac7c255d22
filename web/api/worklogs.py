"""``/api/v1/worklogs``: worklogs after the fact — list, add, change, delete, a worklog's
history, and their CSV/xlsx import and export. The controller's answers are in
``worklog_answers.py``, who may see whose worklogs in ``worklog_access.py``, the history's
answer in ``worklog_history.py`` and the files' reading in ``worklog_files.py``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from core.errors import ValidationFailed
from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.access import ensure_access
from core.services.editing_rule import edits_others
from core.services.explorer import export_explored
from core.services.tracking_common import user_zone
from core.services.worklog_import import ImportRejected, import_worklogs
from core.services.worklogs import (
    NewWorklog,
    add_worklog,
    delete_worklog,
    edit_worklog,
    list_worklogs,
)
from core.tracking import KEEP, WorklogChanges, write_csv
from core.tracking.automation import remaining_hours
from core.tracking.explorer import bound
from core.tracking.rows import XLSX_MEDIA_TYPE

from ..access import requires
from ..auth import TenantRequest
from ..deps import StintDep
from ..schemas import Strict
from .worklog_access import ensure_may_see, is_admin
from .worklog_answers import (
    WorkItemRef,
    WorklogOut,
    WorklogPage,
    decode_cursor,
    encode_cursor,
    item_text,
    titled,
)
from .worklog_files import MAX_IMPORT_BYTES, ImportOut, SpreadsheetDownload, uploaded_rows
from .worklog_filters import explorer_filters
from .worklog_history import WorklogHistoryOut, history_out, readable_history

__all__ = ["WorklogsController"]

Name = Annotated[str, msgspec.Meta(max_length=200)]


class WorklogIn(Strict):
    started_at: datetime
    length_s: int
    billable_length_s: int = 0
    #: An existing work item's id, as a JSON integer or a string of digits.
    work_item: WorkItemRef | None = None
    comment: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    activity_type: Name | None = None
    #: An active entry of GET /api/v1/activity-types (wins over ``activity_type``, a name).
    activity_type_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    user_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    #: The work item's new Remaining Work in hours (at most two decimals), taken only while
    #: the tenant's work item automation sets it per worklog (else 422).
    remaining_h: Annotated[float, msgspec.Meta(ge=0, le=100_000)] | None = None


class WorklogPatch(Strict):
    """Only the fields sent change; ``null`` clears an optional one."""

    started_at: datetime | msgspec.UnsetType = msgspec.UNSET
    length_s: int | msgspec.UnsetType = msgspec.UNSET
    billable_length_s: int | msgspec.UnsetType = msgspec.UNSET
    work_item: WorkItemRef | msgspec.UnsetType | None = msgspec.UNSET
    comment: Annotated[str, msgspec.Meta(max_length=2000)] | msgspec.UnsetType | None = msgspec.UNSET
    activity_type: Name | msgspec.UnsetType | None = msgspec.UNSET
    activity_type_id: Annotated[str, msgspec.Meta(max_length=64)] | msgspec.UnsetType | None = msgspec.UNSET


def _keep(value: Any) -> Any:
    return KEEP if value is msgspec.UNSET else value


class WorklogsController(Controller):
    path = "/worklogs"
    tags = ("worklogs",)

    @get("/", summary="Worklogs (your own unless ?user=), oldest first, a page at a time",
         guards=[requires(Action.VIEW_OWN_TIMESHEET, Scope.WORKLOGS_READ)])
    async def list(
        self, request: TenantRequest, stint: StintDep,
        user: Annotated[str | None, QueryParameter(max_length=64)] = None,
        start: Annotated[str | None, QueryParameter(name="from", max_length=64)] = None,
        end: Annotated[str | None, QueryParameter(name="to", max_length=64)] = None,
        cursor: Annotated[str, QueryParameter(max_length=200)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> WorklogPage:
        after = decode_cursor(cursor) if cursor else None
        user_id = user or request.user.user.id
        await ensure_may_see(request, stint, user_id)
        time_zone = request.user.tenant.time_zone
        if start is not None or end is not None:  # a date is a whole day in the caller's zone
            async with stint.uow() as work:
                repo = work.tenant(request.user.tenant.id).tracking()
                time_zone = await user_zone(repo, request.user.tenant, request.user.user.id)
        found = await list_worklogs(
            stint.uow, tenant=request.user.tenant, user_id=user_id, start=bound(start, "from", time_zone),
            end=bound(end, "to", time_zone, end=True), after=after, limit=limit + 1,
        )
        page = found[:limit]
        return WorklogPage(
            items=await titled(stint, request.user.tenant, page),
            next_cursor=encode_cursor(page[-1]) if len(found) > limit else None,
        )

    @post("/", summary="Add a worklog", guards=[requires(Action.EDIT_OWN_WORKLOGS, Scope.WORKLOGS_WRITE)])
    async def create(self, request: TenantRequest, data: JSONBody[WorklogIn], stint: StintDep) -> WorklogOut:
        principal = request.user
        worklog = await add_worklog(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user,
            owner_id=data.user_id or principal.user.id,
            new=NewWorklog(
                started_at=data.started_at, length_s=data.length_s,
                billable_length_s=data.billable_length_s, work_item=item_text(data.work_item),
                comment=data.comment, activity_type=data.activity_type,
                remaining_h=None if data.remaining_h is None else remaining_hours(repr(data.remaining_h)),
                activity_type_id=data.activity_type_id,
            ),
            may_add_for_others=is_admin(principal) or principal.user.approval_manager
            or await edits_others(stint.uow, tenant=principal.tenant, user=principal.user),
        )
        [out] = await titled(stint, principal.tenant, [worklog])
        return out

    @patch("/{worklog_id:str}", summary="Change a worklog",
           guards=[requires(Action.EDIT_OWN_WORKLOGS, Scope.WORKLOGS_WRITE)])
    async def change(
        self, request: TenantRequest, worklog_id: FromPath[str], data: JSONBody[WorklogPatch], stint: StintDep
    ) -> WorklogOut:
        principal = request.user
        changes = WorklogChanges(
            started_at=_keep(data.started_at), length_s=_keep(data.length_s),
            billable_length_s=_keep(data.billable_length_s),
            work_item=KEEP if data.work_item is msgspec.UNSET else item_text(data.work_item),
            comment=_keep(data.comment), activity_type=_keep(data.activity_type),
            activity_type_id=_keep(data.activity_type_id),
        )
        worklog = await edit_worklog(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user,
            worklog_id=worklog_id, changes=changes,
            actor_can_edit_others=await edits_others(stint.uow, tenant=principal.tenant, user=principal.user),
        )
        [out] = await titled(stint, principal.tenant, [worklog])
        return out

    @delete("/{worklog_id:str}", summary="Delete a worklog",
            guards=[requires(Action.EDIT_OWN_WORKLOGS, Scope.WORKLOGS_WRITE)])
    async def remove(self, request: TenantRequest, worklog_id: FromPath[str], stint: StintDep) -> None:
        principal = request.user
        await delete_worklog(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user,
            worklog_id=worklog_id,
            actor_can_edit_others=await edits_others(stint.uow, tenant=principal.tenant, user=principal.user),
        )

    @get("/{worklog_id:str}/history", summary="A worklog's change history, oldest first",
         guards=[requires(Action.VIEW_OWN_TIMESHEET, Scope.WORKLOGS_READ)])
    async def history(
        self, request: TenantRequest, worklog_id: FromPath[str], stint: StintDep,
        cursor: Annotated[str, QueryParameter(max_length=200)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> WorklogHistoryOut:
        """Every add, edit and delete with who, when and from where; a deleted worklog's too."""
        history, next_cursor = await readable_history(
            request.user, stint, worklog_id, cursor=cursor, limit=limit
        )
        return history_out(history, next_cursor)

    @get("/export", summary="Export worklogs as CSV or Excel",
         guards=[requires(Action.EXPORT_OWN, Scope.WORKLOGS_READ)],
         operation_class=SpreadsheetDownload)
    async def export(
        self, request: TenantRequest, stint: StintDep,
        format: Annotated[Literal["csv", "xlsx"], QueryParameter()] = "csv",
        everyone: Annotated[bool, QueryParameter(name="all")] = False,
        users: Annotated[str | None, QueryParameter(max_length=4_000)] = None,
        start: Annotated[str | None, QueryParameter(name="from", max_length=64)] = None,
        end: Annotated[str | None, QueryParameter(name="to", max_length=64)] = None,
        work_items: Annotated[str | None, QueryParameter(max_length=4_000)] = None,
        iterations: Annotated[str | None, QueryParameter(max_length=4_000)] = None,
        budgets: Annotated[str | None, QueryParameter(max_length=4_000)] = None,
        activity_types: Annotated[str | None, QueryParameter(max_length=4_000)] = None,
        billable: Annotated[bool | None, QueryParameter()] = None,
        created_from: Annotated[str | None, QueryParameter(max_length=64)] = None,
        created_to: Annotated[str | None, QueryParameter(max_length=64)] = None,
        edited_since: Annotated[str | None, QueryParameter(max_length=64)] = None,
        approval: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> Response[bytes]:
        """The filters of ``GET /worklogs/all``; without ``all`` or ``users`` only your own."""
        principal = request.user
        async with stint.uow() as work:
            time_zone = await user_zone(work.tenant(principal.tenant.id).tracking(), principal.tenant,
                                        principal.user.id)
        filters = explorer_filters(
            time_zone, users=users, start=start, end=end, work_items=work_items, iterations=iterations,
            budgets=budgets, activity_types=activity_types, billable=billable,
            created_from=created_from, created_to=created_to, edited_since=edited_since,
            approval=approval,
        )
        if everyone or (filters.users is not None and filters.users != {principal.user.id}):
            await ensure_access(
                stint.uow, stint.clock, tenant=principal.tenant, user=principal.user,
                action=Action.EXPORT_ALL, grace_days=stint.settings.grace_days,
                clock_tolerance=stint.settings.clock_tolerance, cache=principal.cache or stint.access_cache,
            )
        else:
            filters = replace(filters, users=frozenset({principal.user.id}))
        rows = await export_explored(stint.uow, tenant=principal.tenant, filters=filters, time_zone=time_zone)
        if format == "xlsx":
            content, media_type = stint.spreadsheets.write(rows), XLSX_MEDIA_TYPE
        else:
            # Litestar adds "; charset=utf-8" to text/* types itself: naming it here said it twice.
            content, media_type = write_csv(rows).encode("utf-8-sig"), "text/csv"
        disposition = f'attachment; filename="worklogs.{format}"'
        return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})

    @post("/import", summary="Import worklogs from CSV or Excel (all or nothing)",
          guards=[requires(Action.EDIT_OWN_WORKLOGS, Scope.WORKLOGS_WRITE)], status_code=201,
          request_max_body_size=MAX_IMPORT_BYTES)
    async def import_(self, request: TenantRequest, stint: StintDep) -> ImportOut:
        principal = request.user
        try:
            rows = await uploaded_rows(request, stint)
        except ValidationFailed as bad:
            # One answer shape for every refused import: {errors: [{line, reason}]}.
            line = int(bad.extra.get("line", 1))
            raise ImportRejected(bad.detail, errors=[{"line": line, "reason": bad.detail}]) from None
        async with stint.uow() as work:
            time_zone = await user_zone(work.tenant(principal.tenant.id).tracking(), principal.tenant,
                                        principal.user.id)
        imported = await import_worklogs(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, rows=rows,
            may_import_for_others=is_admin(principal), time_zone=time_zone,
        )
        return ImportOut(imported=len(imported))
