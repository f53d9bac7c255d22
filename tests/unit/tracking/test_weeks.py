"""ISO week ids and the day a moment falls on."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationFailed
from core.tracking import DATE_RANGE, FIRST_DAY, LAST_DAY, WeekId, local_day, parse_week_id, week_of
from tests.unit.tracking.factories import utc


def test_a_week_id_parses_and_formats_back() -> None:
    """"2026-W03" is week 3 of ISO year 2026, Monday 12 January to Sunday 18 January."""
    week = parse_week_id("2026-W03")
    assert week == WeekId(2026, 3)
    assert str(week) == "2026-W03"
    assert week.monday == date(2026, 1, 12)
    assert week.days[-1] == date(2026, 1, 18)
    assert len(week.days) == 7


@pytest.mark.parametrize(
    "text", ["", "2026-03", "2026W03", "2026-w03", "2026-W3", "26-W03", "2026-W03x", "2027-W53",
             "2026-W00", "2026-W54", "0000-W01", "２０２６-W03"],
)
def test_anything_but_a_real_week_id_is_refused_with_a_clear_error(text: str) -> None:
    """Bad format or a week the year does not have: ValidationFailed on ``week``."""
    with pytest.raises(ValidationFailed) as caught:
        parse_week_id(text)
    assert caught.value.field == "week"
    assert "week" in caught.value.detail


def test_a_year_with_53_weeks_has_a_week_53() -> None:
    """2026 starts on a Thursday, so it has 53 ISO weeks; 1 January 2027 is in its last."""
    assert parse_week_id("2026-W53") == week_of(date(2027, 1, 1))


def test_weeks_start_on_monday() -> None:
    """Sunday belongs to the week that started the Monday before."""
    assert week_of(date(2026, 1, 18)) == WeekId(2026, 3)
    assert week_of(date(2026, 1, 19)) == WeekId(2026, 4)


def test_the_day_of_a_moment_depends_on_the_time_zone() -> None:
    """23:30 UTC on Sunday is already Monday in Berlin."""
    moment = utc(2026, 1, 18, 23, 30)
    assert local_day(moment, "UTC") == date(2026, 1, 18)
    assert local_day(moment, "Europe/Berlin") == date(2026, 1, 19)
    assert week_of(local_day(moment, "Europe/Berlin")) == WeekId(2026, 4)


def test_an_unknown_time_zone_is_bad_input() -> None:
    """Not a crash: a ValidationFailed naming time_zone."""
    with pytest.raises(ValidationFailed) as caught:
        local_day(utc(2026, 1, 1), "Mars/Olympus")
    assert caught.value.field == "time_zone"


def test_week_of_refuses_a_datetime() -> None:
    """A moment must be turned into a day in a zone first."""
    with pytest.raises(TypeError):
        week_of(datetime(2026, 1, 1))


@given(st.dates(min_value=FIRST_DAY, max_value=LAST_DAY))
def test_every_day_lies_in_the_week_whose_id_round_trips(day: date) -> None:
    """week_of, str and parse_week_id agree for any day Stint accepts."""
    week = week_of(day)
    assert parse_week_id(str(week)) == week
    assert day in week.days


@pytest.mark.parametrize("text", ["0001-W01", "1969-W51", "1969-W52", "3000-W02", "9999-W52"])
def test_refuses_weeks_with_no_day_between_1970_and_2999_naming_the_range(text: str) -> None:
    """Weeks wholly outside the accepted dates are bad input (and 9999-W52 never overflows)."""
    with pytest.raises(ValidationFailed) as caught:
        parse_week_id(text)
    assert caught.value.field == "week"
    assert DATE_RANGE in caught.value.detail
    assert DATE_RANGE == "dates must lie between 1970-01-01 and 2999-12-31"


def test_the_weeks_holding_the_first_and_last_accepted_days_are_accepted() -> None:
    """1970-W01 begins on 1969-12-29 and holds 1 January 1970; the last day's week is accepted too."""
    assert parse_week_id("1970-W01").monday == date(1969, 12, 29)
    last = week_of(LAST_DAY)
    assert parse_week_id(str(last)) == last
