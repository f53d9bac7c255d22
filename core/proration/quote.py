"""Quotes: the lines a change would produce, computed by the same rule that applies it.

A quote is not an estimate. Applying a change is settling its quote
(:func:`core.proration.invoice.settle_quote`), so a preview at any date in the
period shows exactly what the change would charge or credit on that date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from core.errors import ValidationFailed
from core.periods import Interval, Period

from .change import Change
from .line import ProrationLine, prorate
from .terms import Terms

__all__ = ["Quote", "quote_change"]

PriceOf = Callable[[str, Interval], int]
IsFree = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Quote:
    """The outcome of a change on day ``on``: its lines, their total, and the new terms.

    ``scheduled_for`` is set when the change waits for the period end (a move to
    Free); ``interval_from_next_period`` is set when the next renewal will run
    for a different interval. The running period itself never changes.
    """

    on: date
    period: Period
    current: Terms
    new: Terms
    lines: tuple[ProrationLine, ...]
    total: int
    currency: str
    scheduled_for: date | None = None
    interval_from_next_period: Interval | None = None

    @property
    def is_scheduled(self) -> bool:
        return self.scheduled_for is not None


def quote_change(
    current: Terms,
    period: Period,
    on: date,
    requested: Change,
    price_of: PriceOf,
    is_free: IsFree,
    currency: str = "USD",
    name_of: Callable[[str], str] | None = None,
) -> Quote:
    """Quote ``requested`` against ``current`` terms on day ``on`` of the running ``period``.

    ``price_of(plan_id, interval)`` gives the seat price per interval in minor
    units; it is asked only when the plan or interval changes, so a seat change
    keeps the price the tenant is paying.
    """
    if not period.start <= on < period.end:
        raise ValidationFailed(f"{on} is not in the running period {period.start}..{period.end}", field="on")
    plan_id = current.plan_id if requested.plan_id is None else requested.plan_id
    interval = current.interval if requested.interval is None else requested.interval
    seats = current.seats if requested.seats is None else requested.seats
    if plan_id == current.plan_id and interval is current.interval and seats == current.seats:
        raise ValidationFailed("the change asks for the terms already in force")
    if is_free(current.plan_id):
        # A Free tenant has no paid period to re-price: it buys a plan instead.
        raise ValidationFailed(
            "a Free plan is not prorated; buy a plan to start a paid period", field="plan_id"
        )
    new_plan = plan_id != current.plan_id
    repriced = new_plan or interval is not current.interval
    seat_price = price_of(plan_id, interval) if repriced else current.seat_price

    # The current plan is paid (checked above), so only a new plan can be Free.
    if new_plan and is_free(plan_id):
        # No credit for the unused paid days: the paid terms run to the period
        # end and Free starts with the next period (SPEC §4).
        new = Terms(plan_id, interval, seats, seat_price, plan_name=name_of(plan_id) if name_of else "")
        return Quote(on, period, current, new, (), 0, currency, scheduled_for=period.end)

    if seats < 1:
        raise ValidationFailed("a paid plan needs at least one seat", field="seats")
    new = Terms(plan_id, interval, seats, seat_price, plan_name=name_of(plan_id) if name_of else "")
    line = prorate(period, on, current, new, currency)
    return Quote(
        on,
        period,
        current,
        new,
        (line,),
        line.amount,
        currency,
        interval_from_next_period=interval if interval is not current.interval else None,
    )
