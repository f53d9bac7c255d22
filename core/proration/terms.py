"""Terms of a subscription and the value of one of its days.

The value of one day under terms (plan, interval, seats) is
``seats × price(plan, interval) / days(start, start + interval)`` (SPEC §4).
Prices are resolved by the caller: this module never reads a plan catalogue,
so a tenant keeps the price it bought at even when the catalogue changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from functools import lru_cache

from core.errors import ValidationFailed
from core.money import format_minor
from core.periods import Interval, Period, add_months

__all__ = ["Terms", "day_value", "interval_days"]


@dataclass(frozen=True, slots=True)
class Terms:
    """What a tenant pays for: a plan, an interval, seats and the price of one seat per interval.

    ``seat_price`` is minor units per seat per *interval*: the "billed monthly"
    figure for a monthly interval, 12 × the "billed annually" figure for an
    annual one (Team annual = 14400).
    """

    plan_id: str
    interval: Interval
    seats: int
    seat_price: int
    #: The plan's display name for receipts ("Team"); the id when not given.
    plan_name: str = field(default="", compare=False)

    @property
    def plan_label(self) -> str:
        return self.plan_name or self.plan_id

    def __post_init__(self) -> None:
        if not self.plan_id:
            raise ValidationFailed("a plan is required", field="plan_id")
        if not isinstance(self.interval, Interval):
            raise ValidationFailed(f"not an interval: {self.interval!r}", field="interval")
        # bool is an int subclass; True seats would be a silent bug, so refuse it.
        if type(self.seats) is not int or self.seats < 0:
            raise ValidationFailed(f"seats must be a whole number ≥ 0: {self.seats!r}", field="seats")
        if type(self.seat_price) is not int or self.seat_price < 0:
            raise ValidationFailed(
                f"seat price must be whole minor units ≥ 0: {self.seat_price!r}", field="seat_price"
            )

    @property
    def amount(self) -> int:
        """What one whole interval of these terms costs: seats × seat price."""
        return self.seats * self.seat_price

    @property
    def label(self) -> str:
        """How a receipt names these terms: ``Team annual 50 seats``."""
        return f"{self.plan_label} {self.interval.value} {self.seats} seats"

    def price_text(self) -> str:
        """The seat price as a receipt shows it: ``144.00``."""
        return format_minor(self.seat_price)


@lru_cache(maxsize=4096)
def _days_from(start: date, anchor_day: int, interval: Interval) -> int:
    # Cached because quotes ask about the same few periods over and over, and
    # the calendar arithmetic would otherwise cost more than the proration itself.
    return (add_months(start, interval.months, anchor_day) - start).days


def interval_days(period: Period, interval: Interval) -> int:
    """``days(start, start + interval)`` for the period's start and anchor day.

    For the interval the period was built for this is ``period.days``; for the
    other interval (an interval change) it is the length that interval would
    have had from the same start, so both day values share one calendar.
    """
    return _days_from(period.start, period.anchor_day, interval)


def day_value(terms: Terms, period: Period) -> Fraction:
    """The exact value of one day of ``period`` under ``terms``, in minor units."""
    return Fraction(terms.amount, interval_days(period, terms.interval))
