"""``/api/v1/worklogs``: worklogs after the fact, and their CSV/xlsx import and export."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import State, UploadFile
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import FromPath, JSONBody, QueryParameter

from core.budgets import NO_BUDGET, Assignment, Resolution
from core.errors import AccessDenied, NotFound, ValidationFailed
from core.identity.scopes import Scope
from core.licensing.access import Action
from core.licensing.roles import Role
from core.services.access import ensure_access
from core.services.approvals import deciders
from core.services.budgets import resolve_worklogs
from core.services.editing_rule import edits_others
from core.services.explorer import export_explored
from core.services.planning import work_item_titles
from core.services.tracking_common import user_zone
from core.services.worklog_history import WorklogHistory, worklog_history
from core.services.worklog_import import ImportRejected, import_worklogs
from core.services.worklogs import (
    NewWorklog,
    add_worklog,
    delete_worklog,
    edit_worklog,
    list_worklogs,
)
from core.tenancy import Tenant
from core.tracking import (
    KEEP,
    NumberedRow,
    Worklog,
    WorklogChanges,
    WorklogFlag,
    check_instant,
    read_csv,
    write_csv,
)
from core.tracking.automation import remaining_hours
from core.tracking.explorer import bound
from core.tracking.history import ChangeCursor
from core.tracking.ports import WorklogCursor
from core.tracking.rows import XLSX_MEDIA_TYPE
from plugins.bootstrap import Stint

from ..access import requires
from ..auth import TenantPrincipal
from ..deps import StintDep
from ..schemas import BudgetRef, Strict, cursor_text, opaque_cursor
from .worklog_filters import explorer_filters

__all__ = [
    "MAX_IMPORT_BYTES",
    "WorkItemRef",
    "WorklogOut",
    "WorklogPage",
    "WorklogsController",
    "history_out",
    "item_text",
    "page_item",
    "principal_may_see",
    "readable_history",
    "titled",
    "with_budgets",
    "worklog_out",
]

#: The import's own body limit, above the app's 5 MiB: a 100,000-row CSV export with short
#: comments is about 8 MB, and comments may be up to 2,000 characters. Still bounded, as the
#: file and its rows are held in memory while they are checked.
MAX_IMPORT_BYTES = 32 * 1024 * 1024

TenantRequest = Request[TenantPrincipal, Any, State]
Name = Annotated[str, msgspec.Meta(max_length=200)]
WorkItemRef = int | Annotated[str, msgspec.Meta(max_length=200)]


class WorklogOut(msgspec.Struct):
    id: str
    user_id: str
    started_at: datetime
    length_s: int
    billable_length_s: int
    work_item: str | None
    comment: str | None
    activity_type: str | None
    added_by: str
    flags: list[str]
    #: The work item's title, shown next to its id (None: no item).
    work_item_title: str | None = None
    #: The budget the worklog resolves to and how (SPEC §12).
    budget: BudgetRef = msgspec.field(default_factory=lambda: BudgetRef(None, Assignment.NONE.value))
    #: The activity type catalogue entry; ``activity_type`` is its current name.
    activity_type_id: str | None = None


@functools.lru_cache(maxsize=64)  # a handful of flag sets, shared by the rows that hold them
def _flag_names(flags: frozenset[WorklogFlag]) -> tuple[str, ...]:
    return tuple(sorted(flag.value for flag in flags))


def worklog_out(
    worklog: Worklog, titles: Mapping[str, str] | None = None,
    budgets: Mapping[str, Resolution] | None = None,
) -> WorklogOut:
    resolution = budgets.get(worklog.id, NO_BUDGET) if budgets else NO_BUDGET
    return WorklogOut(
        id=worklog.id,
        user_id=worklog.user_id,
        started_at=worklog.started_at,
        length_s=worklog.length_s,
        billable_length_s=worklog.billable_length_s,
        work_item=worklog.work_item,
        comment=worklog.comment,
        activity_type=worklog.activity_type,
        added_by=worklog.added_by,
        flags=list(_flag_names(worklog.flags)),
        work_item_title=titles.get(worklog.work_item or "") if titles else None,
        budget=BudgetRef(resolution.budget_id, resolution.assignment.value),
        activity_type_id=worklog.activity_type_id,
    )


#: The budget of every item of a page whose tenant assigns no budget. One instance shared by
#: those items (only encoded, never changed: an item with a budget gets its own).
_NO_BUDGET_REF = BudgetRef(NO_BUDGET.budget_id, NO_BUDGET.assignment.value)


def page_item(
    id: str, user_id: str, started_at: datetime, length_s: int, billable_length_s: int,
    work_item: str | None, comment: str | None, activity_type: str | None, added_by: str,
    flags: frozenset[WorklogFlag], owner_edited: bool, activity_type_id: str | None, title: str | None,
) -> WorklogOut:
    """The explorer page's item straight from its stored row (``PageShape``): what
    :func:`worklog_out` answers for that worklog with its work item's ``title``, without
    the :class:`Worklog` in between; its budget is NoBudget until :func:`with_budgets` sets it.
    The page makes up to 501 per request, and building each row twice (a ``Worklog``, then
    this) was most of the Python it spent on its rows (docs/benchmarks.md, "Times Explorer").
    ``tests/integration/test_explorer_items.py`` holds it equal to ``worklog_out``."""
    return WorklogOut(
        id=id, user_id=user_id, started_at=started_at, length_s=length_s,
        billable_length_s=billable_length_s, work_item=work_item, comment=comment,
        activity_type=activity_type, added_by=added_by, flags=list(_flag_names(flags)),
        work_item_title=title, budget=_NO_BUDGET_REF, activity_type_id=activity_type_id,
    )


def with_budgets(items: Sequence[WorklogOut], budgets: Mapping[str, Resolution]) -> None:
    """Set each item's budget from ``budgets`` (by worklog id; missing: NoBudget), as
    :func:`worklog_out` sets it."""
    if not budgets:
        return
    for item in items:
        resolution = budgets.get(item.id, NO_BUDGET)
        item.budget = BudgetRef(resolution.budget_id, resolution.assignment.value)


async def titled(stint: Stint, tenant: Tenant, worklogs: Sequence[Worklog]) -> list[WorklogOut]:
    """The worklogs as answered, each with its work item's title and its budget."""
    titles = await work_item_titles(stint.uow, tenant=tenant, names=[w.work_item for w in worklogs])
    budgets = await resolve_worklogs(
        stint.uow, tenant=tenant, worklogs=[(w.id, w.work_item) for w in worklogs]
    )
    return [worklog_out(w, titles, budgets) for w in worklogs]


def item_text(value: int | str | None) -> str | None:
    """A work item sent as a JSON integer or a string (of digits, checked by the use case)."""
    return str(value) if isinstance(value, int) else value


class ActorOut(msgspec.Struct):
    #: None: no user made the change (a background job).
    id: str | None
    name: str | None


class FieldChangeOut(msgspec.Struct):
    before: str | int | None
    after: str | int | None


class WorklogChangeOut(msgspec.Struct):
    at: datetime
    actor: ActorOut
    #: api, page, import, timer, app, sync or system.
    source: str
    #: added (after only), edited (the fields it changed), deleted (before only).
    action: str
    changes: dict[str, FieldChangeOut]


class WorklogHistoryOut(msgspec.Struct):
    items: list[WorklogChangeOut]
    next_cursor: str | None = None


def history_out(history: WorklogHistory, next_cursor: str | None = None) -> WorklogHistoryOut:
    return WorklogHistoryOut(next_cursor=next_cursor, items=[
        WorklogChangeOut(
            at=change.at,
            actor=ActorOut(change.actor_id, history.actor_names.get(change.actor_id or "")),
            source=change.source, action=change.action.value,
            changes={name: FieldChangeOut(c.before, c.after) for name, c in change.changes.items()},
        )
        for change in history.changes
    ])


def _history_cursor(cursor: str) -> ChangeCursor:
    bad = ValidationFailed("this cursor did not come from a previous page", field="cursor")
    try:
        stamp, _, last_id = cursor_text(cursor).partition("|")
        when = check_instant(datetime.fromisoformat(stamp), "cursor")
    except (ValueError, ValidationFailed):
        raise bad from None
    if not last_id:
        raise bad
    return ChangeCursor(when, last_id)


async def readable_history(
    principal: TenantPrincipal, stint: Any, worklog_id: str, *, cursor: str = "", limit: int | None = None,
) -> tuple[WorklogHistory, str | None]:
    """A page of the history and the next page's cursor, if the caller may read the owner's
    worklogs; else 404, as if it did not exist (a Team user learns nothing of another
    user's worklogs)."""
    history = await worklog_history(
        stint.uow, tenant=principal.tenant, worklog_id=worklog_id,
        after=_history_cursor(cursor) if cursor else None, limit=None if limit is None else limit + 1,
    )
    try:
        await principal_may_see(principal, stint, history.owner_id)
    except AccessDenied:
        raise NotFound("there is no such worklog") from None
    if limit is None or len(history.changes) <= limit:
        return history, None
    page = history.changes[:limit]
    last = page[-1]
    return replace(history, changes=page), opaque_cursor(f"{last.at.isoformat()}|{last.id}")


class WorklogPage(msgspec.Struct):
    items: list[WorklogOut]
    next_cursor: str | None


def encode_cursor(worklog: Worklog | WorklogOut) -> str:
    """Where the next page starts: opaque to clients, the last item's ``(started_at, id)``."""
    return opaque_cursor(f"{worklog.started_at.isoformat()}|{worklog.id}")


def decode_cursor(cursor: str) -> WorklogCursor:
    bad = ValidationFailed("this cursor did not come from a previous page", field="cursor")
    try:
        stamp, _, last_id = cursor_text(cursor).partition("|")
        when = check_instant(datetime.fromisoformat(stamp), "cursor")
    except (ValueError, ValidationFailed):
        raise bad from None
    if not last_id:
        raise bad
    return WorklogCursor(when, last_id)


@dataclass
class SpreadsheetDownload(Operation):
    """The export's OpenAPI operation: its 200 is a CSV or .xlsx file, not JSON (Litestar
    documents one media type per response; this operation lists both)."""

    def __post_init__(self) -> None:
        self.responses = {
            **(self.responses or {}),
            "200": OpenAPIResponse(
                description="The worklogs as a file (Content-Disposition: attachment)",
                content={
                    "text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
                    XLSX_MEDIA_TYPE: OpenAPIMediaType(
                        schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
                    ),
                },
            ),
        }


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


class ImportOut(msgspec.Struct):
    imported: int


def _keep(value: Any) -> Any:
    return KEEP if value is msgspec.UNSET else value


def is_admin(principal: TenantPrincipal) -> bool:
    return principal.user.effective_role(principal.tenant.default_role) == Role.ADMINISTRATOR.value


async def ensure_may_see(request: TenantRequest, stint: Any, user_id: str) -> None:
    """Someone else's worklogs: global approval managers, the user's approvers, or roles
    that may see everyone's."""
    await principal_may_see(request.user, stint, user_id)


async def principal_may_see(principal: TenantPrincipal, stint: Any, user_id: str) -> None:
    """:func:`ensure_may_see` for a caller of the API or the pages."""
    if user_id == principal.user.id or principal.user.approval_manager:
        return
    if user_id in (await deciders(stint.uow, tenant=principal.tenant, actor=principal.user) or ()):
        return
    await ensure_access(
        stint.uow, stint.clock, tenant=principal.tenant, user=principal.user,
        action=Action.VIEW_ALL_WORKLOGS, grace_days=stint.settings.grace_days,
        clock_tolerance=stint.settings.clock_tolerance, cache=principal.cache or stint.access_cache,
    )


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
            rows = await _uploaded_rows(request, stint)
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


_XLSX_MAGIC = b"PK\x03\x04"


def _decode(stint: Stint, data: bytes, filename: str, media_type: str) -> list[NumberedRow]:
    if media_type.startswith(XLSX_MEDIA_TYPE) or filename.lower().endswith(".xlsx") or (
        data.startswith(_XLSX_MAGIC) and "csv" not in media_type
    ):
        return stint.spreadsheets.read(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("a CSV file must be UTF-8 text", field="file") from None
    return read_csv(text)


async def _uploaded_rows(request: TenantRequest, stint: Stint) -> list[NumberedRow]:
    """The file as the raw body (text/csv or the .xlsx type) or as multipart field ``file``."""
    media_type = request.headers.get("content-type", "").lower()
    if media_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed("send the file in the multipart field 'file'", field="file")
        data = await upload.read()
        return await _decoded(stint, data, upload.filename or "", (upload.content_type or "").lower())
    data = await request.body()
    if not data:
        raise ValidationFailed("the request has no file", field="file")
    return await _decoded(stint, data, "", media_type)


async def _decoded(stint: Stint, data: bytes, filename: str, media_type: str) -> list[NumberedRow]:
    """:func:`_decode` in a worker thread: reading a big sheet takes seconds of pure Python,
    during which the event loop must go on serving the process's other requests."""
    return await asyncio.to_thread(_decode, stint, data, filename, media_type)
