"""``/time``: the Time tab — the running timer (live: the status polls every 2 s), the
activity-check prompt, the weekly timesheet with inline add and edit, the monthly
calendar, and submitting a week. Every action calls the tracking use cases the API
calls (``core.services.tracking``, ``worklogs``, ``timesheets``)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Template

from core.clock import today_in
from core.errors import ValidationFailed
from core.licensing.access import Action
from core.services.activity_types import list_activity_types
from core.services.planning import work_item_titles
from core.services.timesheets import change_week, month_view, week_view
from core.services.tracking import answer_activity_check, current_timer, start_tracking, stop_tracking
from core.services.tracking_common import user_zone
from core.services.work_item_automation import work_item_automation
from core.services.worklogs import NewWorklog, add_worklog, delete_worklog, edit_worklog, list_worklogs
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

from .render import Page, is_htmx, open_page, render, stint_of

__all__ = ["TimeController", "parse_duration"]

_HM = re.compile(r"(\d{1,2}):([0-5]\d)", re.ASCII)
_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)


def parse_duration(text: str, *, field: str = "hours") -> int:
    """Seconds from "1:30" or "1.5" (hours) — what people type into a timesheet."""
    value = text.strip().replace(",", ".")
    match = _HM.fullmatch(value)
    if match:
        seconds = int(match[1]) * 3600 + int(match[2]) * 60
    else:
        try:
            seconds = round(float(value) * 3600)
        except ValueError:
            raise ValidationFailed(f"{text!r} is not a duration; type 1:30 or 1.5", field=field) from None
    if not 0 < seconds <= 24 * 3600:
        raise ValidationFailed("a worklog lasts more than 0 and at most 24 hours", field=field)
    return seconds


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


_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)
StartBody = Annotated[StartForm, _URL_ENCODED]
CheckBody = Annotated[CheckForm, _URL_ENCODED]
WorklogBody = Annotated[WorklogForm, _URL_ENCODED]


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


async def _week_context(request: Request[Any, Any, Any], page: Page, week: WeekId) -> dict[str, Any]:
    stint = stint_of(request)
    p = page.principal
    view = await week_view(stint.uow, tenant=p.tenant, user_id=p.user.id, week=week,
                           today=today_in(stint.clock))
    start, end = _bounds(week, view.time_zone)
    worklogs = await list_worklogs(stint.uow, tenant=p.tenant, user_id=p.user.id, start=start, end=end)
    tz = zone(view.time_zone)
    automation = await work_item_automation(stint.uow, tenant=p.tenant)
    names = [w.work_item for w in worklogs] + [r.work_item for r in view.grid.rows]
    return {
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
        self, request: Request[Any, Any, Any], page: Page, week: WeekId, partial: str | None, **extra: Any
    ) -> Template:
        context = await _timer_context(request, page, **extra)
        context.update(await _week_context(request, page, week))
        # The selects of the timer and worklog forms offer the catalogue's active entries (read
        # here, not in the timer's context: the timer fragment polls every two seconds).
        context["activity_types"] = await list_activity_types(
            stint_of(request).uow, tenant=page.principal.tenant
        )
        return render(request, "time/index.html", partial, context)

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
            mailer=stint.mailer,
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
            month_name=first.strftime("%B %Y"),
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
