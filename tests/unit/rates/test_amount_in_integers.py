"""``core.rates.amount`` rounds in integers; it must equal the exact rational rounded half-even."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.money import Money, round_half_even
from core.rates import amount, amount_minor, exact_amount


@given(st.integers(0, 10**7), st.integers(0, 10**9))
def test_the_integer_rounding_equals_the_exact_amount_rounded_half_even(billable_s: int, rate: int) -> None:
    assert amount(billable_s, Money(rate)) == Money(round_half_even(exact_amount(billable_s, Money(rate))))


def test_exact_halves_go_to_the_even_cent() -> None:
    # 3 s at 150.00/h = 12.5 cents → 12; 9 s at 150.00/h = 37.5 cents → 38.
    assert amount(3, Money(15_000)) == Money(12)
    assert amount(9, Money(15_000)) == Money(38)


@given(st.integers(0, 10**7), st.integers(0, 10**9))
def test_the_amount_in_minor_units_is_the_amounts(billable_s: int, rate: int) -> None:
    assert amount_minor(billable_s, rate) == amount(billable_s, Money(rate, "EUR")).amount
