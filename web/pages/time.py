"""``/time``: the Time tab — the running timer (live: the status polls every 2 s), the
activity-check prompt, the weekly timesheet (the keyboard grid, ``POST /time/cells``, and the
worklog list with inline add and edit), the monthly calendar, and submitting a week. Every
action calls the tracking use cases the API calls (``core.services.tracking``, ``worklogs``,
``timesheets``, ``timesheet_grid``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlsplit

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Template

from core.clock import today_in
from core.errors import AccessDenied, StintError, ValidationFailed, WeekLocked
from core.licensing.access import Action
from core.services.activity_types import list_activity_types
from core.services.planning import list_work_items, work_item_titles
from core.services.timesheet_grid import SheetFilters, SheetRow, sheet_items, sheet_rows, write_cell
from core.services.timesheets import change_week, month_view, week_view
from core.services.tracking import answer_activity_check, current_timer, start_tracking, stop_tracking
from core.services.tracking_common import user_zone
from core.services.work_item_automation import work_item_automation
from core.services.worklogs import NewWorklog, add_worklog, delete_worklog, edit_worklog, list_worklogs
from core.texts import N_
from core.tracking import (
    KEEP,
    WeekId,
    WorklogChanges,
    check_day,
    local_day,
    parse_week_id,
    week_of,
    zone,
)
from core.tracking.automation import remaining_hours
from core.tracking.cells import format_hm, parse_duration
from core.work_items.ports import WorkItemFilter
from plugins import i18n

from ..problems import status_of
from .render import Page, is_htmx, open_page, render, stint_of

__all__ = ["TimeController", "parse_duration"]

#: The week states as pages show them: the templates translate ``_(week.status.value)``,
#: these marks put the words in the catalogue.
WEEK_STATES = (N_("open"), N_("submitted"), N_("approved"), N_("rejected"), N_("closed"))

_HM = re.compile(r"(\d{1,2}):([0-5]\d)", re.ASCII)
_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)


def _clean(text: str) -> str | None:
    return text.strip() or None


class StartForm(msgspec.Struct):
    work_item: Annotated[str, msgspec.Meta(max_length=200)] = ""
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    activity_type_id: Annotated[str, msgspec.Meta(max_length=64)] = ""


class CheckForm(msgspec.Struct):
    defer: Literal["", "one_hour", "tomorrow", "next_monday"] = ""


class WorklogForm(msgspec.Struct):
    day: date
    hours: Annotated[str, msgspec.Meta(max_length=10)]
    start: Annotated[str, msgspec.Meta(max_length=5)] = "09:00"
    work_item: Annotated[str, msgspec.Meta(max_length=200)] = ""
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    #: The work item's new Remaining Work (hours), shown while the tenant sets it per worklog.
    remaining_h: Annotated[str, msgspec.Meta(max_length=12)] = ""
    #: A select of the active activity types; "" is none. Absent (an older form): unchanged.
    activity_type_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class CellForm(msgspec.Struct):
    day: date
    #: What was typed; empty clears the cell.
    hours: Annotated[str, msgspec.Meta(max_length=40)] = ""
    work_item: Annotated[str, msgspec.Meta(max_length=200)] = ""
    #: "1" once the user confirmed clearing a cell of several worklogs.
    confirmed: Annotated[str, msgspec.Meta(max_length=5)] = ""


_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)
StartBody = Annotated[StartForm, _URL_ENCODED]
CheckBody = Annotated[CheckForm, _URL_ENCODED]
WorklogBody = Annotated[WorklogForm, _URL_ENCODED]
CellBody = Annotated[CellForm, _URL_ENCODED]


async def _zone_of(page: Page, request: Request[Any, Any, Any]) -> str:
    stint = stint_of(request)
    async with stint.uow() as work:
        repo = work.tenant(page.principal.tenant.id).tracking()
        return await user_zone(repo, page.principal.tenant, page.principal.user.id)


async def _timer_context(request: Request[Any, Any, Any], page: Page, **extra: Any) -> dict[str, Any]:
    stint = stint_of(request)
    p = page.principal
    timer, _ = await current_timer(stint.uow, stint.clock, tenant=p.tenant, user=p.user)
    now = stint.clock.now()
    tz = await _zone_of(page, request)
    state: dict[str, Any] = {"running": False}
    if timer is not None:
        elapsed = int((now - timer.started_at).total_seconds())
        state = {
            "running": True,
            "since": timer.started_at.astimezone(zone(tz)).strftime("%H:%M"),
            "elapsed": f"{elapsed // 3600}:{elapsed % 3600 // 60:02d}:{elapsed % 60:02d}",
            "work_item": timer.work_item,
            "work_item_title": (await work_item_titles(stint.uow, tenant=p.tenant, names=[timer.work_item]))
            .get(timer.work_item or ""),
            "comment": timer.comment,
            "activity_type": timer.activity_type,
            "check_due": now >= timer.next_activity_check_at,
        }
    return page.context(timer=state, **extra)


def _bounds(week: WeekId, tz: str) -> tuple[datetime, datetime]:
    start = datetime.combine(week.monday, time(), tzinfo=zone(tz)).astimezone(UTC)
    return start, start + timedelta(days=7)


#: The most rows "add a row" keeps in the address (each is a work item id).
_MAX_ADDED = 20


@dataclass(frozen=True, slots=True)
class SheetState:
    """The grid's filters and added rows. They live in the page's address (so a reload or a
    shared link shows the same grid); a request without them reads the address it came from
    (htmx sends it as ``HX-Current-URL``), so a cell write keeps the grid as the user sees it."""

    filters: SheetFilters
    added: tuple[str, ...] = ()

    @property
    def filter_query(self) -> str:
        """The filters as ``&``-prefixed query parameters (always both, so a link that turns a
        filter off says so rather than falling back to the address it came from)."""
        mine = "1" if self.filters.mine else "0"
        iteration = "current" if self.filters.current_iteration else "any"
        return f"&mine={mine}&iteration={iteration}"


_SHEET_KEYS = ("mine", "iteration", "add")


def _sheet_state(request: Request[Any, Any, Any]) -> SheetState:
    params: Mapping[str, str] = {k: v for k, v in request.query_params.items() if k in _SHEET_KEYS}
    if not params:
        current = urlsplit(request.headers.get("hx-current-url", ""))
        params = {k: v for k, v in parse_qsl(current.query) if k in _SHEET_KEYS}
    added = tuple(
        dict.fromkeys(
            name for name in (part.strip() for part in params.get("add", "").split(","))
            if name.isascii() and name.isdecimal() and len(name) <= 18
        )
    )[:_MAX_ADDED]
    filters = SheetFilters(
        mine=params.get("mine", "") in ("1", "true", "on"),
        current_iteration=params.get("iteration", "") == "current",
    )
    return SheetState(filters, added)


def _cell_label(day: date, row: SheetRow, seconds: int) -> str:
    item = f"#{row.work_item} {row.title}" if row.work_item and row.title else (
        f"#{row.work_item}" if row.work_item else "no work item"
    )
    # The cell shows "1:30"; its name starts with that same text (what a voice-control user
    # says to reach it, WCAG 2.5.3) and spells it out after it.
    value = f"{seconds // 3600}:{seconds % 3600 // 60:02d} ({format_hm(seconds)})" if seconds else "empty"
    mark = " (in progress, assigned to you)" if row.blue else ""
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b')}, {item}: {value}{mark}"


async def _week_context(
    request: Request[Any, Any, Any], page: Page, week: WeekId, sheet: SheetState | None = None
) -> dict[str, Any]:
    stint = stint_of(request)
    p = page.principal
    sheet = sheet or _sheet_state(request)
    view = await week_view(stint.uow, tenant=p.tenant, user_id=p.user.id, week=week,
                           today=today_in(stint.clock))
    start, end = _bounds(week, view.time_zone)
    worklogs = await list_worklogs(stint.uow, tenant=p.tenant, user_id=p.user.id, start=start, end=end)
    tz = zone(view.time_zone)
    automation = await work_item_automation(stint.uow, tenant=p.tenant)
    names = [w.work_item for w in worklogs] + [r.work_item for r in view.grid.rows]
    items = await sheet_items(
        stint.uow, tenant=p.tenant, user_id=p.user.id, week=week, names=[*names, *sheet.added]
    )
    rows = sheet_rows(view.grid, items, user_id=p.user.id, filters=sheet.filters, added=sheet.added)
    # How many worklogs lie under each cell: clearing several asks first.
    counts: dict[tuple[str | None, date], int] = {}
    for w in worklogs:
        key = (w.work_item, w.started_at.astimezone(tz).date())
        counts[key] = counts.get(key, 0) + 1
    return {
        "sheet": sheet,
        "sheet_rows": rows,
        "cell_counts": counts,
        "cell_label": _cell_label,
        "remaining_per_worklog": automation.takes_remaining_per_worklog,
        "titles": await work_item_titles(stint.uow, tenant=p.tenant, names=names),
        "week": view,
        "week_id": str(week),
        "prev_week": str(week_of(week.monday - timedelta(days=7))),
        "next_week": str(week_of(week.monday + timedelta(days=7))),
        "worklogs": sorted(worklogs, key=lambda w: w.started_at),
        "local": lambda instant: instant.astimezone(tz),
        "today": stint.clock.now().astimezone(tz).date(),
    }


def _week_id(request: Request[Any, Any, Any], text: str | None) -> WeekId:
    if text:
        return parse_week_id(text)
    return week_of(stint_of(request).clock.now().date())


def _local_start(day: date, start: str, tz: str) -> datetime:
    check_day(day, "day")
    match = _HM.fullmatch(start.strip())
    if match is None or int(match[1]) > 23:
        raise ValidationFailed(f"{start!r} is not a time of day; type 09:00", field="start")
    moment = datetime.combine(day, time(int(match[1]), int(match[2])), tzinfo=zone(tz))
    return moment.astimezone(UTC)


WeekQuery = Annotated[str | None, QueryParameter(max_length=10)]


class TimeController(Controller):
    path = "/time"
    include_in_schema = False

    async def _time_page(
        self, request: Request[Any, Any, Any], page: Page, week: WeekId, partial: str | None,
        *, sheet: SheetState | None = None, status_code: int = 200, **extra: Any,
    ) -> Template:
        context = await _timer_context(request, page, **extra)
        context.update(await _week_context(request, page, week, sheet))
        # The selects of the timer and worklog forms offer the catalogue's active entries (read
        # here, not in the timer's context: the timer fragment polls every two seconds).
        context["activity_types"] = await list_activity_types(
            stint_of(request).uow, tenant=page.principal.tenant
        )
        return render(request, "time/index.html", partial, context, status_code=status_code)

    @get("/", name="time")
    async def index(self, request: Request[Any, Any, Any], week: WeekQuery = None) -> Template:
        page = await open_page(request, Action.USE_TIME_TAB)
        return await self._time_page(request, page, _week_id(request, week), None)

    @get("/timer")
    async def timer(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.TRACK_TIME)
        if not is_htmx(request):
            # A plain link or a new tab: the whole Time tab, not a fragment it cannot render.
            return await self._time_page(request, page, _week_id(request, None), None)
        return render(request, "time/index.html", "time/_timer.html", await _timer_context(request, page))

    @post("/start", status_code=200)
    async def start(self, request: Request[Any, Any, Any], data: StartBody) -> Template:
        page = await open_page(request, Action.TRACK_TIME)
        stint = stint_of(request)
        await start_tracking(
            stint.uow,
            stint.clock,
            tenant=page.principal.tenant,
            user=page.principal.user,
            work_item=_clean(data.work_item),
            comment=_clean(data.comment),
            activity_type_id=_clean(data.activity_type_id),
        )
        return await self._time_page(request, page, _week_id(request, None), "time/_timer.html")

    @post("/stop", status_code=200)
    async def stop(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.TRACK_TIME)
        stint = stint_of(request)
        await stop_tracking(stint.uow, stint.clock, tenant=page.principal.tenant, user=page.principal.user)
        # The new worklog shows up in this week's grid at once (out-of-band swap).
        return await self._time_page(
            request, page, _week_id(request, None), "time/_timer_and_week.html", week_oob=True
        )

    @post("/activity-check", status_code=200)
    async def activity_check(self, request: Request[Any, Any, Any], data: CheckBody) -> Template:
        page = await open_page(request, Action.TRACK_TIME)
        stint = stint_of(request)
        await answer_activity_check(
            stint.uow,
            stint.clock,
            tenant=page.principal.tenant,
            user=page.principal.user,
            defer=data.defer or None,
        )
        return await self._time_page(request, page, _week_id(request, None), "time/_timer.html")

    @get("/week")
    async def week(self, request: Request[Any, Any, Any], week: WeekQuery = None) -> Template:
        page = await open_page(request, Action.VIEW_OWN_TIMESHEET)
        return await self._time_page(request, page, _week_id(request, week), "time/_week.html")

    @post("/worklogs", status_code=200)
    async def add(self, request: Request[Any, Any, Any], data: WorklogBody) -> Template:
        page = await open_page(request, Action.EDIT_OWN_WORKLOGS)
        stint = stint_of(request)
        p = page.principal
        tz = await _zone_of(page, request)
        await add_worklog(
            stint.uow,
            stint.clock,
            tenant=p.tenant,
            actor=p.user,
            owner_id=p.user.id,
            new=NewWorklog(
                started_at=_local_start(data.day, data.start, tz),
                length_s=parse_duration(data.hours),
                work_item=_clean(data.work_item),
                comment=_clean(data.comment),
                remaining_h=remaining_hours(data.remaining_h.strip()) if data.remaining_h.strip() else None,
                activity_type_id=_clean(data.activity_type_id or ""),
            ),
            may_add_for_others=False,
        )
        return await self._time_page(request, page, week_of(data.day), "time/_week.html")

    @get("/worklogs/{worklog_id:str}/edit")
    async def edit_form(self, request: Request[Any, Any, Any], worklog_id: FromPath[str]) -> Template:
        page = await open_page(request, Action.EDIT_OWN_WORKLOGS)
        stint = stint_of(request)
        async with stint.uow() as work:
            worklog = await work.tenant(page.principal.tenant.id).tracking().worklog(worklog_id)
        if worklog is None or worklog.user_id != page.principal.user.id:
            raise ValidationFailed("there is no such worklog of yours", field="worklog")
        tz = await _zone_of(page, request)
        if not is_htmx(request):
            # Opened in a new tab or without JavaScript: the worklog's week with its row open.
            week = week_of(local_day(worklog.started_at, tz))
            return await self._time_page(request, page, week, None, editing=worklog.id)
        return render(
            request,
            "time/index.html",
            "time/_worklog_edit.html",
            page.context(
                w=worklog, local=lambda instant: instant.astimezone(zone(tz)),
                week_id=str(week_of(local_day(worklog.started_at, tz))),
                activity_types=await list_activity_types(stint.uow, tenant=page.principal.tenant),
            ),
        )

    @post("/worklogs/{worklog_id:str}", status_code=200)
    async def edit(
        self, request: Request[Any, Any, Any], worklog_id: FromPath[str], data: WorklogBody
    ) -> Template:
        page = await open_page(request, Action.EDIT_OWN_WORKLOGS)
        stint = stint_of(request)
        p = page.principal
        tz = await _zone_of(page, request)
        await edit_worklog(
            stint.uow,
            stint.clock,
            tenant=p.tenant,
            actor=p.user,
            worklog_id=worklog_id,
            changes=WorklogChanges(
                started_at=_local_start(data.day, data.start, tz),
                length_s=parse_duration(data.hours),
                work_item=_clean(data.work_item),
                comment=_clean(data.comment),
                activity_type=KEEP,
                activity_type_id=KEEP if data.activity_type_id is None else _clean(data.activity_type_id),
            ),
            actor_can_edit_others=False,
        )
        return await self._time_page(request, page, week_of(data.day), "time/_week.html")

    @post("/worklogs/{worklog_id:str}/delete", status_code=200)
    async def delete(
        self, request: Request[Any, Any, Any], worklog_id: FromPath[str], week: WeekQuery = None
    ) -> Template:
        page = await open_page(request, Action.EDIT_OWN_WORKLOGS)
        stint = stint_of(request)
        p = page.principal
        await delete_worklog(
            stint.uow,
            stint.clock,
            tenant=p.tenant,
            actor=p.user,
            worklog_id=worklog_id,
            actor_can_edit_others=False,
        )
        return await self._time_page(request, page, _week_id(request, week), "time/_week.html")

    @post("/cells", status_code=200)
    async def cell(self, request: Request[Any, Any, Any], data: CellBody) -> Template:
        """Write one cell of the keyboard grid: its day's total for its work item."""
        page = await open_page(request, Action.EDIT_OWN_WORKLOGS)
        stint = stint_of(request)
        p = page.principal
        # A day outside the calendar has no week to draw: refused before anything (a flash).
        check_day(data.day, "day")
        work_item = _clean(data.work_item)
        error: dict[str, Any] | None = None
        status = 200
        try:
            await write_cell(
                stint.uow, stint.clock, tenant=p.tenant, actor=p.user, day=data.day,
                work_item=work_item, text=data.hours, confirmed=data.confirmed in ("1", "true", "on"),
            )
        except StintError as refused:
            if isinstance(refused, AccessDenied):
                raise
            # Refused in the cell: the grid comes back as stored, this cell marked with the reason.
            status = status_of(refused)
            error = {
                "work_item": work_item, "day": data.day, "detail": refused.detail,
                "short": "week locked" if isinstance(refused, WeekLocked) else "not saved",
            }
        return await self._time_page(
            request, page, week_of(data.day), "time/_week.html", status_code=status, cell_error=error
        )

    @get("/work-items")
    async def find_work_items(
        self, request: Request[Any, Any, Any],
        search: Annotated[str, QueryParameter(max_length=200)] = "",
        week: WeekQuery = None,
    ) -> Template:
        """The "add a row" search: work items whose title (or id) matches, as options."""
        page = await open_page(request, Action.EDIT_OWN_WORKLOGS)
        if not is_htmx(request):
            return await self._time_page(request, page, _week_id(request, week), None)
        text = search.strip()
        found = []
        if text:
            result = await list_work_items(
                stint_of(request).uow, tenant=page.principal.tenant,
                where=WorkItemFilter(search=text), cursor=None, limit=10,
            )
            found = result.items
        return render(
            request, "time/index.html", "time/_sheet_search.html", page.context(found=found, search=text)
        )

    @post("/weeks/{week:str}/submit", status_code=200)
    async def submit(self, request: Request[Any, Any, Any], week: FromPath[str]) -> Template:
        page = await open_page(request, Action.SUBMIT_OWN_WEEK)
        stint = stint_of(request)
        p = page.principal
        week_id = parse_week_id(week)
        await change_week(
            stint.uow,
            stint.clock,
            tenant=p.tenant,
            actor=p.user,
            owner_id=p.user.id,
            week=week_id,
            action="submit",
            mailer=stint.mailer, language=i18n.texts_for,
            base_url=stint.settings.base_url,
        )
        if request.headers.get("hx-target") == "month":
            return await self._month(request, page, week_id.monday.year, week_id.monday.month)
        return await self._time_page(request, page, week_id, "time/_week.html")

    async def _month(self, request: Request[Any, Any, Any], page: Page, year: int, month: int) -> Template:
        stint = stint_of(request)
        p = page.principal
        view = await month_view(stint.uow, tenant=p.tenant, user_id=p.user.id, year=year, month=month)
        first = date(year, month, 1)
        prev_month = (first - timedelta(days=1)).strftime("%Y-%m")
        next_month = (first + timedelta(days=32)).strftime("%Y-%m")
        context = page.context(
            month=view,
            month_id=first.strftime("%Y-%m"),
            month_name=i18n.month_title(first, i18n.current().locale),
            prev_month=prev_month,
            next_month=next_month,
            today=stint.clock.now().astimezone(zone(view.time_zone)).date(),
        )
        return render(request, "time/month.html", "time/_month.html", context)

    @get("/month")
    async def month(
        self,
        request: Request[Any, Any, Any],
        month: Annotated[str | None, QueryParameter(max_length=7)] = None,
    ) -> Template:
        page = await open_page(request, Action.VIEW_OWN_TIMESHEET)
        if month:
            match = _MONTH.fullmatch(month)
            if match is None or not 1 <= int(match[2]) <= 12:
                raise ValidationFailed(f"{month!r} is not a month; use YYYY-MM", field="month")
            year, number = int(match[1]), int(match[2])
        else:
            today = stint_of(request).clock.now().date()
            year, number = today.year, today.month
        return await self._month(request, page, year, number)
