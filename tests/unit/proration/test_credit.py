"""The credit ledger: append-only, never negative, never paid out."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import Conflict, PayoutRefused, ValidationFailed
from core.proration import PAYOUT_REFUSED, CreditEntry, CreditLedger

DAY = date(2026, 3, 5)


def test_credit_added_raises_the_balance_and_keeps_the_old_ledger() -> None:
    """Adding credit returns a new ledger; the old value is untouched."""
    empty = CreditLedger()
    ledger = empty.add_credit(536_153, "50 → 5 seats", "chg-1", DAY)
    assert (empty.balance, ledger.balance) == (0, 536_153)
    assert ledger.entries == (CreditEntry(536_153, "50 → 5 seats", "chg-1", DAY),)


def test_credit_applies_up_to_the_amount_due() -> None:
    """Credit covers what it can: all of a small invoice, part of a large one."""
    ledger = CreditLedger().add_credit(1_000, "credit", "c", DAY)
    applied, after = ledger.apply_to(300, reference="inv-1", on=DAY)
    assert (applied, after.balance) == (300, 700)
    applied, after = after.apply_to(5_000, reference="inv-2", on=DAY)
    assert (applied, after.balance) == (700, 0)
    assert [e.amount for e in after.entries] == [1_000, -300, -700]


def test_nothing_to_apply_leaves_the_ledger_as_it_was() -> None:
    """With no credit, or nothing due, no entry is written."""
    ledger = CreditLedger()
    assert ledger.apply_to(500, reference="inv", on=DAY) == (0, ledger)
    funded = ledger.add_credit(10, "c", "c", DAY)
    assert funded.apply_to(0, reference="inv", on=DAY) == (0, funded)


def test_the_balance_can_never_go_negative() -> None:
    """Using more credit than there is, now or at any point in history, is refused."""
    ledger = CreditLedger().add_credit(100, "c", "c", DAY)
    with pytest.raises(Conflict):
        ledger.append(CreditEntry(-101, "use", "inv", DAY))
    with pytest.raises(Conflict):
        CreditLedger((CreditEntry(-1, "use", "inv", DAY), CreditEntry(5, "c", "c", DAY)))


def test_credit_added_must_be_positive_and_entries_non_zero() -> None:
    """add_credit takes a positive amount; an entry of zero records nothing and is refused."""
    with pytest.raises(ValidationFailed):
        CreditLedger().add_credit(0, "c", "c", DAY)
    with pytest.raises(ValidationFailed):
        CreditLedger().add_credit(-5, "c", "c", DAY)
    with pytest.raises(ValidationFailed):
        CreditEntry(0, "c", "c", DAY)


def test_a_payout_is_always_refused_with_a_clear_message() -> None:
    """Credit is never paid out, whatever the balance."""
    ledger = CreditLedger().add_credit(464_153, "c", "c", DAY)
    with pytest.raises(PayoutRefused) as refused:
        ledger.request_payout()
    assert str(refused.value) == PAYOUT_REFUSED
    assert PAYOUT_REFUSED == "Credit is never paid out; it is applied to your next invoices."
    assert refused.value.code == "payout_refused"
