"""The rate rules: one precedence, one exact amount per worklog, one currency per tenant.

Precedence (the one documented order, docs/rates.md):

1. the **budget's** rate — the price agreed with the customer the work is billed to;
2. the **activity type's** rate — what this kind of work costs, whoever does it;
3. the **user's** rate — what this person's hour costs;
4. none → no amount (``None``), which is not the same as a zero rate: a rate of 0 is a
   rate (free work) and wins over the rates below it.

Amounts are exact rationals until the one rounding per worklog (half-even, to the minor
unit, :func:`core.money.round_half_even`); sums are sums of rounded lines, as an invoice's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Final

from core.errors import ValidationFailed
from core.money import Money

__all__ = [
    "MAX_HOURLY_MINOR",
    "AppliedRate",
    "RateBook",
    "RateCurrencyMismatch",
    "RateSource",
    "amount",
    "amount_minor",
    "applied_rate",
    "check_rate",
    "exact_amount",
    "total",
]

#: The largest hourly rate accepted: 10,000,000.00 in a two-decimal currency. A bound keeps
#: every amount (a 12-hour worklog at this rate) far inside a 64-bit column.
MAX_HOURLY_MINOR: Final = 1_000_000_000

SECONDS_PER_HOUR: Final = 3600


class RateCurrencyMismatch(ValidationFailed):
    """A rate in another currency than the tenant's rate currency (SPEC §12: one per tenant)."""

    code = "rate_currency_mismatch"


class RateSource(StrEnum):
    """Where the rate that applied came from, highest precedence first."""

    BUDGET = "budget"
    ACTIVITY_TYPE = "activity_type"
    USER = "user"


@dataclass(frozen=True, slots=True)
class AppliedRate:
    rate: Money
    source: RateSource


def applied_rate(
    *, budget_rate: Money | None, activity_type_rate: Money | None, user_rate: Money | None
) -> AppliedRate | None:
    """The rate that applies and where it came from: budget, then activity type, then user."""
    if budget_rate is not None:
        return AppliedRate(budget_rate, RateSource.BUDGET)
    if activity_type_rate is not None:
        return AppliedRate(activity_type_rate, RateSource.ACTIVITY_TYPE)
    if user_rate is not None:
        return AppliedRate(user_rate, RateSource.USER)
    return None


def exact_amount(billable_s: int, rate: Money) -> Fraction:
    """``billable_s / 3600 × rate`` in minor units, exactly (no rounding)."""
    return Fraction(billable_s * rate.amount, SECONDS_PER_HOUR)


def amount(billable_s: int, rate: Money) -> Money:
    """A worklog's amount: its billable seconds at an hourly rate, rounded once, half-even."""
    return Money(amount_minor(billable_s, rate.amount), rate.currency)


def amount_minor(billable_s: int, rate_minor: int) -> int:
    """:func:`amount` in minor units, of a rate in minor units: the same rule without the
    two :class:`Money` values, for a caller pricing a page of worklogs a row at a time (the
    Reporting API's worklog pages)."""
    if billable_s < 0:
        raise ValueError("billable seconds cannot be negative")
    # round_half_even(exact_amount(...)) in integers: the same value (tests/unit/rates), about
    # ten times faster, which counts when a budget's usage prices 100,000 worklogs.
    whole, rest = divmod(billable_s * rate_minor, SECONDS_PER_HOUR)
    if 2 * rest > SECONDS_PER_HOUR or (2 * rest == SECONDS_PER_HOUR and whole % 2):
        whole += 1
    return whole


def total(amounts: Iterable[Money], currency: str) -> Money:
    """The sum of already rounded lines (what a statement's total is)."""
    result = Money.zero(currency)
    for line in amounts:
        result = result + line
    return result


def check_rate(rate: Money, tenant_currency: str | None, *, field: str = "hourly_rate") -> Money:
    """Refuse a rate Stint cannot keep: negative, absurdly large, or in a foreign currency.

    ``tenant_currency`` is the tenant's rate currency (``None`` while no rate fixed it yet;
    the first rate set fixes it, see :mod:`core.services.rates`).
    """
    if rate.amount < 0:
        raise ValidationFailed("an hourly rate cannot be negative", field=field)
    if rate.amount > MAX_HOURLY_MINOR:
        raise ValidationFailed(f"an hourly rate may be at most {MAX_HOURLY_MINOR} minor units", field=field)
    if tenant_currency is not None and rate.currency != tenant_currency:
        raise RateCurrencyMismatch(
            f"rates of this tenant are in {tenant_currency}, not {rate.currency}",
            field=field,
            currency=tenant_currency,
        )
    return rate


@dataclass(frozen=True, slots=True)
class RateBook:
    """A tenant's user and activity type rates, read once, to price many worklogs.

    Budget rates belong to the budgets; the caller passes the rate of the budget a worklog
    resolved to (or ``None``).
    """

    users: Mapping[str, Money] = field(default_factory=dict)
    activity_types: Mapping[str, Money] = field(default_factory=dict)
    currency: str | None = None

    def applied(
        self, user_id: str | None, activity_type_id: str | None, budget_rate: Money | None
    ) -> AppliedRate | None:
        return applied_rate(
            budget_rate=budget_rate,
            activity_type_rate=(
                self.activity_types.get(activity_type_id) if activity_type_id is not None else None
            ),
            user_rate=self.users.get(user_id) if user_id is not None else None,
        )

    def rate_for(
        self, user_id: str | None, activity_type_id: str | None, budget_rate: Money | None
    ) -> Money | None:
        """The hourly rate that applies to a worklog (budget, activity type, user), or ``None``."""
        chosen = self.applied(user_id, activity_type_id, budget_rate)
        return chosen.rate if chosen is not None else None

    def amount_for(
        self,
        billable_s: int,
        user_id: str | None,
        activity_type_id: str | None,
        budget_rate: Money | None,
    ) -> Money | None:
        """A worklog's amount, or ``None`` when no rate applies."""
        rate = self.rate_for(user_id, activity_type_id, budget_rate)
        return amount(billable_s, rate) if rate is not None else None
