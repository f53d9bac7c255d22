"""Per-day proration, quotes, the credit ledger and invoices (SPEC §4).

Pure: exact rational arithmetic, one half-even rounding per line, no I/O.
Prices come from the caller, so this package never reads the plan catalogue.
"""

from .change import Change
from .credit import PAYOUT_REFUSED, CreditEntry, CreditLedger
from .credit_note import CREDIT_NOTE_REASON, CreditGrant, CreditNote, credit_note_invoice, grant_credit
from .invoice import (
    Invoice,
    InvoiceLine,
    InvoiceLineKind,
    InvoiceStatus,
    LineWork,
    format_invoice_number,
    issue_invoice,
    proration_charge_line,
    purchase_invoice,
    renewal_invoice,
    settle_quote,
)
from .line import LineKind, ProrationLine, prorate
from .quote import Quote, quote_change
from .settlement import Settlement, settle_change
from .terms import Terms, day_value, interval_days

__all__ = [
    "CREDIT_NOTE_REASON",
    "PAYOUT_REFUSED",
    "Change",
    "CreditEntry",
    "CreditGrant",
    "CreditLedger",
    "CreditNote",
    "Invoice",
    "InvoiceLine",
    "InvoiceLineKind",
    "InvoiceStatus",
    "LineKind",
    "LineWork",
    "ProrationLine",
    "Quote",
    "Settlement",
    "Terms",
    "credit_note_invoice",
    "day_value",
    "format_invoice_number",
    "grant_credit",
    "interval_days",
    "issue_invoice",
    "prorate",
    "proration_charge_line",
    "purchase_invoice",
    "quote_change",
    "renewal_invoice",
    "settle_change",
    "settle_quote",
]
