"""``/api/v1/timesheet`` (week grid, monthly calendar), ``/api/v1/weeks`` (approval) and
``/api/v1/settings/tracking`` (the tenant's tracking rules and lock date)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from core.clock import today_in
from core.errors import UserNotFound, ValidationFailed
from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.access import ensure_access
from core.services.planning import work_item_titles
from core.services.timesheets import (
    WeekAction,
    change_week,
    month_view,
    save_rules,
    tracking_rules,
    week_view,
)
from core.tracking import LockPolicy, TrackingRules, check_day, parse_week_id, week_of
from core.tracking.approval import MAX_NOTE_LENGTH
from plugins.i18n import texts_for

from ..access import requires
from ..auth import TenantRequest
from ..deps import StintDep
from ..schemas import Strict
from .worklog_access import ensure_may_see

__all__ = ["TimesheetController", "TrackingRulesController", "WeeksController"]

_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)


class RowOut(msgspec.Struct):
    work_item: str | None
    days_s: list[int]
    total_s: int
    #: The work item's title, shown next to its id (None: no item).
    work_item_title: str | None = None


class WeekOut(msgspec.Struct):
    kind: Literal["week"]
    week: str
    user_id: str
    time_zone: str
    status: str
    locked: bool
    days: list[date]
    rows: list[RowOut]
    day_totals_s: list[int]
    total_s: int
    #: Why the week was rejected, for its owner (rejected weeks only).
    note: str | None = None


class DayOut(msgspec.Struct):
    day: date
    in_month: bool
    total_s: int


class CalendarWeekOut(msgspec.Struct):
    week: str
    status: str
    days: list[DayOut]
    total_s: int


class MonthOut(msgspec.Struct):
    kind: Literal["month"]
    month: str
    user_id: str
    time_zone: str
    weeks: list[CalendarWeekOut]
    total_s: int


class WeekStatusOut(msgspec.Struct):
    week: str
    user_id: str
    status: str
    #: Why it was rejected (rejected weeks only).
    note: str | None = None


class WeekActionIn(Strict):
    user_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class RejectIn(Strict):
    #: Required: the owner must learn what to fix (blank → 422).
    note: Annotated[str, msgspec.Meta(max_length=MAX_NOTE_LENGTH)] | None = None
    user_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class RulesIO(Strict):
    tracking_without_work_item: bool = True
    activity_check_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 60
    answer_window_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 10
    max_track_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 720
    locked_until: date | None = None


def _month(text: str) -> tuple[int, int]:
    match = _MONTH.fullmatch(text.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise ValidationFailed(f"{text!r} is not a month; use YYYY-MM", field="month")
    return int(match[1]), int(match[2])


class TimesheetController(Controller):
    path = "/timesheet"
    tags = ("timesheet",)

    @get("/", summary="The week grid (?week=YYYY-Www) or the monthly calendar (?month=YYYY-MM)",
         guards=[requires(Action.VIEW_OWN_TIMESHEET, Scope.WORKLOGS_READ)])
    async def show(
        self, request: TenantRequest, stint: StintDep,
        week: Annotated[str | None, QueryParameter(max_length=10)] = None,
        month: Annotated[str | None, QueryParameter(max_length=10)] = None,
        user: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> WeekOut | MonthOut:
        principal = request.user
        user_id = user or principal.user.id
        await ensure_may_see(request, stint, user_id)
        if user_id != principal.user.id:
            async with stint.uow() as work:
                if await work.tenant(principal.tenant.id).users().get(user_id) is None:
                    # An empty grid would say "this person tracked nothing", not "no such person".
                    raise UserNotFound("there is no such user in this tenant", field="user")
        if month is not None and week is None:
            year, number = _month(month)
            view = await month_view(
                stint.uow, tenant=principal.tenant, user_id=user_id, year=year, month=number
            )
            weeks = [
                CalendarWeekOut(
                    week=str(line.week),
                    status=view.statuses[str(line.week)].value,
                    days=[DayOut(d.day, d.in_month, d.total_s) for d in line.days],
                    total_s=line.total_s,
                )
                for line in view.calendar.weeks
            ]
            return MonthOut("month", f"{year:04d}-{number:02d}", user_id, view.time_zone, weeks,
                            view.calendar.total_s)
        week_id = week_of(stint.clock.now().date()) if week is None else parse_week_id(week)
        shown = await week_view(stint.uow, tenant=principal.tenant, user_id=user_id, week=week_id,
                                today=today_in(stint.clock))
        grid = shown.grid
        titles = await work_item_titles(stint.uow, tenant=principal.tenant,
                                        names=[r.work_item for r in grid.rows])
        return WeekOut(
            kind="week", week=str(grid.week), user_id=user_id, time_zone=shown.time_zone,
            status=shown.status.value, locked=shown.locked, days=list(grid.days),
            rows=[RowOut(r.work_item, list(r.days_s), r.total_s, titles.get(r.work_item or ""))
                  for r in grid.rows],
            day_totals_s=list(grid.day_totals_s), total_s=grid.total_s, note=shown.note,
        )


class WeeksController(Controller):
    """A week's steps. Deciding (approve, reject, close, reopen) needs only the role and seat
    here: whether *this* caller may decide *this* owner's week is the approval rule's
    (``core.tracking.may_decide``: a global approval manager, or one of the owner's approvers)."""

    path = "/weeks"
    tags = ("timesheet",)

    async def _change(
        self, request: TenantRequest, stint: Any, week: str, user_id: str | None, action: WeekAction,
        note: str | None = None,
    ) -> WeekStatusOut:
        principal = request.user
        owner = user_id or principal.user.id
        week_id = parse_week_id(week)
        new = await change_week(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, owner_id=owner,
            week=week_id, action=action, note=note, mailer=stint.mailer, language=texts_for,
            base_url=stint.settings.base_url,
        )
        return WeekStatusOut(week=str(week_id), user_id=owner, status=new.status.value, note=new.note)

    @post("/{week:str}/submit", summary="Submit your week for approval", status_code=200,
          guards=[requires(Action.SUBMIT_OWN_WEEK, Scope.WORKLOGS_WRITE)])
    async def submit(
        self, request: TenantRequest, week: FromPath[str], stint: StintDep,
        data: JSONBody[WeekActionIn | None] = None,
    ) -> WeekStatusOut:
        return await self._change(request, stint, week, data.user_id if data else None, "submit")

    @delete("/{week:str}/submission", summary="Revoke your submission while it is undecided",
            status_code=200, guards=[requires(Action.SUBMIT_OWN_WEEK, Scope.WORKLOGS_WRITE)])
    async def revoke(self, request: TenantRequest, week: FromPath[str], stint: StintDep) -> WeekStatusOut:
        return await self._change(request, stint, week, None, "revoke")

    @post("/{week:str}/approve", summary="Approve a submitted week (locks it)", status_code=200,
          guards=[requires(Action.VIEW_OWN_TIMESHEET, Scope.ADMIN)])
    async def approve(
        self, request: TenantRequest, week: FromPath[str], data: JSONBody[WeekActionIn], stint: StintDep
    ) -> WeekStatusOut:
        return await self._change(request, stint, week, data.user_id, "approve")

    @post("/{week:str}/reject", summary="Reject a week with a note for its owner", status_code=200,
          guards=[requires(Action.VIEW_OWN_TIMESHEET, Scope.ADMIN)])
    async def reject(
        self, request: TenantRequest, week: FromPath[str], data: JSONBody[RejectIn], stint: StintDep
    ) -> WeekStatusOut:
        return await self._change(request, stint, week, data.user_id, "reject", note=data.note)

    @post("/{week:str}/close", summary="Close a week (locks it)", status_code=200,
          guards=[requires(Action.VIEW_OWN_TIMESHEET, Scope.ADMIN)])
    async def close(
        self, request: TenantRequest, week: FromPath[str], data: JSONBody[WeekActionIn], stint: StintDep
    ) -> WeekStatusOut:
        return await self._change(request, stint, week, data.user_id, "close")

    @post("/{week:str}/reopen", summary="Reopen an approved or closed week", status_code=200,
          guards=[requires(Action.VIEW_OWN_TIMESHEET, Scope.ADMIN)])
    async def reopen(
        self, request: TenantRequest, week: FromPath[str], data: JSONBody[WeekActionIn], stint: StintDep
    ) -> WeekStatusOut:
        return await self._change(request, stint, week, data.user_id, "reopen")


class TrackingRulesController(Controller):
    path = "/settings/tracking"
    tags = ("settings",)

    @get("/", summary="The tenant's tracking rules", guards=[requires(Action.TRACK_TIME, Scope.TRACKING)])
    async def show(self, request: TenantRequest, stint: StintDep) -> RulesIO:
        settings = await tracking_rules(stint.uow, tenant=request.user.tenant)
        rules, lock = settings.rules, settings.lock
        return _rules_out(rules, lock)

    @put("/", summary="Change the tracking rules and the lock date",
         guards=[requires(Action.MANAGE_RULES, Scope.ADMIN)])
    async def change(self, request: TenantRequest, data: JSONBody[RulesIO], stint: StintDep) -> RulesIO:
        principal = request.user
        if data.locked_until is not None:
            check_day(data.locked_until, "locked_until")
        lock = (await tracking_rules(stint.uow, tenant=principal.tenant)).lock
        if data.locked_until != lock.locked_until:
            await ensure_access(
                stint.uow, stint.clock, tenant=principal.tenant, user=principal.user,
                action=Action.LOCK_WEEKS, grace_days=stint.settings.grace_days,
                clock_tolerance=stint.settings.clock_tolerance, cache=principal.cache or stint.access_cache,
            )
        new_rules = TrackingRules(
            tracking_without_work_item=data.tracking_without_work_item,
            activity_check_every=timedelta(minutes=data.activity_check_minutes),
            answer_window=timedelta(minutes=data.answer_window_minutes),
            max_track_length=timedelta(minutes=data.max_track_minutes),
        )
        # Only the administrator's lock date is this route's; the approval settings stay.
        new_lock = replace(lock, locked_until=data.locked_until)
        await save_rules(stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user,
                         rules=new_rules, lock=new_lock)
        return _rules_out(new_rules, new_lock)


def _rules_out(rules: TrackingRules, lock: LockPolicy) -> RulesIO:
    return RulesIO(
        tracking_without_work_item=rules.tracking_without_work_item,
        activity_check_minutes=int(rules.activity_check_every.total_seconds() // 60),
        answer_window_minutes=int(rules.answer_window.total_seconds() // 60),
        max_track_minutes=int(rules.max_track_length.total_seconds() // 60),
        locked_until=lock.locked_until,
    )
