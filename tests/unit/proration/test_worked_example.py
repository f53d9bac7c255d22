"""SPEC §4's worked example, end to end in the pure domain."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from core.periods import Interval, first_period, period_after
from core.proration import (
    Change,
    CreditLedger,
    Terms,
    purchase_invoice,
    quote_change,
    renewal_invoice,
    settle_quote,
)

from .catalogue import is_free, price_of


def test_the_worked_example_of_the_spec() -> None:
    """Buy 10, go to 50, drop to 5, renew: 1,440.00, +5,428.60, −5,361.53, 720.00 from credit."""
    period = first_period(date(2026, 1, 1), Interval.ANNUAL)
    assert (period.end, period.days) == (date(2027, 1, 1), 365)
    terms = Terms("Team", Interval.ANNUAL, 10, price_of("Team", Interval.ANNUAL))

    bought, ledger = purchase_invoice("inv-1", terms, period, CreditLedger())
    assert (bought.total, bought.amount_due) == (144_000, 144_000)
    bought = bought.mark_paid()

    up = quote_change(terms, period, date(2026, 1, 22), Change(seats=50), price_of, is_free)
    (line,) = up.lines
    assert (line.days_left, line.kind, line.amount) == (344, "charge", 542_860)
    assert line.exact_amount == Fraction(40 * 14_400 * 344, 365)
    assert line.description == "Team annual 10 → 50 seats: 40 seats × 144.00 × 344/365 days"
    charged, ledger = settle_quote(up, ledger, invoice_id="inv-2")
    assert charged is not None
    assert (charged.total, charged.credit_applied, charged.amount_due) == (542_860, 0, 542_860)

    down = quote_change(up.new, period, date(2026, 3, 5), Change(seats=5), price_of, is_free)
    (line,) = down.lines
    assert (line.days_left, line.kind, line.amount) == (302, "credit", -536_153)
    assert line.exact_amount == -Fraction(45 * 14_400 * 302, 365)
    assert line.description == "Team annual 50 → 5 seats: 45 seats × 144.00 × 302/365 days"
    nothing, ledger = settle_quote(down, ledger, invoice_id="chg-3")
    assert nothing is None
    assert ledger.balance == 536_153

    renewal = period_after(period, Interval.ANNUAL)
    renewed, ledger = renewal_invoice("inv-4", down.new, renewal, ledger)
    assert renewed.issued_on == date(2027, 1, 1)
    assert renewed.lines[0].description == "Team annual: 5 seats × 144.00"
    assert (renewed.total, renewed.credit_applied, renewed.amount_due) == (72_000, 72_000, 0)
    assert renewed.status == "paid"
    assert ledger.balance == 464_153
