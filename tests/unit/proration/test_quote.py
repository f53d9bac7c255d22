"""Quotes: which changes make a line, which are scheduled, and which are refused."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import ValidationFailed
from core.periods import Interval, Period, first_period, period_after
from core.proration import Change, Quote, Terms, prorate, quote_change

from .catalogue import is_free, price_of

YEAR_2026 = first_period(date(2026, 1, 1), Interval.ANNUAL)
JANUARY = first_period(date(2026, 1, 1), Interval.MONTHLY)
TEAM_50 = Terms("Team", Interval.ANNUAL, 50, 14_400)


def quote(current: Terms, on: date, change: Change, period: Period = YEAR_2026) -> Quote:
    return quote_change(current, period, on, change, price_of, is_free)


def test_a_seat_change_quotes_one_line_at_the_price_being_paid() -> None:
    """A seat change keeps the tenant's seat price, even when the catalogue differs."""
    grandfathered = Terms("Team", Interval.ANNUAL, 10, 12_000)
    q = quote(grandfathered, date(2026, 1, 22), Change(seats=11))
    assert q.new == Terms("Team", Interval.ANNUAL, 11, 12_000)
    assert q.lines == (prorate(YEAR_2026, date(2026, 1, 22), grandfathered, q.new),)
    assert q.total == q.lines[0].amount
    assert (q.scheduled_for, q.interval_from_next_period, q.is_scheduled) == (None, None, False)


def test_team_to_ultimate_reprices_the_remaining_days() -> None:
    """Team → Ultimate on 2026-03-05 charges 302 days of the price difference."""
    q = quote(TEAM_50, date(2026, 3, 5), Change(plan_id="Ultimate"))
    assert q.new == Terms("Ultimate", Interval.ANNUAL, 50, 19_200)
    assert q.total == 198_575
    assert q.lines[0].description.startswith("Team annual 50 seats → Ultimate annual 50 seats")


def test_monthly_to_annual_credits_now_and_takes_effect_at_renewal() -> None:
    """Annual is cheaper per day, so the rest of the month is credited; renewal runs annual."""
    monthly = Terms("Team", Interval.MONTHLY, 10, 1_500)
    q = quote(monthly, date(2026, 1, 10), Change(interval=Interval.ANNUAL), JANUARY)
    assert q.new == Terms("Team", Interval.ANNUAL, 10, 14_400)
    assert q.interval_from_next_period is Interval.ANNUAL
    assert q.lines[0].kind == "credit"
    assert q.total == -1_966  # 22 × (144000/365 − 15000/31) = −1,965.9…
    assert q.period is JANUARY  # the running month still ends on Feb 1


def test_annual_to_monthly_and_back_on_one_day_nets_to_zero() -> None:
    """Going to monthly and straight back costs nothing: the day values are the same."""
    there = quote(TEAM_50, date(2026, 3, 5), Change(interval=Interval.MONTHLY))
    assert there.new == Terms("Team", Interval.MONTHLY, 50, 1_500)
    assert there.total > 0  # 302 days at the monthly rate cost more than at the annual one
    back = quote(there.new, date(2026, 3, 5), Change(interval=Interval.ANNUAL))
    assert back.new == TEAM_50
    assert there.total + back.total == 0


def test_two_changes_on_one_day_equal_one_change_within_a_minor_unit() -> None:
    """10 → 20 → 30 on one day is 10 → 30, give or take the second rounding."""
    ten = Terms("Team", Interval.ANNUAL, 10, 14_400)
    first = quote(ten, date(2026, 5, 17), Change(seats=20))
    second = quote(first.new, date(2026, 5, 17), Change(seats=30))
    direct = quote(ten, date(2026, 5, 17), Change(seats=30))
    assert second.new == direct.new
    assert first.lines[0].exact_amount + second.lines[0].exact_amount == direct.lines[0].exact_amount
    assert abs(first.total + second.total - direct.total) <= 1


def test_a_change_to_free_is_scheduled_for_the_period_end_with_no_line() -> None:
    """Moving to Free credits nothing now; it starts when the paid period ends."""
    q = quote(TEAM_50, date(2026, 3, 5), Change(plan_id="Free", seats=3))
    assert q.lines == ()
    assert q.total == 0
    assert q.scheduled_for == YEAR_2026.end
    assert q.is_scheduled
    assert q.new == Terms("Free", Interval.ANNUAL, 3, 0)


def test_a_change_that_changes_nothing_is_refused() -> None:
    """No fields, or fields equal to the current terms, are both refused."""
    for change in (Change(), Change(seats=50, plan_id="Team", interval=Interval.ANNUAL)):
        with pytest.raises(ValidationFailed):
            quote(TEAM_50, date(2026, 3, 5), change)


@pytest.mark.parametrize("change", [Change(seats=0), Change(plan_id="Ultimate", seats=0)])
def test_a_paid_plan_needs_at_least_one_seat(change: Change) -> None:
    """Zero seats on a paid plan is refused on the field seats."""
    with pytest.raises(ValidationFailed) as refused:
        quote(TEAM_50, date(2026, 3, 5), change)
    assert refused.value.field == "seats"


def test_a_quote_outside_the_period_is_refused_on_the_field_on() -> None:
    """The period end is the first day of the next period, not of this one."""
    with pytest.raises(ValidationFailed) as refused:
        quote(TEAM_50, YEAR_2026.end, Change(seats=60))
    assert refused.value.field == "on"


def test_a_free_tenant_is_not_prorated() -> None:
    """Leaving Free is a purchase that starts a period, not a proration."""
    free = Terms("Free", Interval.MONTHLY, 3, 0)
    with pytest.raises(ValidationFailed) as refused:
        quote(free, date(2026, 1, 5), Change(plan_id="Team", seats=5), JANUARY)
    assert refused.value.field == "plan_id"


def test_an_anchor_on_the_31st_quotes_through_february() -> None:
    """A Jan-31 monthly subscription quotes its Feb 28 → Mar 31 period over 31 days."""
    february = period_after(first_period(date(2026, 1, 31), Interval.MONTHLY), Interval.MONTHLY)
    monthly = Terms("Team", Interval.MONTHLY, 4, 1_500)
    q = quote(monthly, date(2026, 3, 29), Change(seats=5), february)
    assert (q.lines[0].days_left, q.lines[0].period_days) == (2, 31)
    assert q.total == 97  # 2 × 1500/31 = 96.77…


def test_seat_validation_happens_when_the_change_is_made() -> None:
    """A negative or non-integer seat count is refused before any quote."""
    with pytest.raises(ValidationFailed):
        Change(seats=-1)
    with pytest.raises(ValidationFailed):
        Change(plan_id="")
    with pytest.raises(ValidationFailed):
        Change(interval="annual")  # type: ignore[arg-type]
