"""Timers on the server: one per user, activity checks, deferrals, max length."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import Conflict, ValidationFailed
from core.tracking import (
    DEFERRED_CHECK_TIME,
    StopReason,
    Timer,
    TrackingRules,
    WorklogFlag,
    ask_activity_check,
    confirm_activity,
    defer_activity_check,
    due_stop,
    start_timer,
    stop_by_user,
    stop_timer,
)
from tests.unit.tracking.factories import OWNER, utc

RULES = TrackingRules()
NINE = utc(2026, 1, 14, 9)  # a Wednesday


def a_timer(started_at: datetime = NINE, rules: TrackingRules = RULES) -> Timer:
    timer, _ = start_timer(OWNER, started_at, "123", None, rules, None)
    return timer


def test_starting_a_timer_schedules_the_first_activity_check_one_interval_later() -> None:
    """A new timer starts now, in whole seconds, and asks its first check 60 minutes on."""
    timer, stopped = start_timer(OWNER, NINE + timedelta(microseconds=500), "123", "x", RULES, None)
    assert stopped is None
    assert timer.started_at == NINE
    assert timer.next_activity_check_at == NINE + timedelta(minutes=60)
    assert timer.check_asked_at is None


def test_a_second_start_stops_the_running_timer_with_reason_concurrency() -> None:
    """Starting a new timer stops the running one at that moment, reason concurrency."""
    first = a_timer()
    later = NINE + timedelta(minutes=25)
    second, stopped = start_timer(OWNER, later, "456", None, RULES, first)
    assert stopped is not None
    assert stopped.stop_reason is StopReason.CONCURRENCY
    assert stopped.started_at == NINE
    assert stopped.length_s == 25 * 60
    assert stopped.work_item == "123"
    assert stopped.flags == {WorklogFlag.TRACKED}
    assert second.started_at == later and second.work_item == "456"


def test_a_second_start_after_an_unanswered_check_keeps_the_check_as_the_stop() -> None:
    """A timer already stopped by an unanswered check is not stopped again as concurrency."""
    first = a_timer()
    _, stopped = start_timer(OWNER, NINE + timedelta(hours=3), None, None, RULES, first)
    assert stopped is not None
    assert stopped.stop_reason is StopReason.ACTIVITY_CHECK
    assert stopped.length_s == 3600


def test_a_running_timer_of_another_user_is_a_programming_error() -> None:
    """The service must pass the same user's running timer."""
    with pytest.raises(ValueError):
        start_timer("someone-else", NINE, None, None, RULES, a_timer())


def test_without_tracking_without_work_item_a_work_item_or_comment_is_required() -> None:
    """With the rule off, neither a work item nor a comment (blank counts as none) is refused."""
    strict = TrackingRules(tracking_without_work_item=False)
    with pytest.raises(ValidationFailed) as caught:
        start_timer(OWNER, NINE, None, "   ", strict, None)
    assert caught.value.field == "work_item"
    assert start_timer(OWNER, NINE, "123", None, strict, None)[0].work_item == "123"
    assert start_timer(OWNER, NINE, None, "meeting", strict, None)[0].comment == "meeting"


def test_tracking_without_work_item_is_allowed_by_default() -> None:
    """The default rule lets a timer start with neither work item nor comment."""
    timer, _ = start_timer(OWNER, NINE, "", None, RULES, None)
    assert timer.work_item is None and timer.comment is None


def test_a_failed_start_does_not_stop_the_running_timer() -> None:
    """Validation happens before anything is stopped (the function raises, returns nothing)."""
    strict = TrackingRules(tracking_without_work_item=False)
    with pytest.raises(ValidationFailed):
        start_timer(OWNER, NINE, None, None, strict, a_timer(rules=strict))


def test_an_unanswered_check_stops_the_timer_at_the_check_time() -> None:
    """Without an answer within 10 minutes the timer stops at the check, not when noticed."""
    timer = a_timer()
    check = NINE + timedelta(minutes=60)
    assert due_stop(timer, check + timedelta(minutes=9, seconds=59), RULES) is None
    assert due_stop(timer, check + timedelta(minutes=10), RULES) == (
        check,
        StopReason.ACTIVITY_CHECK,
    )
    assert due_stop(timer, check + timedelta(hours=5), RULES) == (check, StopReason.ACTIVITY_CHECK)
    track = stop_timer(timer, check, StopReason.ACTIVITY_CHECK)
    assert track.length_s == 3600


def test_a_confirmed_check_does_not_stop_and_schedules_the_next_one() -> None:
    """Confirming moves the next check a full interval after the answer."""
    answered = NINE + timedelta(minutes=65)
    timer = confirm_activity(a_timer(), answered, RULES)
    assert timer.next_activity_check_at == answered + timedelta(minutes=60)
    assert due_stop(timer, NINE + timedelta(minutes=80), RULES) is None


def test_confirming_after_the_timer_was_stopped_by_a_rule_is_a_conflict() -> None:
    """Too late an answer cannot revive a timer stopped at its check."""
    with pytest.raises(Conflict):
        confirm_activity(a_timer(), NINE + timedelta(minutes=71), RULES)


@pytest.mark.parametrize("how", ["one_hour", "tomorrow", "next_monday"])
def test_a_deferred_check_does_not_stop_the_timer(how: str) -> None:
    """Each of the three deferrals keeps the timer running past the original window."""
    asked = NINE + timedelta(minutes=60)
    timer = defer_activity_check(a_timer(), asked + timedelta(minutes=2), how, "UTC", rules=RULES)  # type: ignore[arg-type]
    assert timer.check_asked_at is None
    assert due_stop(timer, asked + timedelta(minutes=30), RULES) is None


def test_deferring_by_one_hour_asks_again_an_hour_after_the_answer() -> None:
    """One hour means one hour from the moment the user deferred."""
    now = NINE + timedelta(minutes=61)
    timer = defer_activity_check(a_timer(), now, "one_hour", "UTC", rules=RULES)
    assert timer.next_activity_check_at == now + timedelta(hours=1)


def test_deferring_to_tomorrow_asks_at_nine_in_the_morning_in_the_users_zone() -> None:
    """Tomorrow is the next calendar day in the user's zone, at 09:00 local time."""
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 1, 14, 23, 30, tzinfo=berlin)  # 22:30 UTC, Wednesday in Berlin
    timer = defer_activity_check(a_timer(now), now + timedelta(minutes=61), "tomorrow",
                                 "Europe/Berlin", rules=RULES)
    expected = datetime(2026, 1, 16, 9, 0, tzinfo=berlin)  # it is Thursday 00:31 by then
    assert timer.next_activity_check_at == expected
    assert DEFERRED_CHECK_TIME.hour == 9


@pytest.mark.parametrize(
    ("today", "expected_monday"),
    [(14, 19), (18, 19), (19, 26)],  # Wednesday, Sunday, Monday of January 2026
)
def test_deferring_to_next_monday_asks_on_the_coming_monday(today: int, expected_monday: int) -> None:
    """Next Monday is the first Monday after today; on a Monday it is a week later."""
    now = utc(2026, 1, today, 10, 5)
    timer = defer_activity_check(a_timer(utc(2026, 1, today, 9)), now, "next_monday", "UTC",
                                 rules=RULES)
    assert timer.next_activity_check_at == utc(2026, 1, expected_monday, 9)


def test_deferring_by_an_unknown_amount_is_refused() -> None:
    """Only the three documented deferrals exist."""
    with pytest.raises(ValidationFailed):
        defer_activity_check(a_timer(), NINE, "next_year", "UTC", rules=RULES)  # type: ignore[arg-type]


def test_a_timer_longer_than_the_max_length_stops_at_twelve_hours() -> None:
    """Even with checks deferred, the timer stops at started_at + 12 hours."""
    timer = defer_activity_check(a_timer(), NINE + timedelta(minutes=5), "next_monday", "UTC",
                                 rules=RULES)
    assert due_stop(timer, NINE + timedelta(hours=11, minutes=59), RULES) is None
    at, reason = due_stop(timer, NINE + timedelta(hours=14), RULES) or (None, None)
    assert (at, reason) == (NINE + timedelta(hours=12), StopReason.MAX_LENGTH)
    assert stop_timer(timer, NINE + timedelta(hours=12), StopReason.MAX_LENGTH).length_s == 43200


def test_when_both_rules_apply_the_one_decided_first_wins() -> None:
    """A check due at 11:55 is decided at 12:05, after the 12-hour stop, so max length wins."""
    start = utc(2026, 1, 14, 0)
    timer = replace(a_timer(start), next_activity_check_at=start + timedelta(hours=11, minutes=55))
    assert due_stop(timer, start + timedelta(hours=13), RULES) == (
        start + timedelta(hours=12),
        StopReason.MAX_LENGTH,
    )
    early = replace(a_timer(start), next_activity_check_at=start + timedelta(hours=11))
    assert due_stop(early, start + timedelta(hours=13), RULES) == (
        start + timedelta(hours=11),
        StopReason.ACTIVITY_CHECK,
    )


@given(
    check_after=st.integers(min_value=1, max_value=24 * 60),
    first=st.integers(min_value=0, max_value=30 * 60),
    later=st.integers(min_value=0, max_value=30 * 60),
)
def test_once_a_stop_is_due_it_does_not_change_however_late_it_is_applied(
    check_after: int, first: int, later: int
) -> None:
    """The stop a rule decides is the same whenever the background job sees it."""
    timer = Timer(OWNER, NINE, None, None, NINE + timedelta(minutes=check_after))
    seen = due_stop(timer, NINE + timedelta(minutes=first), RULES)
    if seen is not None:
        assert due_stop(timer, NINE + timedelta(minutes=first + later), RULES) == seen


def test_a_user_stop_after_a_rule_stopped_the_timer_keeps_the_rules_stop() -> None:
    """Pressing stop late does not turn a max-length stop into a 20-hour worklog."""
    track = stop_by_user(a_timer(), NINE + timedelta(hours=20), RULES)
    assert track.stop_reason is StopReason.ACTIVITY_CHECK
    assert track.length_s == 3600
    ok = stop_by_user(a_timer(), NINE + timedelta(minutes=30), RULES)
    assert (ok.stop_reason, ok.length_s) == (StopReason.USER, 1800)


def test_stopping_before_the_start_gives_a_zero_length_track() -> None:
    """A clock that went backwards never yields a negative length."""
    track = stop_timer(a_timer(), NINE - timedelta(minutes=1), StopReason.SYSTEM)
    assert track.length_s == 0


def test_a_check_is_recorded_as_asked_once_at_its_due_time() -> None:
    """Asking marks the check at its due moment, and asking again changes nothing."""
    timer = a_timer()
    assert ask_activity_check(timer, NINE + timedelta(minutes=59)) is timer
    asked = ask_activity_check(timer, NINE + timedelta(minutes=63))
    assert asked.check_asked_at == NINE + timedelta(minutes=60)
    assert ask_activity_check(asked, NINE + timedelta(minutes=64)) is asked


def test_a_naive_now_is_refused() -> None:
    """A time without a zone has no known instant."""
    with pytest.raises(ValidationFailed):
        start_timer(OWNER, datetime(2026, 1, 1, 9), None, None, RULES, None)


@pytest.mark.parametrize(
    "rules",
    [
        {"activity_check_every": timedelta(0)},
        {"answer_window": timedelta(minutes=-1)},
        {"max_track_length": timedelta(hours=25)},
    ],
)
def test_tracking_rules_refuse_nonsense(rules: dict[str, timedelta]) -> None:
    """Intervals are positive and a track is at most a day long."""
    with pytest.raises(ValidationFailed):
        TrackingRules(**rules)  # type: ignore[arg-type]


def test_timers_are_in_utc_whatever_zone_now_was_given_in() -> None:
    """Start times are normalised to UTC."""
    timer, _ = start_timer(OWNER, datetime(2026, 1, 14, 10, tzinfo=ZoneInfo("Europe/Berlin")),
                           None, None, RULES, None)
    assert timer.started_at.tzinfo is UTC and timer.started_at == NINE
