"""The proration line: L days × the change in day value, rounded once, half-even."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest

from core.errors import ValidationFailed
from core.periods import Interval, Period, first_period, period_after
from core.proration import Terms, prorate

YEAR_2026 = first_period(date(2026, 1, 1), Interval.ANNUAL)
TEAM_10 = Terms("Team", Interval.ANNUAL, 10, 14_400)
TEAM_50 = Terms("Team", Interval.ANNUAL, 50, 14_400)


def test_a_seat_increase_is_a_charge_with_its_numbers() -> None:
    """10 → 50 seats on 2026-01-22 is L = 344 and 5,428.60 from 542,860.27… exact."""
    line = prorate(YEAR_2026, date(2026, 1, 22), TEAM_10, TEAM_50)
    assert (line.days_left, line.period_days) == (344, 365)
    assert line.old_day_value == Fraction(144_000, 365)
    assert line.new_day_value == Fraction(720_000, 365)
    assert line.exact_amount == Fraction(40 * 14_400 * 344, 365)
    assert (line.amount, line.kind, line.currency) == (542_860, "charge", "USD")
    assert line.amount_text == "5,428.60"
    assert line.description == "Team annual 10 → 50 seats: 40 seats × 144.00 × 344/365 days"


def test_a_seat_decrease_is_a_credit() -> None:
    """50 → 5 seats on 2026-03-05 is L = 302 and a credit of 5,361.53."""
    line = prorate(YEAR_2026, date(2026, 3, 5), TEAM_50, Terms("Team", Interval.ANNUAL, 5, 14_400))
    assert (line.days_left, line.amount, line.kind) == (302, -536_153, "credit")
    assert line.description == "Team annual 50 → 5 seats: 45 seats × 144.00 × 302/365 days"


def test_the_same_terms_make_a_zero_line() -> None:
    """Prorating to identical terms is a line of kind none and amount 0."""
    line = prorate(YEAR_2026, date(2026, 6, 1), TEAM_10, TEAM_10)
    assert (line.amount, line.kind, line.exact_amount) == (0, "none", Fraction(0))


def test_a_change_on_the_first_day_reprices_the_whole_period() -> None:
    """On the start day L is the whole period, so the line is Δseats × price exactly."""
    line = prorate(YEAR_2026, YEAR_2026.start, TEAM_10, TEAM_50)
    assert line.days_left == 365
    assert line.exact_amount == 40 * 14_400 == line.amount


def test_a_change_on_the_last_day_leaves_one_day() -> None:
    """On the day before the end L = 1: one day of the difference."""
    line = prorate(YEAR_2026, date(2026, 12, 31), TEAM_10, TEAM_50)
    assert line.days_left == 1
    assert line.exact_amount == Fraction(40 * 14_400, 365)
    assert line.amount == 1_578  # 1,578.08…


@pytest.mark.parametrize("on", [date(2025, 12, 31), date(2027, 1, 1), date(2027, 6, 1)])
def test_a_day_outside_the_period_is_refused(on: date) -> None:
    """The end day belongs to the next period; days outside are refused on the field on."""
    with pytest.raises(ValidationFailed) as refused:
        prorate(YEAR_2026, on, TEAM_10, TEAM_50)
    assert refused.value.field == "on"
    assert refused.value.code == "validation_error"


def test_a_tie_rounds_half_to_even_in_both_directions() -> None:
    """2.5 rounds to 2 and −2.5 to −2: one half-even rounding, symmetric for credits."""
    april = first_period(date(2026, 4, 1), Interval.MONTHLY)  # 30 days
    one, two = Terms("X", Interval.MONTHLY, 1, 75), Terms("X", Interval.MONTHLY, 2, 75)
    up = prorate(april, date(2026, 4, 30), one, two)
    down = prorate(april, date(2026, 4, 30), two, one)
    assert (up.exact_amount, up.amount) == (Fraction(5, 2), 2)
    assert (down.exact_amount, down.amount) == (Fraction(-5, 2), -2)
    three_halves = prorate(april, date(2026, 4, 30), one, Terms("X", Interval.MONTHLY, 2, 60))
    assert (three_halves.exact_amount, three_halves.amount) == (Fraction(3, 2), 2)


@pytest.mark.parametrize(
    ("start", "interval", "days"),
    [
        (date(2026, 2, 1), Interval.MONTHLY, 28),
        (date(2024, 2, 1), Interval.MONTHLY, 29),
        (date(2026, 4, 1), Interval.MONTHLY, 30),
        (date(2026, 1, 1), Interval.MONTHLY, 31),
        (date(2026, 1, 1), Interval.ANNUAL, 365),
        (date(2024, 1, 1), Interval.ANNUAL, 366),
    ],
)
def test_every_period_length_prorates_by_its_own_days(start: date, interval: Interval, days: int) -> None:
    """First day: the whole difference; last day: 1/days of it; each for 28–31, 365, 366 days."""
    period = first_period(start, interval)
    old, new = Terms("Team", interval, 3, 1_000_000), Terms("Team", interval, 4, 1_000_000)
    first = prorate(period, period.start, old, new)
    last = prorate(period, period.end - timedelta(days=1), old, new)
    assert (first.days_left, first.amount) == (days, 1_000_000)
    assert (last.days_left, last.exact_amount) == (1, Fraction(1_000_000, days))
    assert last.description.endswith(f"1 seats × 10,000.00 × 1/{days} days")


def test_an_anchor_on_the_31st_prorates_february_by_28_days() -> None:
    """Jan 31 → Feb 28 → Mar 31: the February period has 28 days, the next 31."""
    january = first_period(date(2026, 1, 31), Interval.MONTHLY)
    february = period_after(january, Interval.MONTHLY)
    march = period_after(february, Interval.MONTHLY)
    assert [p.days for p in (january, february, march)] == [28, 31, 30]
    assert march == Period(date(2026, 3, 31), date(2026, 4, 30), 31)
    old, new = Terms("Team", Interval.MONTHLY, 1, 1_500), Terms("Team", Interval.MONTHLY, 2, 1_500)
    in_february = prorate(january, date(2026, 2, 14), old, new)
    assert (in_february.days_left, in_february.exact_amount) == (14, Fraction(14 * 1_500, 28))
    in_march = prorate(february, date(2026, 3, 1), old, new)
    assert (in_march.days_left, in_march.exact_amount) == (30, Fraction(30 * 1_500, 31))


def test_a_plan_change_is_described_with_both_terms() -> None:
    """Team → Ultimate, same interval, reads as (new − old) × L/days."""
    ultimate = Terms("Ultimate", Interval.ANNUAL, 50, 19_200)
    line = prorate(YEAR_2026, date(2026, 3, 5), TEAM_50, ultimate)
    assert line.description == (
        "Team annual 50 seats → Ultimate annual 50 seats: (50 × 192.00 − 50 × 144.00) × 302/365 days"
    )
    assert line.exact_amount == Fraction(302 * 50 * (19_200 - 14_400), 365)
    assert line.amount == 198_575


def test_an_interval_change_is_described_with_each_terms_own_days() -> None:
    """Monthly → annual prices each side over its own interval's days."""
    january = first_period(date(2026, 1, 1), Interval.MONTHLY)
    monthly, annual = Terms("Team", Interval.MONTHLY, 10, 1_500), Terms("Team", Interval.ANNUAL, 10, 14_400)
    line = prorate(january, date(2026, 1, 10), monthly, annual)
    assert line.days_left == 22
    assert line.old_day_value == Fraction(15_000, 31)
    assert line.new_day_value == Fraction(144_000, 365)
    assert line.exact_amount == 22 * (Fraction(144_000, 365) - Fraction(15_000, 31))
    assert line.description == (
        "Team monthly 10 seats → Team annual 10 seats: (10 × 144.00/365 − 10 × 15.00/31) × 22 days"
    )
