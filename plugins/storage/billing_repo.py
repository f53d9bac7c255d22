"""Invoices and the credit ledger, as rows: one billing account's (``InvoiceRepo``).

How an invoice's rows read and write is ``invoice_rows``; its number, ``invoice_numbers``;
the plans catalogue, ``catalogue_repo``."""

from __future__ import annotations

import builtins
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, Protocol

from core.billing.ports import ListedInvoice, StoredInvoice
from core.errors import Conflict, ValidationFailed
from core.ids import new_id
from core.proration.credit import CreditEntry, CreditLedger
from core.proration.credit_note import CreditNote
from core.proration.invoice import Invoice

from .invoice_numbers import NEXT_NUMBER
from .invoice_rows import invoice_from_row, lines_to_json, with_credit_notes
from .plain_sql import Sql, fetch
from .tables import CreditEntry as CreditRow
from .tables import CreditNote as CreditNoteRow
from .tables import Invoice as InvoiceRow
from .tables import InvoiceCounter as CounterRow

__all__ = ["InvoiceRepo"]


# Plain SQL for what a payment webhook runs (Piccolo's builder cost more than the query);
# both filter on the billing account as well as the invoice id.
_GET = Sql("SELECT * FROM invoice WHERE subscription_id = {} AND id = {}")
_MARK_PAID = Sql("UPDATE invoice SET status = 'paid', paid_at = {} WHERE subscription_id = {} AND id = {}")
# Lowered only while due and by no more than is due, in one statement: a payment that
# landed since the invoice was read makes it match nothing rather than go below zero.
_CREDIT = Sql(
    "UPDATE invoice SET amount_due = amount_due - {},"
    " status = CASE WHEN amount_due = {} THEN 'paid' ELSE status END,"
    " paid_at = CASE WHEN amount_due = {} THEN {} ELSE paid_at END"
    " WHERE subscription_id = {} AND id = {} AND status = 'due' AND amount_due >= {} RETURNING id"
)


# Due in Stint, and no money taken or on its way at the provider: a charge Stripe made
# whose invoice.paid has not arrived yet leaves the invoice "due" here for a while.
_UNPAID_IN = Sql(
    "SELECT * FROM invoice i WHERE i.subscription_id = {} AND i.status = 'due' AND i.amount_due > 0"
    " AND i.issued_on >= {} AND i.issued_on < {} AND NOT EXISTS (SELECT 1 FROM billing_remote_invoice r"
    " WHERE r.invoice_id = i.id AND r.state IN ('paid', 'paying')) ORDER BY i.created_at, i.id"
)


def _dated(row: dict[str, Any]) -> dict[str, Any]:
    if isinstance(row["issued_on"], str):  # SQLite, read raw
        return {**row, "issued_on": date.fromisoformat(row["issued_on"][:10])}
    return row


class BillingAccount(Protocol):
    """Which subscription a tenant's invoices belong to, read once per unit of work."""

    tenant_id: str

    async def subscription_id(self) -> str: ...


class InvoiceRepo:
    """One subscription's invoices and credit (a billing account: a tenant or an enterprise)."""

    def __init__(self, account: BillingAccount) -> None:
        self._account = account
        self.tenant_id = account.tenant_id

    async def add(
        self, invoice: Invoice, *, kind: str, idempotency_key: str, at: datetime
    ) -> Invoice | None:
        """Store ``invoice`` numbered; None (nothing stored, no number taken) when its
        idempotency key exists already."""
        subscription_id = await self._account.subscription_id()
        if await InvoiceRow.exists().where(InvoiceRow.idempotency_key == idempotency_key):
            return None
        [taken] = await fetch(CounterRow, NEXT_NUMBER, subscription_id)
        invoice = replace(invoice, number=int(taken["last_number"]))
        await InvoiceRow.insert(
            InvoiceRow(
                id=invoice.id,
                subscription_id=subscription_id,
                tenant_id=self.tenant_id,
                number=invoice.number,
                kind=kind,
                issued_on=invoice.issued_on,
                lines=lines_to_json(invoice.lines),
                total=invoice.total,
                credit_applied=invoice.credit_applied,
                amount_due=invoice.amount_due,
                currency=invoice.currency,
                status=invoice.status,
                idempotency_key=idempotency_key,
                paid_at=at if invoice.status == "paid" else None,
                created_at=at,
            )
        )
        return invoice

    async def list(self, *, after: str = "", limit: int = 50) -> builtins.list[ListedInvoice]:
        """Newest first; the cursor is the last invoice's ``created_at|id``."""
        subscription_id = await self._account.subscription_id()
        query = (
            InvoiceRow.select()
            .where(InvoiceRow.subscription_id == subscription_id)
            .order_by(InvoiceRow.created_at, ascending=False)
            .order_by(InvoiceRow.id, ascending=False)
            .limit(limit)
        )
        if after:
            stamp, _, last_id = after.partition("|")
            bad = ValidationFailed("this cursor did not come from a previous page", field="cursor")
            try:
                when = datetime.fromisoformat(stamp)
                if when.tzinfo is None or not last_id:
                    raise bad
                when = when.astimezone(UTC)  # year 0 or 10000 in UTC: no page ends there
            except (ValueError, OverflowError):
                raise bad from None
            query = query.where(
                (InvoiceRow.created_at < when) | ((InvoiceRow.created_at == when) & (InvoiceRow.id < last_id))
            )
        rows = await query
        invoices = await with_credit_notes([invoice_from_row(row) for row in rows])
        return [
            ListedInvoice(invoice, f"{row['created_at'].isoformat()}|{row['id']}")
            for invoice, row in zip(invoices, rows, strict=True)
        ]

    async def get(self, invoice_id: str) -> StoredInvoice | None:
        subscription_id = await self._account.subscription_id()
        rows = await fetch(InvoiceRow, _GET, subscription_id, invoice_id)
        if not rows:
            return None
        [invoice] = await with_credit_notes([invoice_from_row(rows[0])])
        return StoredInvoice(invoice, rows[0]["kind"])

    async def unpaid_in(self, start: date, end: date) -> builtins.list[Invoice]:
        subscription_id = await self._account.subscription_id()
        rows = await fetch(InvoiceRow, _UNPAID_IN, subscription_id, start, end)
        return await with_credit_notes([invoice_from_row(_dated(row)) for row in rows])

    async def add_credit_note(self, note: CreditNote, *, reference: str, at: datetime) -> None:
        subscription_id = await self._account.subscription_id()
        lowered = await fetch(
            InvoiceRow, _CREDIT, note.amount, note.amount, note.amount, at,
            subscription_id, note.invoice_id, note.amount,
        )
        if not lowered:
            raise Conflict(f"invoice {note.invoice_id} is no longer due by {note.amount}; try again")
        await CreditNoteRow.insert(
            CreditNoteRow(
                id=note.id,
                invoice_id=note.invoice_id,
                subscription_id=subscription_id,
                tenant_id=self.tenant_id,
                amount=note.amount,
                currency=note.currency,
                reason=note.reason,
                description=note.description,
                issued_on=note.issued_on,
                days_left=note.days_left,
                period_days=note.period_days,
                exact_amount=str(note.exact_amount),
                reference=reference,
                created_at=at,
            )
        )

    async def mark_paid(self, invoice_id: str, at: datetime) -> None:
        subscription_id = await self._account.subscription_id()
        await fetch(InvoiceRow, _MARK_PAID, at, subscription_id, invoice_id)

    async def ledger(self, currency: str = "USD") -> CreditLedger:
        subscription_id = await self._account.subscription_id()
        rows = (
            await CreditRow.select()
            .where(CreditRow.subscription_id == subscription_id)
            .order_by(CreditRow.position)
        )
        entries = tuple(
            CreditEntry(int(r["amount"]), r["reason"], r["reference"], r["on_date"]) for r in rows
        )
        return CreditLedger(entries, currency)

    async def save_ledger(self, before: CreditLedger, after: CreditLedger, at: datetime) -> None:
        """Append the entries ``after`` has beyond ``before`` (the ledger is append-only)."""
        subscription_id = await self._account.subscription_id()
        if after.entries[: len(before.entries)] != before.entries:
            raise ValueError("the credit ledger is append-only")
        for position, entry in enumerate(after.entries[len(before.entries) :], start=len(before.entries)):
            await CreditRow.insert(
                CreditRow(
                    id=new_id(),
                    subscription_id=subscription_id,
                    position=position,
                    amount=entry.amount,
                    reason=entry.reason[:64],
                    reference=entry.reference[:200],
                    on_date=entry.on,
                    created_at=at,
                )
            )
