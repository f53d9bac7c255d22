"""Invoices, the credit ledger and the plan catalogue, as rows."""

from __future__ import annotations

import builtins
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any, Protocol

from core.billing.ports import ListedInvoice, StoredInvoice
from core.errors import Conflict, ValidationFailed
from core.ids import new_id
from core.licensing.catalogue import DEFAULT_CATALOGUE, PlanCatalogue
from core.licensing.plan_dicts import plan_from_dict, plan_to_dict
from core.licensing.plans import Plan
from core.proration.credit import CreditEntry, CreditLedger
from core.proration.credit_note import CreditNote
from core.proration.invoice import Invoice, InvoiceLine, LineWork

from .plain_sql import Sql, fetch, fetch_in
from .tables import CreditEntry as CreditRow
from .tables import CreditNote as CreditNoteRow
from .tables import Invoice as InvoiceRow
from .tables import InvoiceCounter as CounterRow
from .tables import PlanCatalogue as PlanRow

__all__ = [
    "CatalogueRepo",
    "credit_notes_of",
    "invoice_from_row",
    "lines_to_json",
    "take_numbers",
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


# The account's next invoice number, in one statement: the upsert locks the counter row
# until the transaction ends (another invoice of the account waits here; on SQLite the
# write unit of work holds the database's lock already), and a rollback gives it back.
_NEXT_NUMBER = Sql(
    "INSERT INTO invoice_counter (subscription_id, last_number) VALUES ({}, 1)"
    " ON CONFLICT (subscription_id) DO UPDATE SET last_number = invoice_counter.last_number + 1"
    " RETURNING last_number"
)


async def take_numbers(counts: dict[str, int]) -> dict[str, int]:
    """Take ``counts[account]`` numbers for each account; the last number taken, by account.

    One statement per thousand accounts, in account order (two sweeps lock counters in
    the same order, so they cannot deadlock on them). The caller gives the account's
    invoices ``last − count + 1 … last`` in order.
    """
    last: dict[str, int] = {}
    accounts = sorted(account for account, count in counts.items() if count > 0)
    for start in range(0, len(accounts), 1000):
        chunk = accounts[start : start + 1000]
        values = ", ".join(["({}, {})"] * len(chunk))
        sql = Sql(
            f"INSERT INTO invoice_counter (subscription_id, last_number) VALUES {values}"
            " ON CONFLICT (subscription_id) DO UPDATE"
            " SET last_number = invoice_counter.last_number + excluded.last_number"
            " RETURNING subscription_id, last_number"
        )
        args = [value for account in chunk for value in (account, counts[account])]
        for row in await fetch(CounterRow, sql, *args):
            last[row["subscription_id"]] = int(row["last_number"])
    return last


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
        [taken] = await fetch(CounterRow, _NEXT_NUMBER, subscription_id)
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


# Every worklog write checks its plan's limits: the subscription's plan comes with its
# stored definition in the statement that reads the plan id, so the check costs no more
# statements than reading the subscription did.
_PLAN_OF = Sql(
    "SELECT s.plan_id, p.data FROM subscription s"
    " LEFT JOIN plan_catalogue p ON p.id = s.plan_id WHERE s.id = {}"
)


class CatalogueRepo:
    """The plans catalogue: data, seeded with the defaults at install, edited by operators."""

    async def load(self) -> PlanCatalogue:
        rows = await PlanRow.select().order_by(PlanRow.position)
        if not rows:
            return DEFAULT_CATALOGUE
        return PlanCatalogue.of(plan_from_dict(json.loads(row["data"])) for row in rows)

    async def plan_of(self, subscription_id: str) -> Plan:
        rows = await fetch(PlanRow, _PLAN_OF, subscription_id)
        if not rows:
            raise LookupError(f"no subscription {subscription_id}")
        plan_id, data = rows[0]["plan_id"], rows[0]["data"]
        if data is None:
            # Not stored: either the catalogue was never seeded (the defaults hold) or it
            # no longer has this plan; load() tells which.
            return (await self.load()).get(plan_id)
        return plan_from_dict(json.loads(data))

    async def seed(self, at: datetime) -> int:
        """Insert the default plans that are missing; existing (possibly edited) plans stay."""
        existing = {row["id"] for row in await PlanRow.select(PlanRow.id)}
        added = 0
        for position, plan in enumerate(DEFAULT_CATALOGUE):
            if plan.id not in existing:
                await PlanRow.insert(
                    PlanRow(id=plan.id, data=json.dumps(plan_to_dict(plan)), position=position, updated_at=at)
                )
                added += 1
        return added

    async def save(self, plan: Plan, at: datetime) -> None:
        data = json.dumps(plan_to_dict(plan))
        if await PlanRow.exists().where(PlanRow.id == plan.id):
            await PlanRow.update({PlanRow.data: data, PlanRow.updated_at: at}).where(PlanRow.id == plan.id)
        else:
            position = await PlanRow.count()
            await PlanRow.insert(PlanRow(id=plan.id, data=data, position=position, updated_at=at))
