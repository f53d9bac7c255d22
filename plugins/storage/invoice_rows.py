"""An invoice and its credit notes as rows: the invoice's lines (with each proration's
work) as the JSON its ``lines`` column holds, an ``invoice`` row read back into an
``Invoice``, and the credit notes attached to the invoices read (one statement for them
all). Every reader of invoice rows uses these: ``InvoiceRepo`` (``billing_repo``), the
payments' records (``payment_records``) and the renewals' batches (``renewals_repo``)."""

from __future__ import annotations

import builtins
import json
from dataclasses import replace
from datetime import date
from fractions import Fraction
from typing import Any

from core.proration.credit_note import CreditNote
from core.proration.invoice import Invoice, InvoiceLine, LineWork

from .plain_sql import fetch_in
from .tables import CreditNote as CreditNoteRow

__all__ = [
    "credit_notes_of",
    "invoice_from_row",
    "lines_to_json",
    "with_credit_notes",
]


def _line_to_dict(line: InvoiceLine) -> dict[str, Any]:
    item: dict[str, Any] = {
        "kind": line.kind,
        "description": line.description,
        "amount": line.amount,
        "starts_on": line.starts_on.isoformat(),
        "ends_on": line.ends_on.isoformat(),
    }
    if line.work is not None:
        work = line.work
        item["work"] = {
            "days_left": work.days_left,
            "period_days": work.period_days,
            "old_seats": work.old_seats,
            "old_seat_price": work.old_seat_price,
            "old_days": work.old_days,
            "new_seats": work.new_seats,
            "new_seat_price": work.new_seat_price,
            "new_days": work.new_days,
            # Exact, as "p/q": the amount before its one rounding.
            "exact_amount": str(work.exact_amount),
        }
    return item


def _work_from_dict(item: dict[str, Any] | None) -> LineWork | None:
    if not item:
        return None
    return LineWork(
        days_left=int(item["days_left"]),
        period_days=int(item["period_days"]),
        old_seats=int(item["old_seats"]),
        old_seat_price=int(item["old_seat_price"]),
        old_days=int(item["old_days"]),
        new_seats=int(item["new_seats"]),
        new_seat_price=int(item["new_seat_price"]),
        new_days=int(item["new_days"]),
        exact_amount=Fraction(item["exact_amount"]),
    )


def lines_to_json(lines: tuple[InvoiceLine, ...]) -> str:
    return json.dumps([_line_to_dict(line) for line in lines])


def credit_note_from_row(row: dict[str, Any]) -> CreditNote:
    return CreditNote(
        id=row["id"],
        invoice_id=row["invoice_id"],
        amount=int(row["amount"]),
        reason=row["reason"],
        description=row["description"],
        # Read raw on SQLite, a DATE may come back as its text.
        issued_on=date.fromisoformat(row["issued_on"][:10]) if isinstance(row["issued_on"], str)
        else row["issued_on"],
        days_left=int(row["days_left"]),
        period_days=int(row["period_days"]),
        exact_amount=Fraction(row["exact_amount"]),
        currency=row["currency"],
    )


_NOTES_OF = "SELECT * FROM credit_note WHERE invoice_id IN ({in}) ORDER BY created_at, id"


async def credit_notes_of(invoice_ids: builtins.list[str]) -> dict[str, tuple[CreditNote, ...]]:
    """The credit notes of these invoices, oldest first, by invoice id (one statement)."""
    if not invoice_ids:
        return {}
    found: dict[str, builtins.list[CreditNote]] = {}
    for row in await fetch_in(CreditNoteRow, _NOTES_OF, invoice_ids):
        found.setdefault(row["invoice_id"], []).append(credit_note_from_row(row))
    return {invoice_id: tuple(notes) for invoice_id, notes in found.items()}


async def with_credit_notes(invoices: builtins.list[Invoice]) -> builtins.list[Invoice]:
    """The invoices with their credit notes attached."""
    # Only a credited invoice is due less than its total less the credit applied, so the
    # common read (every webhook's) costs no extra statement.
    credited = [inv.id for inv in invoices if inv.amount_due < inv.total - inv.credit_applied]
    notes = await credit_notes_of(credited)
    return [replace(inv, credit_notes=notes[inv.id]) if inv.id in notes else inv for inv in invoices]


def invoice_from_row(row: dict[str, Any]) -> Invoice:
    lines = tuple(
        InvoiceLine(
            item["kind"],
            item["description"],
            int(item["amount"]),
            date.fromisoformat(item["starts_on"]),
            date.fromisoformat(item["ends_on"]),
            _work_from_dict(item.get("work")),
        )
        for item in json.loads(row["lines"])
    )
    return Invoice(
        id=row["id"],
        issued_on=row["issued_on"],
        lines=lines,
        total=int(row["total"]),
        credit_applied=int(row["credit_applied"]),
        amount_due=int(row["amount_due"]),
        status=row["status"],
        currency=row["currency"],
        number=int(row["number"]),
    )
