"""Money in minor units, one rounding rule, and billing periods with month-end anchors."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import Money, format_minor, round_half_even
from core.periods import Interval, Period, add_months, first_period, period_after


def test_rounding_sends_exact_halves_to_the_even_cent() -> None:
    """Half a cent rounds to the even neighbour, both up and down."""
    assert round_half_even(Fraction(5, 2)) == 2
    assert round_half_even(Fraction(7, 2)) == 4
    assert round_half_even(Fraction(-5, 2)) == -2


def test_money_refuses_floats_and_mixed_currencies() -> None:
    """Money is integer minor units of one currency; anything else is a programming error."""
    with pytest.raises(TypeError):
        Money(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money(1, "USD") + Money(1, "EUR")


def test_amounts_are_shown_with_two_decimals_and_thousands() -> None:
    """544060 minor units read as 5,440.60."""
    assert format_minor(544060) == "5,440.60"
    assert format_minor(-536153) == "-5,361.53"
    assert str(Money(464153)) == "4,641.53 USD"


def test_a_period_anchored_on_the_31st_clamps_through_february_and_returns() -> None:
    """Jan 31 → Feb 28 → Mar 31 (SPEC §3)."""
    first = first_period(date(2026, 1, 31), Interval.MONTHLY)
    second = period_after(first, Interval.MONTHLY)
    third = period_after(second, Interval.MONTHLY)
    assert (first.end, second.end, third.end) == (date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30))


def test_a_leap_year_february_has_29_days_and_a_leap_year_366() -> None:
    """Period lengths come from the calendar: 29-day February 2028, 366-day year 2028."""
    assert first_period(date(2028, 2, 1), Interval.MONTHLY).days == 29
    assert first_period(date(2028, 1, 1), Interval.ANNUAL).days == 366
    assert first_period(date(2026, 1, 1), Interval.ANNUAL).days == 365


def test_the_change_day_counts_as_a_remaining_day() -> None:
    """L = end − d, so the last day of a period leaves exactly one day."""
    period = Period(date(2026, 1, 1), date(2027, 1, 1), 1)
    assert period.days_left(date(2026, 1, 22)) == 344
    assert period.days_left(date(2026, 12, 31)) == 1
    with pytest.raises(ValueError):
        period.days_left(date(2027, 1, 1))


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)), st.integers(0, 600))
def test_adding_months_never_overshoots_the_target_month(start: date, months: int) -> None:
    """The result is always in the month ``months`` later, on the anchor or the month's last day."""
    result = add_months(start, months)
    index = start.year * 12 + start.month - 1 + months
    assert (result.year, result.month) == (index // 12, index % 12 + 1)
    assert result.day <= start.day
