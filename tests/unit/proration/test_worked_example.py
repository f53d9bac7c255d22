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
    settle_change,
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


def test_the_worked_example_with_its_invoices_paid_settles_exactly_as_spec_says() -> None:
    """The whole rule (``settle_change``) on SPEC's example, each invoice paid before the next change:
    no credit note, 5,361.53 of credit, 4,641.53 left after the renewal."""
    period = first_period(date(2026, 1, 1), Interval.ANNUAL)
    terms = Terms("Team", Interval.ANNUAL, 10, price_of("Team", Interval.ANNUAL))
    bought, ledger = purchase_invoice("inv-1", terms, period, CreditLedger())
    up = quote_change(terms, period, date(2026, 1, 22), Change(seats=50), price_of, is_free)
    grew = settle_change(up, ledger, [bought.mark_paid()], invoice_id="inv-2", note_id=lambda: "n")
    assert grew.invoice is not None and grew.invoice.amount_due == 542_860
    down = quote_change(up.new, period, date(2026, 3, 5), Change(seats=5), price_of, is_free)
    paid = [bought.mark_paid(), grew.invoice.mark_paid()]
    cut = settle_change(down, grew.ledger, paid, invoice_id="chg-3", note_id=lambda: "n")
    assert (cut.credit_notes, cut.to_ledger, cut.ledger.balance) == ((), 536_153, 536_153)
    renewed, ledger = renewal_invoice("inv-4", down.new, period_after(period, Interval.ANNUAL), cut.ledger)
    assert (renewed.amount_due, renewed.status, ledger.balance) == (0, "paid", 464_153)


def test_the_worked_example_left_unpaid_lowers_the_growth_invoice_instead_of_granting_credit() -> None:
    """Nothing paid: the 5,361.53 is a credit note on the newest unpaid invoice (10 → 50), which is
    then due 67.07; no account credit, so the renewal is charged in full."""
    period = first_period(date(2026, 1, 1), Interval.ANNUAL)
    terms = Terms("Team", Interval.ANNUAL, 10, price_of("Team", Interval.ANNUAL))
    bought, ledger = purchase_invoice("inv-1", terms, period, CreditLedger())
    up = quote_change(terms, period, date(2026, 1, 22), Change(seats=50), price_of, is_free)
    grew = settle_change(up, ledger, [bought], invoice_id="inv-2", note_id=lambda: "n")
    assert grew.invoice is not None
    down = quote_change(up.new, period, date(2026, 3, 5), Change(seats=5), price_of, is_free)
    cut = settle_change(down, grew.ledger, [bought, grew.invoice], invoice_id="chg-3", note_id=lambda: "cn-1")
    (note,) = cut.credit_notes
    assert (note.invoice_id, note.amount) == ("inv-2", 536_153)
    (lowered,) = cut.credited_invoices
    assert (lowered.total, lowered.amount_due) == (542_860, 6_707)
    assert cut.to_ledger == 0 and cut.ledger.balance == 0
    renewed, _ = renewal_invoice("inv-4", down.new, period_after(period, Interval.ANNUAL), cut.ledger)
    assert (renewed.amount_due, renewed.status) == (72_000, "due")
