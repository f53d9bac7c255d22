"""Timesheets, approval and locking (SPEC §8): the week grid and the monthly calendar
in the user's zone (Monday first), week statuses, and the tenant's tracking rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from core.clock import Clock
from core.tenancy import Tenant, User
from core.tracking import (
    LOCKED_STATUSES,
    LockPolicy,
    MonthCalendar,
    TrackingRules,
    WeekGrid,
    WeekId,
    WeekStatus,
    month_calendar,
    week_grid,
    zone,
)
from core.tracking.ports import TrackingSettings, UserWeek
from core.unit_of_work import UnitOfWorkFactory

from .approval_steps import WeekAction, change_week
from .tracking_common import user_zone

__all__ = [
    "MonthView",
    "WeekAction",
    "WeekView",
    "change_week",
    "month_view",
    "save_rules",
    "tracking_rules",
    "week_view",
]



@dataclass(frozen=True, slots=True)
class WeekView:
    grid: WeekGrid
    status: WeekStatus
    locked: bool
    time_zone: str
    #: Why the week was rejected (None unless it is).
    note: str | None = None


@dataclass(frozen=True, slots=True)
class MonthView:
    calendar: MonthCalendar
    statuses: dict[str, WeekStatus]
    time_zone: str


def _instant(day: date, time_zone: str) -> datetime:
    """Local midnight starting ``day`` as a UTC instant."""
    return datetime.combine(day, time(), tzinfo=zone(time_zone)).astimezone(UTC)


#: Every zone's offset lies within a day of UTC, so a week's worklogs in any zone start
#: inside the UTC week widened by a day each side; the grid keeps the local week's own.
_ANY_ZONE = timedelta(days=1)


async def week_view(
    uow: UnitOfWorkFactory, *, tenant: Tenant, user_id: str, week: WeekId, today: date | None = None
) -> WeekView:
    """The week grid in the user's zone, from one query (the hot path of the Time tab).

    ``today`` (None: no calendar locks) is when the approval settings' locks are judged."""
    first = week.monday
    start = datetime.combine(first, time(), tzinfo=UTC) - _ANY_ZONE
    async with uow() as work:
        data = await work.tenant(tenant.id).tracking().week_sheet(
            user_id, str(week), start, start + timedelta(days=7) + 2 * _ANY_ZONE
        )
    time_zone = data.time_zone or tenant.time_zone
    lock = data.lock if today is None else data.lock.as_of(today)
    locked = data.status in LOCKED_STATUSES or (
        lock.locked_until is not None and first <= lock.locked_until
    )
    by_rule = None if today is None else lock.rule_locked_until(today)
    status = data.status
    if by_rule is not None and week.monday + timedelta(days=6) <= by_rule and status not in LOCKED_STATUSES:
        # The approval settings closed it (the job writes that down later; it holds now).
        status = WeekStatus.CLOSED
    note = data.note if status is WeekStatus.REJECTED else None
    return WeekView(week_grid(data.worklogs, week, time_zone), status, locked, time_zone, note)


async def month_view(
    uow: UnitOfWorkFactory, *, tenant: Tenant, user_id: str, year: int, month: int
) -> MonthView:
    async with uow() as work:
        repo = work.tenant(tenant.id).tracking()
        time_zone = await user_zone(repo, tenant, user_id)
        empty = month_calendar([], year, month, time_zone)  # validates the month, gives the days
        first = empty.weeks[0].week.monday
        last = empty.weeks[-1].week.monday + timedelta(days=7)
        worklogs = await repo.worklogs(
            user_id=user_id, start=_instant(first, time_zone), end=_instant(last, time_zone)
        )
        known = await repo.week_statuses(user_id)
    calendar = month_calendar(worklogs, year, month, time_zone)
    statuses = {
        str(line.week): known.get(UserWeek(user_id, str(line.week)), WeekStatus.OPEN)
        for line in calendar.weeks
    }
    return MonthView(calendar, statuses, time_zone)


async def tracking_rules(uow: UnitOfWorkFactory, *, tenant: Tenant) -> TrackingSettings:
    async with uow() as work:
        return await work.tenant(tenant.id).tracking().rules()


async def save_rules(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User,
    rules: TrackingRules, lock: LockPolicy,
) -> None:
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        now = clock.now()
        await scope.tracking().save_rules(rules, lock, now)
        detail = {"locked_until": lock.locked_until.isoformat() if lock.locked_until else None}
        await scope.audit().record(f"user:{actor.id}", "tracking.rules_changed", tenant.slug, detail, now)
        await work.commit()
