"""``/time``: the Time tab — the running timer (live: the status polls every 2 s), the
activity-check prompt, the weekly timesheet (the keyboard grid, ``POST /time/cells``, and the
worklog list with inline add and edit), the monthly calendar, and submitting a week. Every
action calls the tracking use cases the API calls (``core.services.tracking``, ``worklogs``,
``timesheets``, ``timesheet_grid``). This module is the controller; what it shows and reads
is in ``time_timer.py`` (the timer fragment), ``time_week.py`` (the week and its grid),
``time_month.py`` (the calendar) and ``time_forms.py`` (the forms)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from core.errors import AccessDenied, StintError, ValidationFailed, WeekLocked
from core.licensing.access import Action
from core.services.activity_types import list_activity_types
from core.services.planning import list_work_items
from core.services.timesheet_grid import write_cell
from core.services.timesheets import change_week
from core.services.tracking import answer_activity_check, start_tracking, stop_tracking
from core.services.worklogs import NewWorklog, add_worklog, delete_worklog, edit_worklog
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
from core.tracking.cells import parse_duration
from core.work_items.ports import WorkItemFilter
from plugins import i18n

from ..problems import status_of
from .render import Page, is_htmx, open_page, render, stint_of, zone_of
from .time_forms import CellBody, CheckBody, StartBody, WorklogBody, clean, local_start
from .time_month import MONTH, month_page
from .time_timer import timer_context
from .time_week import SheetState, week_context, week_id_of

__all__ = ["TimeController", "parse_duration"]


WeekQuery = Annotated[str | None, QueryParameter(max_length=10)]


class TimeController(Controller):
    path = "/time"
    include_in_schema = False

    async def _time_page(
        self, request: Request[Any, Any, Any], page: Page, week: WeekId, partial: str | None,
        *, sheet: SheetState | None = None, status_code: int = 200, **extra: Any,
    ) -> Template:
        context = await timer_context(request, page, **extra)
        context.update(await week_context(request, page, week, sheet))
        # The selects of the timer and worklog forms offer the catalogue's active entries (read
        # here, not in the timer's context: the timer fragment polls every two seconds).
        context["activity_types"] = await list_activity_types(
            stint_of(request).uow, tenant=page.principal.tenant
        )
        return render(request, "time/index.html", partial, context, status_code=status_code)

    @get("/", name="time")
    async def index(self, request: Request[Any, Any, Any], week: WeekQuery = None) -> Template:
        page = await open_page(request, Action.USE_TIME_TAB)
        return await self._time_page(request, page, week_id_of(request, week), None)

    @get("/timer")
    async def timer(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.TRACK_TIME)
        if not is_htmx(request):
            # A plain link or a new tab: the whole Time tab, not a fragment it cannot render.
            return await self._time_page(request, page, week_id_of(request, None), None)
        return render(request, "time/index.html", "time/_timer.html", await timer_context(request, page))

    @post("/start", status_code=200)
    async def start(self, request: Request[Any, Any, Any], data: StartBody) -> Template:
        page = await open_page(request, Action.TRACK_TIME)
        stint = stint_of(request)
        await start_tracking(
            stint.uow,
            stint.clock,
            tenant=page.principal.tenant,
            user=page.principal.user,
            work_item=clean(data.work_item),
            comment=clean(data.comment),
            activity_type_id=clean(data.activity_type_id),
        )
        return await self._time_page(request, page, week_id_of(request, None), "time/_timer.html")

    @post("/stop", status_code=200)
    async def stop(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.TRACK_TIME)
        stint = stint_of(request)
        await stop_tracking(stint.uow, stint.clock, tenant=page.principal.tenant, user=page.principal.user)
        # The new worklog shows up in this week's grid at once (out-of-band swap).
        return await self._time_page(
            request, page, week_id_of(request, None), "time/_timer_and_week.html", week_oob=True
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
        return await self._time_page(request, page, week_id_of(request, None), "time/_timer.html")

    @get("/week")
    async def week(self, request: Request[Any, Any, Any], week: WeekQuery = None) -> Template:
        page = await open_page(request, Action.VIEW_OWN_TIMESHEET)
        return await self._time_page(request, page, week_id_of(request, week), "time/_week.html")

    @post("/worklogs", status_code=200)
    async def add(self, request: Request[Any, Any, Any], data: WorklogBody) -> Template:
        page = await open_page(request, Action.EDIT_OWN_WORKLOGS)
        stint = stint_of(request)
        p = page.principal
        tz = await zone_of(request, page)
        await add_worklog(
            stint.uow,
            stint.clock,
            tenant=p.tenant,
            actor=p.user,
            owner_id=p.user.id,
            new=NewWorklog(
                started_at=local_start(data.day, data.start, tz),
                length_s=parse_duration(data.hours),
                work_item=clean(data.work_item),
                comment=clean(data.comment),
                remaining_h=remaining_hours(data.remaining_h.strip()) if data.remaining_h.strip() else None,
                activity_type_id=clean(data.activity_type_id or ""),
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
        tz = await zone_of(request, page)
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
        tz = await zone_of(request, page)
        await edit_worklog(
            stint.uow,
            stint.clock,
            tenant=p.tenant,
            actor=p.user,
            worklog_id=worklog_id,
            changes=WorklogChanges(
                started_at=local_start(data.day, data.start, tz),
                length_s=parse_duration(data.hours),
                work_item=clean(data.work_item),
                comment=clean(data.comment),
                activity_type=KEEP,
                activity_type_id=KEEP if data.activity_type_id is None else clean(data.activity_type_id),
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
        return await self._time_page(request, page, week_id_of(request, week), "time/_week.html")

    @post("/cells", status_code=200)
    async def cell(self, request: Request[Any, Any, Any], data: CellBody) -> Template:
        """Write one cell of the keyboard grid: its day's total for its work item."""
        page = await open_page(request, Action.EDIT_OWN_WORKLOGS)
        stint = stint_of(request)
        p = page.principal
        # A day outside the calendar has no week to draw: refused before anything (a flash).
        check_day(data.day, "day")
        work_item = clean(data.work_item)
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
            return await self._time_page(request, page, week_id_of(request, week), None)
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
            return await month_page(request, page, week_id.monday.year, week_id.monday.month)
        return await self._time_page(request, page, week_id, "time/_week.html")

    @get("/month")
    async def month(
        self,
        request: Request[Any, Any, Any],
        month: Annotated[str | None, QueryParameter(max_length=7)] = None,
    ) -> Template:
        page = await open_page(request, Action.VIEW_OWN_TIMESHEET)
        if month:
            match = MONTH.fullmatch(month)
            if match is None or not 1 <= int(match[2]) <= 12:
                raise ValidationFailed(f"{month!r} is not a month; use YYYY-MM", field="month")
            year, number = int(match[1]), int(match[2])
        else:
            today = stint_of(request).clock.now().date()
            year, number = today.year, today.month
        return await month_page(request, page, year, number)
