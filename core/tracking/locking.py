"""Locked weeks: nothing adds, changes or deletes a worklog inside one.

A day is locked when its week is approved or closed, or when it lies on or
before the administrator's ``locked_until`` date. ``locked_until`` is a day, not
a week, so that what is locked is exactly what the administrator picked; to lock
whole weeks, pick a Sunday. The days are calendar days in the worklog owner's
time zone (see :func:`core.tracking.weeks.local_day`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.errors import WeekLocked
from core.tracking.approval import LOCKED_STATUSES, WeekStatus
from core.tracking.weeks import week_of

__all__ = ["LockPolicy", "ensure_edit_unlocked", "ensure_unlocked", "is_locked"]


@dataclass(frozen=True, slots=True)
class LockPolicy:
    """The tenant's lock set by an administrator: every day up to ``locked_until`` inclusive."""

    locked_until: date | None = None


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
        detail = f"worklogs up to {lock_policy.locked_until} are locked by an administrator"
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
