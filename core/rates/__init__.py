"""Rates: what an hour of billable work is worth, and the amount of a worklog.

The public face of the context: the rules (:mod:`.model`) and the port (:mod:`.ports`).
Rates are hourly, in integer minor units of the tenant's one rate currency, per user, per
activity type and per budget. Precedence (docs/rates.md): the budget's rate (the customer's
price) wins, then the activity type's, then the user's; none of them → the worklog has no
amount. A worklog's amount is ``billable_s / 3600 × rate``, exact, rounded once, half-even.
"""

from core.rates.model import (
    MAX_HOURLY_MINOR,
    AppliedRate,
    RateBook,
    RateCurrencyMismatch,
    RateSource,
    amount,
    amount_minor,
    applied_rate,
    check_rate,
    exact_amount,
    total,
)

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
