"""Timesheets, approval and locking (SPEC §8): the week grid and the monthly calendar
in the user's zone (Monday first), week statuses, and the tenant's tracking rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from core.clock import Clock
from core.errors import NotFound
from core.tenancy import Tenant, User
from core.tracking import (
    LOCKED_STATUSES,
    LockPolicy,
    MonthCalendar,
    TrackingRules,
    WeekGrid,
    WeekId,
    WeekStatus,
    approve_week,
    close_week,
    month_calendar,
    reject_week,
    submit_week,
    week_grid,
    zone,
)
from core.tracking.ports import TrackingSettings, UserWeek
from core.unit_of_work import UnitOfWorkFactory

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

WeekAction = Literal["submit", "approve", "reject", "close"]


@dataclass(frozen=True, slots=True)
class WeekView:
    grid: WeekGrid
    status: WeekStatus
    locked: bool
    time_zone: str


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


async def week_view(uow: UnitOfWorkFactory, *, tenant: Tenant, user_id: str, week: WeekId) -> WeekView:
    """The week grid in the user's zone, from one query (the hot path of the Time tab)."""
    first = week.monday
    start = datetime.combine(first, time(), tzinfo=UTC) - _ANY_ZONE
    async with uow() as work:
        data = await work.tenant(tenant.id).tracking().week_sheet(
            user_id, str(week), start, start + timedelta(days=7) + 2 * _ANY_ZONE
        )
    time_zone = data.time_zone or tenant.time_zone
    locked = data.status in LOCKED_STATUSES or (
        data.locked_until is not None and first <= data.locked_until
    )
    return WeekView(week_grid(data.worklogs, week, time_zone), data.status, locked, time_zone)


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


async def change_week(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, owner_id: str,
    week: WeekId, action: WeekAction,
) -> WeekStatus:
    """Submit (the owner), or approve / reject (reopen) / close (an approval manager)."""
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        if await scope.users().get(owner_id) is None:
            raise NotFound("there is no such user", field="user_id")
        repo = scope.tracking()
        await repo.lock_user(owner_id)
        status = await repo.week_status(owner_id, str(week))
        manager = actor.approval_manager
        if action == "submit":
            new = submit_week(status, actor_id=actor.id, owner_id=owner_id)
        elif action == "approve":
            new = approve_week(status, actor_is_approval_manager=manager)
        elif action == "reject":
            new = reject_week(status, actor_is_approval_manager=manager)
        else:
            new = close_week(status, actor_is_approval_manager=manager)
        now = clock.now()
        await repo.save_week_status(owner_id, str(week), new, actor.id, now)
        await scope.audit().record(f"user:{actor.id}", f"week.{action}", f"{owner_id}/{week}", {}, now)
        await work.commit()
    return new


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
