"""Settling a quoted change: credit against unpaid invoices, then ledger credit, then charges.

Applying a change is settling its quote, so what the preview says (how much lowers
unpaid invoices, how much becomes account credit, what is charged) is what happens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .credit import CreditLedger
from .credit_note import CreditNote, grant_credit
from .invoice import Invoice, issue_invoice, proration_charge_line
from .quote import Quote

__all__ = ["Settlement", "settle_change"]


@dataclass(frozen=True, slots=True)
class Settlement:
    """What a change does to the account's money.

    ``credit_notes`` lower ``credited_invoices`` (the invoices as they are after them);
    ``to_ledger`` is the credit the ledger gained; ``invoice`` charges what the change costs.
    """

    invoice: Invoice | None
    ledger: CreditLedger
    credit_notes: tuple[CreditNote, ...]
    credited_invoices: tuple[Invoice, ...]
    to_ledger: int

    @property
    def against_invoices(self) -> int:
        return sum(note.amount for note in self.credit_notes)


def settle_change(
    quote: Quote,
    ledger: CreditLedger,
    invoices: Sequence[Invoice],
    *,
    invoice_id: str,
    note_id: Callable[[], str],
) -> Settlement:
    """Apply a quoted change to the account: its credit first, against unpaid invoices of the
    period then to the ledger; its charges on one invoice, paid from the ledger first.

    ``invoices`` are the account's invoices in issue order (any status: the rule picks);
    ``invoice_id`` names the charge invoice and references the ledger entries.
    """
    grant = grant_credit(quote.lines, invoices, ledger, reference=invoice_id, note_id=note_id)
    charges = tuple(proration_charge_line(line) for line in quote.lines if line.amount > 0)
    invoice = None
    after = grant.ledger
    if charges:
        invoice, after = issue_invoice(invoice_id, quote.on, charges, after, quote.currency)
    return Settlement(invoice, after, grant.notes, grant.invoices, grant.to_ledger)
