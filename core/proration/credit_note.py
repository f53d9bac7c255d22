"""Credit notes: a decrease's credit set against invoices of the period that are still unpaid.

A decrease credits the days it gives back (SPEC §4). While an invoice of the running
period is unpaid, that credit is money the tenant was never asked to pay yet: it
lowers what that invoice still asks for (a credit note against it, as Lago and
Stripe do for an open invoice) instead of becoming account credit that a later
invoice would spend. Only what exceeds the unpaid amounts goes to the credit ledger.

Which invoices, in which order: the invoices issued in the running period, status
``due`` with an amount still due, newest first. The newest unpaid invoice is the one
that bought the terms now being reduced (the last purchase, renewal or increase),
so a cut first takes back what was last bought; older ones follow. A paid or void
invoice is never credit-noted, and no invoice's amount due goes below zero.

The credit note's amounts are pieces of the quote's rounded line, split in whole
minor units: no second rounding, and notes plus ledger credit always equal the
line exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from core.errors import ValidationFailed

from .credit import CreditLedger
from .invoice import CreditNote, Invoice
from .line import ProrationLine

__all__ = ["CREDIT_NOTE_REASON", "CreditGrant", "CreditNote", "credit_note_invoice", "grant_credit"]

#: Why a credit note is issued; the one reason Stint has is a decrease of terms mid-period.
CREDIT_NOTE_REASON = "proration_credit"


def credit_note_invoice(invoice: Invoice, note: CreditNote) -> Invoice:
    """``invoice`` with ``note`` against it: a lower amount due, paid once nothing is left."""
    if note.invoice_id != invoice.id:
        raise ValidationFailed(f"credit note {note.id} is for invoice {note.invoice_id}, not {invoice.id}")
    if invoice.status != "due":
        raise ValidationFailed(
            f"invoice {invoice.id} is {invoice.status}: only a due invoice is credit-noted"
        )
    if note.amount > invoice.amount_due:
        raise ValidationFailed(
            f"credit note of {note.amount} exceeds the {invoice.amount_due} due on invoice {invoice.id}"
        )
    due = invoice.amount_due - note.amount
    # Nothing left to collect: the invoice is settled, as one fully paid by credit is.
    return replace(
        invoice,
        amount_due=due,
        status="paid" if due == 0 else "due",
        credit_notes=(*invoice.credit_notes, note),
    )


@dataclass(frozen=True, slots=True)
class CreditGrant:
    """Where a change's credit went: credit notes on unpaid invoices, the rest to the ledger."""

    notes: tuple[CreditNote, ...]
    invoices: tuple[Invoice, ...]
    ledger: CreditLedger
    to_ledger: int

    @property
    def against_invoices(self) -> int:
        return sum(note.amount for note in self.notes)


def _creditable(invoices: Sequence[Invoice], line: ProrationLine) -> list[Invoice]:
    period = line.period
    return [
        inv
        for inv in invoices
        if inv.status == "due"
        and inv.amount_due > 0
        and inv.currency == line.currency
        and period.start <= inv.issued_on < period.end
    ]


def grant_credit(
    lines: Sequence[ProrationLine],
    invoices: Sequence[Invoice],
    ledger: CreditLedger,
    *,
    reference: str,
    note_id: Callable[[], str],
) -> CreditGrant:
    """Grant the credit of ``lines`` (their negative amounts): against ``invoices`` first.

    ``invoices`` are the account's invoices in the order they were issued; only those of
    the line's period still due take credit notes, newest first. ``reference`` names the
    change on the ledger entries; ``note_id`` makes each credit note's id.
    """
    current = {inv.id: inv for inv in invoices}
    order = [inv.id for inv in invoices]
    notes: list[CreditNote] = []
    to_ledger = 0
    for line in lines:
        if line.amount >= 0:
            continue
        left = -line.amount
        for candidate in reversed(_creditable([current[i] for i in order], line)):
            if left == 0:
                break
            piece = min(left, candidate.amount_due)
            note = CreditNote(
                note_id(), candidate.id, piece, CREDIT_NOTE_REASON, line.description, line.on,
                line.days_left, line.period_days, line.exact_amount, line.currency,
            )
            current[candidate.id] = credit_note_invoice(candidate, note)
            notes.append(note)
            left -= piece
        if left:
            ledger = ledger.add_credit(left, line.description, reference, line.on)
            to_ledger += left
    touched = {note.invoice_id for note in notes}
    return CreditGrant(tuple(notes), tuple(current[i] for i in order if i in touched), ledger, to_ledger)
