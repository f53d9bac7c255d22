"""Terms and the value of one day."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from core.errors import ValidationFailed
from core.periods import Interval, Period, first_period, period_after
from core.proration import Terms, day_value, interval_days


def test_the_day_value_is_seats_times_price_over_the_period_days() -> None:
    """Team annual, 10 seats, 2026: 10 × 14400 / 365 minor units a day, exactly."""
    period = first_period(date(2026, 1, 1), Interval.ANNUAL)
    terms = Terms("Team", Interval.ANNUAL, 10, 14_400)
    assert day_value(terms, period) == Fraction(144_000, 365)


@pytest.mark.parametrize(
    ("start", "interval", "days"),
    [
        (date(2026, 2, 1), Interval.MONTHLY, 28),
        (date(2024, 2, 1), Interval.MONTHLY, 29),
        (date(2026, 4, 1), Interval.MONTHLY, 30),
        (date(2026, 1, 1), Interval.MONTHLY, 31),
        (date(2026, 1, 1), Interval.ANNUAL, 365),
        (date(2027, 3, 1), Interval.ANNUAL, 366),
    ],
)
def test_the_running_interval_uses_the_periods_own_day_count(
    start: date, interval: Interval, days: int
) -> None:
    """For the interval a period was built for, the day count is the period's length."""
    period = first_period(start, interval)
    assert period.days == days
    assert interval_days(period, interval) == days


def test_the_other_interval_counts_its_days_from_the_same_start() -> None:
    """A monthly period from 2026-01-31 measures a year as 2026-01-31 → 2027-01-31."""
    period = first_period(date(2026, 1, 31), Interval.MONTHLY)
    assert interval_days(period, Interval.ANNUAL) == 365
    february = period_after(period, Interval.MONTHLY)
    assert (february.start, february.end) == (date(2026, 2, 28), date(2026, 3, 31))
    # The anchor, not the clamped start, decides where a month from here ends.
    assert interval_days(february, Interval.MONTHLY) == 31


def test_an_annual_period_measures_a_month_from_its_anchor() -> None:
    """An annual period starting on the 31st measures a month to the 28th of February."""
    period = Period(date(2026, 1, 31), date(2027, 1, 31), 31)
    assert interval_days(period, Interval.MONTHLY) == 28


@pytest.mark.parametrize(
    ("seats", "seat_price", "field"),
    [(-1, 100, "seats"), (True, 100, "seats"), (1, -5, "seat_price"), (1, 1.5, "seat_price")],
)
def test_terms_refuse_impossible_numbers(seats: object, seat_price: object, field: str) -> None:
    """Seats and prices are whole numbers ≥ 0; anything else names the field at fault."""
    with pytest.raises(ValidationFailed) as refused:
        Terms("Team", Interval.ANNUAL, seats, seat_price)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_terms_need_a_plan_and_a_real_interval() -> None:
    """An empty plan or a bare string interval is refused."""
    with pytest.raises(ValidationFailed):
        Terms("", Interval.ANNUAL, 1, 100)
    with pytest.raises(ValidationFailed):
        Terms("Team", "annual", 1, 100)  # type: ignore[arg-type]
