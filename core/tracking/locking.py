"""Locked weeks: nothing adds, changes or deletes a worklog inside one.

A day is locked when its week is approved or closed, or when it lies on or
before the administrator's ``locked_until`` date. The tenant's approval settings lock
whole weeks by the calendar too: the weeks that end before the approval start date are
closed, and with "lock N days after the week ends" a week locks once N days have passed
since its Sunday. Those are rules of the date, applied on every read
(:meth:`LockPolicy.as_of`), so a lock never waits for a job to have run; the job only
writes the ``closed`` status down for the queue and the reports. ``locked_until`` is a day, not
a week, so that what is locked is exactly what the administrator picked; to lock
whole weeks, pick a Sunday. The days are calendar days in the worklog owner's
time zone (see :func:`core.tracking.weeks.local_day`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from core.errors import WeekLocked
from core.tracking.approval import LOCKED_STATUSES, WeekStatus
from core.tracking.weeks import local_day, week_of, zone

__all__ = [
    "LockPolicy",
    "ensure_edit_unlocked",
    "ensure_unlocked",
    "first_open_instant",
    "is_locked",
    "sunday_before",
]


def sunday_before(day: date) -> date:
    """The last Sunday strictly before ``day`` (weeks run Monday to Sunday)."""
    return day - timedelta(days=day.weekday() + 1)


@dataclass(frozen=True, slots=True)
class LockPolicy:
    """The tenant's lock: every day up to ``locked_until`` inclusive (set by an
    administrator), and the approval settings' weeks (see :meth:`as_of`)."""

    locked_until: date | None = None
    #: Weeks that end before this day are closed.
    approval_start: date | None = None
    #: Weeks lock this many days after they end (None: never by themselves).
    auto_lock_after_days: int | None = None

    def rule_locked_until(self, today: date) -> date | None:
        """The last day the approval settings lock on ``today`` (a Sunday), or None."""
        ends: list[date] = []
        if self.approval_start is not None:
            ends.append(sunday_before(self.approval_start))
        if self.auto_lock_after_days is not None:
            # A week ending on Sunday s locks once today > s + N: the last such s lies
            # strictly before today - N.
            ends.append(sunday_before(today - timedelta(days=self.auto_lock_after_days)))
        return max(ends, default=None)

    def as_of(self, today: date) -> LockPolicy:
        """This policy with the approval settings folded into ``locked_until`` for ``today``."""
        by_rule = self.rule_locked_until(today)
        if by_rule is None or (self.locked_until is not None and self.locked_until >= by_rule):
            return self
        return replace(self, locked_until=by_rule)


def is_locked(day: date, week_status: WeekStatus, lock_policy: LockPolicy) -> bool:
    """Whether worklogs on ``day`` (whose week has ``week_status``) are frozen."""
    if week_status in LOCKED_STATUSES:
        return True
    return lock_policy.locked_until is not None and day <= lock_policy.locked_until


def ensure_unlocked(day: date, week_status: WeekStatus, lock_policy: LockPolicy) -> None:
    """Raise WeekLocked when a worklog on ``day`` may not be added, changed or deleted."""
    if not is_locked(day, week_status, lock_policy):
        return
    week = str(week_of(day))
    if week_status in LOCKED_STATUSES:
        detail = f"the week {week} is {week_status}; its worklogs cannot be changed"
    else:
        detail = (
            f"worklogs up to {lock_policy.locked_until} are locked (by an administrator or the "
            "tenant's approval settings)"
        )
    raise WeekLocked(detail, week=week, day=day.isoformat())


def ensure_edit_unlocked(
    before_day: date,
    before_status: WeekStatus,
    after_day: date,
    after_status: WeekStatus,
    lock_policy: LockPolicy,
) -> None:
    """An edit touches two days: moving a worklog out of a locked week or into one is refused."""
    ensure_unlocked(before_day, before_status, lock_policy)
    ensure_unlocked(after_day, after_status, lock_policy)


def first_open_instant(
    start: datetime, end: datetime, time_zone: str, week_statuses: Mapping[str, WeekStatus],
    lock_policy: LockPolicy,
) -> datetime | None:
    """The first instant of ``[start, end)`` on a day that is not locked, or None when every
    day of it is.

    A timer can run while its week gets locked (approved, closed, or locked by a date or
    the approval settings as the calendar moves on). What it tracked inside the locked
    days cannot become a worklog there, so its worklog starts here instead. Locks cover
    whole days, and a locked stretch ends at a local midnight. A week missing from
    ``week_statuses`` is open.
    """
    tz = zone(time_zone)
    day = local_day(start, time_zone)
    while True:
        begins = datetime.combine(day, time(0), tz).astimezone(UTC)
        if begins >= end:
            return None
        status = week_statuses.get(str(week_of(day)), WeekStatus.OPEN)
        if not is_locked(day, status, lock_policy):
            return max(start, begins)
        day += timedelta(days=1)
