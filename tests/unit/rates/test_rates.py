"""Rates: the one precedence, the exact amount per worklog, and the tenant's one currency."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationFailed
from core.money import Money, round_half_even
from core.rates import (
    MAX_HOURLY_MINOR,
    RateBook,
    RateCurrencyMismatch,
    RateSource,
    amount,
    applied_rate,
    check_rate,
    exact_amount,
    total,
)

rates = st.builds(Money, st.integers(0, MAX_HOURLY_MINOR), st.just("EUR"))
maybe_rates = st.none() | rates
seconds = st.integers(0, 24 * 3600)


def test_the_budget_rate_wins_over_the_activity_type_and_the_user() -> None:
    """The customer's price (budget) first, then the kind of work, then the person."""
    budget, activity, user = Money(15000, "EUR"), Money(9000, "EUR"), Money(6000, "EUR")
    chosen = applied_rate(budget_rate=budget, activity_type_rate=activity, user_rate=user)
    assert chosen is not None and (chosen.rate, chosen.source) == (budget, RateSource.BUDGET)
    chosen = applied_rate(budget_rate=None, activity_type_rate=activity, user_rate=user)
    assert chosen is not None and chosen.source is RateSource.ACTIVITY_TYPE
    chosen = applied_rate(budget_rate=None, activity_type_rate=None, user_rate=user)
    assert chosen is not None and chosen.source is RateSource.USER
    assert applied_rate(budget_rate=None, activity_type_rate=None, user_rate=None) is None


def test_a_zero_rate_is_a_rate_and_wins_over_the_ones_below_it() -> None:
    """Free work (a meeting at 0) is priced at 0, not at the user's rate."""
    book = RateBook(users={"u1": Money(6000, "EUR")}, activity_types={"meet": Money(0, "EUR")})
    assert book.rate_for("u1", "meet", None) == Money(0, "EUR")
    assert book.amount_for(3600, "u1", "meet", None) == Money(0, "EUR")
    assert book.amount_for(3600, "u2", "other", None) is None


def test_ninety_minutes_at_one_hundred_euros_are_one_hundred_fifty() -> None:
    assert amount(5400, Money(10000, "EUR")) == Money(15000, "EUR")


def test_half_cents_round_to_the_even_cent_once_per_worklog() -> None:
    """18 s at 1.00/h is exactly 0.5 cent → 0; 54 s is 1.5 cents → 2."""
    assert exact_amount(18, Money(100, "EUR")) == Fraction(1, 2)
    assert amount(18, Money(100, "EUR")) == Money(0, "EUR")
    assert amount(54, Money(100, "EUR")) == Money(2, "EUR")


def test_negative_billable_time_has_no_amount() -> None:
    with pytest.raises(ValueError):
        amount(-1, Money(100, "EUR"))


def test_a_rate_in_another_currency_than_the_tenants_is_refused() -> None:
    with pytest.raises(RateCurrencyMismatch) as refused:
        check_rate(Money(100, "USD"), "EUR")
    assert refused.value.code == "rate_currency_mismatch"
    assert check_rate(Money(100, "USD"), None) == Money(100, "USD")


def test_negative_and_absurd_rates_are_refused() -> None:
    with pytest.raises(ValidationFailed):
        check_rate(Money(-1, "EUR"), "EUR")
    with pytest.raises(ValidationFailed):
        check_rate(Money(MAX_HOURLY_MINOR + 1, "EUR"), "EUR")


@given(seconds, rates)
def test_the_amount_equals_a_decimal_reference_rounded_half_even(billable_s: int, rate: Money) -> None:
    """Fraction arithmetic and a 50-digit Decimal computation agree to the minor unit."""
    with localcontext() as ctx:
        ctx.prec = 50
        reference = (Decimal(billable_s) * Decimal(rate.amount) / Decimal(3600)).quantize(
            Decimal(1), rounding=ROUND_HALF_EVEN
        )
    assert amount(billable_s, rate) == Money(int(reference), rate.currency)


@given(seconds, rates)
def test_the_amount_is_within_half_a_minor_unit_of_the_exact_value(billable_s: int, rate: Money) -> None:
    assert abs(Fraction(amount(billable_s, rate).amount) - exact_amount(billable_s, rate)) <= Fraction(1, 2)


@given(maybe_rates, maybe_rates, maybe_rates)
def test_precedence_is_total_and_picks_the_first_present_rate(
    budget: Money | None, activity: Money | None, user: Money | None
) -> None:
    """Every combination has one answer: the first of budget, activity type, user present."""
    chosen = applied_rate(budget_rate=budget, activity_type_rate=activity, user_rate=user)
    present = [r for r in (budget, activity, user) if r is not None]
    if not present:
        assert chosen is None
    else:
        assert chosen is not None and chosen.rate == present[0]
        assert chosen == applied_rate(budget_rate=budget, activity_type_rate=activity, user_rate=user)


@given(st.lists(st.tuples(seconds, rates), max_size=60))
def test_the_sum_of_rounded_lines_is_within_half_a_unit_per_line_of_the_rounded_sum(
    lines: list[tuple[int, Money]],
) -> None:
    """n lines each rounded once differ from the rounded exact sum by at most n/2 (+ 1/2)."""
    rounded = total((amount(s, r) for s, r in lines), "EUR")
    exact = sum((exact_amount(s, r) for s, r in lines), Fraction(0))
    assert abs(Fraction(rounded.amount) - exact) <= Fraction(len(lines), 2)
    assert abs(rounded.amount - round_half_even(exact)) <= Fraction(len(lines) + 1, 2)


@given(st.lists(seconds, max_size=30), rates)
def test_amounts_are_additive_in_time_before_rounding(parts: list[int], rate: Money) -> None:
    """Splitting a worklog changes the exact amount by nothing; only rounding may differ."""
    assert sum((exact_amount(s, rate) for s in parts), Fraction(0)) == exact_amount(sum(parts), rate)
