"""Locked weeks: nothing adds, changes or deletes a worklog inside one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import WeekLocked
from core.tracking import (
    LockPolicy,
    WeekStatus,
    ensure_edit_unlocked,
    ensure_unlocked,
    first_open_instant,
    is_locked,
    local_day,
    week_of,
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


# A running timer's days can lock under it: its worklog starts where the locked days end.

ZONES = ("UTC", "Europe/Berlin", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago",
         "Australia/Lord_Howe", "Asia/Kathmandu")


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31),
                       timezones=st.just(UTC)),
    length_s=st.integers(min_value=1, max_value=3 * 24 * 3600),
    time_zone=st.sampled_from(ZONES),
    lock_days=st.integers(min_value=-3, max_value=4),
    approved=st.booleans(),
)
def test_the_first_open_instant_is_the_start_or_the_local_midnight_after_the_last_locked_day(
    start: datetime, length_s: int, time_zone: str, lock_days: int, approved: bool
) -> None:
    end = start + timedelta(seconds=length_s)
    first_day = local_day(start, time_zone)
    lock = LockPolicy(first_day + timedelta(days=lock_days))
    # Optionally the week after the date lock is approved too, so the locked stretch runs on.
    statuses = {str(week_of(lock.locked_until + timedelta(days=1))): S.APPROVED} if approved else {}  # type: ignore[operator]

    def locked(day: date) -> bool:
        return is_locked(day, statuses.get(str(week_of(day)), S.OPEN), lock)

    opens = first_open_instant(start, end, time_zone, statuses, lock)
    # Every instant before the answer lies on a locked day (checked each hour and at the edges).
    upto = end if opens is None else opens
    probe = start
    while probe < upto:
        assert locked(local_day(probe, time_zone))
        probe += timedelta(hours=1)
    if opens is None:
        assert locked(local_day(end - timedelta(microseconds=1), time_zone))
        return
    assert start <= opens < end
    assert not locked(local_day(opens, time_zone))
    local = opens.astimezone(ZoneInfo(time_zone))
    assert opens == start or (local.hour, local.minute, local.second) == (0, 0, 0)


def test_a_timer_on_no_locked_day_keeps_its_start_and_one_wholly_locked_has_no_open_instant() -> None:
    start = utc(2026, 1, 14, 9)
    end = start + timedelta(hours=2)
    assert first_open_instant(start, end, "UTC", {}, NO_LOCK) == start
    assert first_open_instant(start, end, "UTC", {"2026-W03": S.APPROVED}, NO_LOCK) is None
    assert first_open_instant(start, end, "UTC", {}, LockPolicy(WEDNESDAY)) is None
