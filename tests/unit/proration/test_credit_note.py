"""Credit notes: a decrease's credit lowers the period's unpaid invoices before it becomes account credit."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationFailed
from core.periods import Interval, first_period, period_after
from core.proration import (
    CREDIT_NOTE_REASON,
    Change,
    CreditLedger,
    CreditNote,
    Invoice,
    Quote,
    Terms,
    credit_note_invoice,
    purchase_invoice,
    quote_change,
    settle_change,
    settle_quote,
)

from .catalogue import is_free, price_of

YEAR_2026 = first_period(date(2026, 1, 1), Interval.ANNUAL)
TEAM_10 = Terms("Team", Interval.ANNUAL, 10, 14_400)


def ids(prefix: str = "cn") -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"{prefix}-{next(counter)}"


def bought_ten() -> Invoice:
    invoice, _ = purchase_invoice("inv-1", TEAM_10, YEAR_2026, CreditLedger())
    return invoice


def cut(to: int, on: date, current: Terms = TEAM_10) -> Quote:
    return quote_change(current, YEAR_2026, on, Change(seats=to), price_of, is_free)


def test_a_same_day_cut_lowers_the_unpaid_purchase_and_grants_no_account_credit() -> None:
    """The issue's case: 10 seats bought (1,440.00 due), 5 cut that day: 720.00 due, no ledger credit."""
    down = cut(5, YEAR_2026.start)
    done = settle_change(down, CreditLedger(), [bought_ten()], invoice_id="chg", note_id=ids())
    assert done.invoice is None
    assert done.ledger == CreditLedger() and done.to_ledger == 0
    (note,) = done.credit_notes
    assert (note.id, note.invoice_id, note.amount) == ("cn-1", "inv-1", 72_000)
    assert note.reason == CREDIT_NOTE_REASON
    assert (note.issued_on, note.days_left, note.period_days) == (YEAR_2026.start, 365, 365)
    assert note.amount == -down.lines[0].amount
    assert note.description == down.lines[0].description
    (after,) = done.credited_invoices
    assert (after.total, after.amount_due, after.status) == (144_000, 72_000, "due")
    assert after.lines == bought_ten().lines and after.credit_notes == (note,)
    assert done.against_invoices == 72_000


def test_a_paid_invoice_is_never_credit_noted_and_the_credit_goes_to_the_ledger() -> None:
    """Once the seats are paid for, the same cut is account credit, as SPEC §4 says."""
    down = cut(5, YEAR_2026.start)
    done = settle_change(down, CreditLedger(), [bought_ten().mark_paid()], invoice_id="chg", note_id=ids())
    assert done.credit_notes == () and done.credited_invoices == ()
    assert (done.to_ledger, done.ledger.balance) == (72_000, 72_000)
    assert done.ledger.entries[0].reference == "chg"


def test_credit_beyond_the_amount_due_goes_to_the_ledger_and_the_invoice_is_settled() -> None:
    """An invoice partly paid by credit has less due: the note takes only that, the rest is credit."""
    ledger = CreditLedger().add_credit(100_000, "earlier", "x", YEAR_2026.start)
    invoice, ledger = purchase_invoice("inv-1", TEAM_10, YEAR_2026, ledger)
    assert invoice.amount_due == 44_000
    done = settle_change(cut(1, YEAR_2026.start), ledger, [invoice], invoice_id="chg", note_id=ids())
    (note,) = done.credit_notes
    assert note.amount == 44_000
    (after,) = done.credited_invoices
    assert (after.amount_due, after.status) == (0, "paid")
    assert done.to_ledger == 9 * 14_400 - 44_000 == done.ledger.balance


def test_the_newest_unpaid_invoice_of_the_period_is_credited_first() -> None:
    """Bought 10, grew to 50 (unpaid), cut to 5: the growth's invoice takes the credit first."""
    first = bought_ten()
    up = cut(50, date(2026, 1, 22))
    grew = settle_change(up, CreditLedger(), [first], invoice_id="inv-2", note_id=ids())
    assert grew.invoice is not None and grew.invoice.amount_due == 542_860
    down = cut(5, date(2026, 3, 5), up.new)
    done = settle_change(down, CreditLedger(), [first, grew.invoice], invoice_id="chg", note_id=ids())
    assert [(n.invoice_id, n.amount) for n in done.credit_notes] == [("inv-2", 536_153)]
    assert done.credited_invoices[0].amount_due == 542_860 - 536_153
    assert done.to_ledger == 0


def test_a_credit_larger_than_the_newest_invoice_moves_on_to_the_older_ones() -> None:
    """Split in whole minor units, newest first; the notes add up to the line exactly."""
    first = bought_ten()
    up = cut(11, date(2026, 6, 1))
    grew = settle_change(up, CreditLedger(), [first], invoice_id="inv-2", note_id=ids())
    assert grew.invoice is not None
    down = cut(2, date(2026, 6, 1), up.new)
    done = settle_change(down, CreditLedger(), [first, grew.invoice], invoice_id="chg", note_id=ids("n"))
    assert [n.invoice_id for n in done.credit_notes] == ["inv-2", "inv-1"]
    assert done.credit_notes[0].amount == grew.invoice.amount_due
    assert done.against_invoices + done.to_ledger == -down.total
    assert done.to_ledger == 0
    assert [i.id for i in done.credited_invoices] == ["inv-1", "inv-2"]
    assert done.credited_invoices[1].status == "paid"


def test_invoices_of_an_earlier_period_are_left_to_be_paid() -> None:
    """Last year's unpaid renewal is another period's debt: this period's credit goes to the ledger."""
    last_year, _ = purchase_invoice(
        "old", TEAM_10, first_period(date(2025, 1, 1), Interval.ANNUAL), CreditLedger()
    )
    period = period_after(first_period(date(2025, 1, 1), Interval.ANNUAL), Interval.ANNUAL)
    assert period == YEAR_2026
    done = settle_change(cut(5, date(2026, 2, 1)), CreditLedger(), [last_year], invoice_id="c", note_id=ids())
    assert done.credit_notes == () and done.ledger.balance == done.to_ledger > 0


def test_with_no_unpaid_invoice_settling_a_change_is_settling_its_quote() -> None:
    """The whole rule reduces to the ledger rule when nothing is unpaid."""
    for quote in (cut(12, date(2026, 4, 1)), cut(3, date(2026, 4, 1))):
        ledger = CreditLedger().add_credit(5_000, "c", "c", YEAR_2026.start)
        done = settle_change(quote, ledger, [], invoice_id="x", note_id=ids())
        assert (done.invoice, done.ledger) == settle_quote(quote, ledger, invoice_id="x")


def test_a_credit_note_is_refused_on_a_paid_invoice_or_beyond_its_amount_due() -> None:
    """The invoice's own guard: never below zero, never a paid or void invoice, never another's."""
    invoice = bought_ten()
    note = CreditNote("n", "inv-1", 144_001, CREDIT_NOTE_REASON, "x", YEAR_2026.start, 1, 365, 0)
    with pytest.raises(ValidationFailed):
        credit_note_invoice(invoice, note)
    fits = CreditNote("n", "inv-1", 100, CREDIT_NOTE_REASON, "x", YEAR_2026.start, 1, 365, 0)
    with pytest.raises(ValidationFailed):
        credit_note_invoice(invoice.mark_paid(), fits)
    with pytest.raises(ValidationFailed):
        credit_note_invoice(
            invoice, CreditNote("n", "other", 100, CREDIT_NOTE_REASON, "x", YEAR_2026.start, 1, 1, 0)
        )
    with pytest.raises(ValidationFailed):
        CreditNote("n", "inv-1", 0, CREDIT_NOTE_REASON, "x", YEAR_2026.start, 1, 365, 0)
    assert credit_note_invoice(invoice, fits).credited == 100


# Properties -----------------------------------------------------------------------------

statuses = st.sampled_from(("due", "paid", "void"))


@st.composite
def account_invoices(draw: st.DrawFn) -> list[Invoice]:
    """Invoices of the year and of the year before, some paid or void, some partly paid by credit."""
    found = []
    for n in range(draw(st.integers(0, 5))):
        total = draw(st.integers(1, 2_000_000))
        applied = draw(st.integers(0, total))
        due = total - applied
        status = draw(statuses) if due else "paid"
        day = draw(st.dates(date(2025, 6, 1), date(2026, 12, 31)))
        found.append(Invoice(f"i{n}", day, (), total, applied, due, status))
    return found


@given(
    account_invoices(),
    st.integers(1, 300),
    st.integers(1, 300),
    st.integers(0, 364),
    st.integers(0, 10**6),
)
def test_credit_notes_and_ledger_credit_always_add_up_to_the_quotes_credit(
    invoices: list[Invoice], seats: int, to: int, offset: int, balance: int
) -> None:
    """Credit notes + ledger credit == the quote's credit; no amount due below 0; paid, void
    and other periods' invoices are never credit-noted."""
    current = Terms("Team", Interval.ANNUAL, seats, 14_400)
    if seats == to:
        to = seats + 1
    quote = cut(to, YEAR_2026.start + timedelta(days=offset), current)
    ledger = CreditLedger().add_credit(balance, "c", "c", YEAR_2026.start) if balance else CreditLedger()
    done = settle_change(quote, ledger, invoices, invoice_id="chg", note_id=ids())
    credit = -sum(line.amount for line in quote.lines if line.amount < 0)
    assert done.against_invoices + done.to_ledger == credit
    applied = done.invoice.credit_applied if done.invoice else 0
    assert done.ledger.balance == balance + done.to_ledger - applied
    before = {inv.id: inv for inv in invoices}
    for after in done.credited_invoices:
        was = before[after.id]
        assert was.status == "due"
        assert YEAR_2026.start <= was.issued_on < YEAR_2026.end
        assert 0 <= after.amount_due == was.amount_due - after.credited
        assert (after.total, after.lines) == (was.total, was.lines)
    # Credit goes to the ledger only when no unpaid invoice of the period is left to lower.
    if done.to_ledger:
        credited = {inv.id: inv for inv in done.credited_invoices}
        assert all(
            credited.get(inv.id, inv).amount_due == 0
            for inv in invoices
            if inv.status == "due" and YEAR_2026.start <= inv.issued_on < YEAR_2026.end
        )
