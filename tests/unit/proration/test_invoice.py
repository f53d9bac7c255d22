"""Invoices: purchase, proration charges and renewals, paid from credit first."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import Conflict, ValidationFailed
from core.periods import Interval, first_period, period_after
from core.proration import (
    Change,
    CreditLedger,
    InvoiceLine,
    Terms,
    issue_invoice,
    proration_charge_line,
    purchase_invoice,
    quote_change,
    renewal_invoice,
    settle_quote,
)

from .catalogue import is_free, price_of

YEAR_2026 = first_period(date(2026, 1, 1), Interval.ANNUAL)
TEAM_10 = Terms("Team", Interval.ANNUAL, 10, 14_400)
DAY = date(2026, 3, 5)


def test_a_purchase_invoices_seats_times_seat_price() -> None:
    """Buying 10 Team annual seats is one line of 10 × 144.00 for the whole period."""
    invoice, ledger = purchase_invoice("inv-1", TEAM_10, YEAR_2026, CreditLedger())
    (line,) = invoice.lines
    assert line.kind == "purchase"
    assert line.description == "Team annual: 10 seats × 144.00"
    assert (line.starts_on, line.ends_on) == (YEAR_2026.start, YEAR_2026.end)
    assert (invoice.total, invoice.credit_applied, invoice.amount_due) == (144_000, 0, 144_000)
    assert (invoice.status, invoice.issued_on) == ("due", YEAR_2026.start)
    assert ledger == CreditLedger()


def test_an_invoice_is_paid_from_credit_first() -> None:
    """Credit reduces the amount due and the ledger records what it paid."""
    ledger = CreditLedger().add_credit(50_000, "credit", "c", DAY)
    invoice, after = renewal_invoice("inv-2", TEAM_10, period_after(YEAR_2026, Interval.ANNUAL), ledger)
    assert (invoice.total, invoice.credit_applied, invoice.amount_due) == (144_000, 50_000, 94_000)
    assert invoice.status == "due"
    assert after.balance == 0
    assert after.entries[-1].reference == "inv-2"


def test_an_invoice_fully_covered_by_credit_is_paid_at_once() -> None:
    """Nothing left to collect means the invoice is born paid."""
    ledger = CreditLedger().add_credit(200_000, "credit", "c", DAY)
    invoice, after = renewal_invoice("inv-3", TEAM_10, period_after(YEAR_2026, Interval.ANNUAL), ledger)
    assert (invoice.amount_due, invoice.status, after.balance) == (0, "paid", 56_000)


def test_a_charge_becomes_an_invoice_and_a_credit_becomes_ledger_credit() -> None:
    """Positive lines are invoiced; negative lines never become invoice lines."""
    up = quote_change(TEAM_10, YEAR_2026, DAY, Change(seats=12), price_of, is_free)
    invoice, ledger = settle_quote(up, CreditLedger(), invoice_id="inv-4")
    assert invoice is not None
    assert invoice.lines == (proration_charge_line(up.lines[0]),)
    assert invoice.lines[0].kind == "proration_charge"
    assert (invoice.lines[0].starts_on, invoice.lines[0].ends_on) == (DAY, YEAR_2026.end)
    assert invoice.total == up.total
    down = quote_change(up.new, YEAR_2026, DAY, Change(seats=10), price_of, is_free)
    none, ledger = settle_quote(down, ledger, invoice_id="chg-5")
    assert none is None
    assert ledger.balance == -down.total
    assert ledger.entries[-1].reason == down.lines[0].description
    with pytest.raises(ValidationFailed):
        proration_charge_line(down.lines[0])


def test_a_scheduled_change_settles_to_nothing() -> None:
    """A move to Free has no line, so no invoice and no credit."""
    q = quote_change(TEAM_10, YEAR_2026, DAY, Change(plan_id="Free", seats=3), price_of, is_free)
    assert settle_quote(q, CreditLedger(), invoice_id="x") == (None, CreditLedger())


def test_paying_twice_is_the_same_as_paying_once() -> None:
    """mark_paid is idempotent, so a repeated webhook changes nothing."""
    invoice, _ = purchase_invoice("inv-6", TEAM_10, YEAR_2026, CreditLedger())
    paid = invoice.mark_paid()
    assert paid.status == "paid"
    assert paid.mark_paid() is paid


def test_voiding_gives_back_the_credit_the_invoice_used() -> None:
    """A void invoice cannot keep the customer's credit; it cannot be paid afterwards."""
    ledger = CreditLedger().add_credit(10_000, "credit", "c", DAY)
    invoice, ledger = purchase_invoice("inv-7", TEAM_10, YEAR_2026, ledger)
    assert ledger.balance == 0
    void, ledger = invoice.void(ledger, on=DAY)
    assert (void.status, ledger.balance) == ("void", 10_000)
    assert void.void(ledger, on=DAY) == (void, ledger)
    with pytest.raises(Conflict):
        void.mark_paid()


def test_a_paid_invoice_cannot_be_voided() -> None:
    """Once paid, an invoice stays paid."""
    invoice, ledger = purchase_invoice("inv-8", TEAM_10, YEAR_2026, CreditLedger())
    with pytest.raises(Conflict):
        invoice.mark_paid().void(ledger, on=DAY)


def test_invoices_refuse_empty_lines_negative_lines_and_foreign_credit() -> None:
    """An invoice has lines, each a charge, in the ledger's currency."""
    with pytest.raises(ValidationFailed):
        issue_invoice("x", DAY, (), CreditLedger())
    with pytest.raises(ValidationFailed):
        InvoiceLine("renewal", "refund", -1, DAY, DAY)
    line = InvoiceLine("renewal", "r", 100, DAY, DAY)
    with pytest.raises(ValidationFailed):
        issue_invoice("x", DAY, (line,), CreditLedger(currency="EUR"), currency="USD")
