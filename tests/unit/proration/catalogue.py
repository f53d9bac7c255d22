"""A test price list in the shape of SPEC §2: seat price per interval, in minor units."""

from __future__ import annotations

from core.periods import Interval

# Annual = 12 × the "billed annually" monthly figure; monthly = the "billed monthly" one.
PRICES: dict[tuple[str, Interval], int] = {
    ("Free", Interval.MONTHLY): 0,
    ("Free", Interval.ANNUAL): 0,
    ("Start", Interval.MONTHLY): 900,
    ("Start", Interval.ANNUAL): 8_400,
    ("Team", Interval.MONTHLY): 1_500,
    ("Team", Interval.ANNUAL): 14_400,
    ("Ultimate", Interval.MONTHLY): 2_000,
    ("Ultimate", Interval.ANNUAL): 19_200,
}
PAID_PLANS = ("Start", "Team", "Ultimate")


def price_of(plan_id: str, interval: Interval) -> int:
    return PRICES[(plan_id, interval)]


def is_free(plan_id: str) -> bool:
    return plan_id == "Free"
