"""Locked weeks: nothing adds, changes or deletes a worklog inside one."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import WeekLocked
from core.tracking import (
    LockPolicy,
    WeekStatus,
    ensure_edit_unlocked,
    ensure_unlocked,
    is_locked,
    local_day,
)
from tests.unit.tracking.factories import a_worklog, utc

S = WeekStatus
NO_LOCK = LockPolicy()
WEDNESDAY = date(2026, 1, 14)


@pytest.mark.parametrize(("status", "locked"), [
    (S.OPEN, False), (S.SUBMITTED, False), (S.REJECTED, False), (S.APPROVED, True), (S.CLOSED, True),
])
def test_approved_and_closed_weeks_are_locked(status: WeekStatus, locked: bool) -> None:
    """Only approval and closing lock a week; submitted weeks stay editable."""
    assert is_locked(WEDNESDAY, status, NO_LOCK) is locked


def test_an_administrator_locks_every_day_up_to_and_including_a_date() -> None:
    """The lock date itself is locked, the day after is not."""
    policy = LockPolicy(locked_until=WEDNESDAY)
    assert is_locked(date(2025, 6, 1), S.OPEN, policy)
    assert is_locked(WEDNESDAY, S.OPEN, policy)
    assert not is_locked(date(2026, 1, 15), S.OPEN, policy)


@pytest.mark.parametrize("change", ["add", "edit", "delete"])
@pytest.mark.parametrize(("status", "policy"), [
    (S.APPROVED, NO_LOCK), (S.CLOSED, NO_LOCK), (S.OPEN, LockPolicy(locked_until=WEDNESDAY)),
])
def test_a_locked_week_refuses_adding_editing_and_deleting(
    change: str, status: WeekStatus, policy: LockPolicy
) -> None:
    """Whatever the change, a worklog on a locked day raises WeekLocked (code week_locked)."""
    day = local_day(a_worklog(started_at=utc(2026, 1, 14, 9)).started_at, "UTC")
    with pytest.raises(WeekLocked) as caught:
        if change == "edit":
            ensure_edit_unlocked(day, status, day, status, policy)
        else:
            ensure_unlocked(day, status, policy)
    assert caught.value.code == "week_locked"
    assert caught.value.extra["week"] == "2026-W03"


def test_an_open_week_allows_every_change() -> None:
    """No lock, no error."""
    ensure_unlocked(WEDNESDAY, S.OPEN, NO_LOCK)
    ensure_edit_unlocked(WEDNESDAY, S.OPEN, date(2026, 1, 21), S.SUBMITTED, NO_LOCK)


def test_moving_a_worklog_into_a_locked_week_is_refused() -> None:
    """An edit from an open week onto an approved week's day is refused."""
    with pytest.raises(WeekLocked):
        ensure_edit_unlocked(date(2026, 1, 21), S.OPEN, WEDNESDAY, S.APPROVED, NO_LOCK)


def test_moving_a_worklog_out_of_a_locked_week_is_refused() -> None:
    """Taking a worklog out of a closed week changes that week too."""
    with pytest.raises(WeekLocked):
        ensure_edit_unlocked(WEDNESDAY, S.CLOSED, date(2026, 1, 21), S.OPEN, NO_LOCK)
    with pytest.raises(WeekLocked):
        ensure_edit_unlocked(WEDNESDAY, S.OPEN, date(2026, 1, 21), S.OPEN, LockPolicy(WEDNESDAY))
