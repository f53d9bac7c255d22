"""Billing's ports in memory: a billing account's invoices and credit, the payment rail, the
renewals sweep's bulk store, the provider's records and hosted pages (as ``plugins/storage``
and the payment adapters behave)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from core.audit import AuditEntry
from core.billing.ports import (
    BillingCustomer,
    CreditAppend,
    DueSubscription,
    InvoiceAccount,
    InvoicePage,
    ListedInvoice,
    NewInvoice,
    RemoteInvoice,
    RenewedSubscription,
    StoredInvoice,
)
from core.errors import Conflict, ValidationFailed
from core.proration.credit import CreditEntry, CreditLedger
from core.proration.credit_note import CreditNote, credit_note_invoice
from core.proration.invoice import Invoice
from core.tenancy import Tenant, User

from .licensing import audit_row
from .rows import BillingEventRow, FakeIntegrityError, InvoiceRow, fits
from .unit_of_work import FakeDatabase

__all__ = [
    "Collected",
    "FakeBilling",
    "FakeHostedPayments",
    "FakeInvoices",
    "FakePaymentRecords",
    "FakeRenewalStore",
]


def _insert_invoice(store: FakeDatabase, row: InvoiceRow) -> Invoice | None:
    """Store ``row`` with its account's next number unless its idempotency key is taken
    (None, no number taken); a taken id is an error."""
    fits("invoice.kind", row.kind, 32)
    fits("invoice.idempotency_key", row.idempotency_key, 200)
    if any(other.idempotency_key == row.idempotency_key for other in store.invoices.values()):
        return None
    if row.invoice.id in store.invoices:
        raise FakeIntegrityError(f"invoice {row.invoice.id} exists")
    number = store.invoice_counters.get(row.subscription_id, 0) + 1
    store.invoice_counters[row.subscription_id] = number
    row.invoice = replace(row.invoice, number=number)
    store.invoices[row.invoice.id] = row
    return row.invoice


def _append_credit(store: FakeDatabase, subscription_id: str, position: int, entry: CreditEntry) -> None:
    entries = store.credit.setdefault(subscription_id, [])
    if position != len(entries):
        # (subscription, position) is unique: a ledger read before someone else appended
        # collides here, as it does on the real table.
        raise FakeIntegrityError(f"credit position {position} of {subscription_id} is not the next one")
    entries.append(replace(entry, reason=entry.reason[:64], reference=entry.reference[:200]))


class FakeInvoices:
    """One billing account's invoices and append-only credit ledger."""

    def __init__(self, store: FakeDatabase, tenant_id: str) -> None:
        self._store = store
        self.tenant_id = tenant_id

    def _account(self) -> str:
        return self._store.subscription_of(self.tenant_id)

    async def add(
        self, invoice: Invoice, *, kind: str, idempotency_key: str, at: datetime
    ) -> Invoice | None:
        self._store.check_write("add an invoice")
        row = InvoiceRow(
            invoice, self._account(), self.tenant_id, kind, idempotency_key, created_at=at,
            paid_at=at if invoice.status == "paid" else None,
        )
        return _insert_invoice(self._store, row)

    async def list(self, *, after: str = "", limit: int = 50) -> builtins.list[ListedInvoice]:
        account = self._account()
        rows = sorted(
            (row for row in self._store.invoices.values() if row.subscription_id == account),
            key=lambda row: (row.created_at, row.invoice.id),
            reverse=True,
        )
        if after:
            stamp, _, last_id = after.partition("|")
            bad = ValidationFailed("this cursor did not come from a previous page", field="cursor")
            try:
                when = datetime.fromisoformat(stamp)
            except ValueError:
                raise bad from None
            if when.tzinfo is None or not last_id:
                raise bad
            rows = [row for row in rows if (row.created_at, row.invoice.id) < (when, last_id)]
        return [
            ListedInvoice(row.invoice, f"{row.created_at.isoformat()}|{row.invoice.id}")
            for row in rows[:limit]
        ]

    async def get(self, invoice_id: str) -> StoredInvoice | None:
        row = self._store.invoices.get(invoice_id)
        if row is None or row.subscription_id != self._account():
            return None
        return StoredInvoice(row.invoice, row.kind)

    async def mark_paid(self, invoice_id: str, at: datetime) -> None:
        self._store.check_write("mark an invoice paid")
        row = self._store.invoices.get(invoice_id)
        if row is not None and row.subscription_id == self._account():
            row.invoice = replace(row.invoice, status="paid")
            row.paid_at = at

    async def unpaid_in(self, start: date, end: date) -> builtins.list[Invoice]:
        account = self._account()
        rows = sorted(
            (
                row for row in self._store.invoices.values()
                if row.subscription_id == account and row.invoice.status == "due"
                and row.invoice.amount_due > 0 and start <= row.invoice.issued_on < end
                and self._remote_state(row.invoice.id) not in ("paid", "paying")
            ),
            key=lambda row: (row.created_at, row.invoice.id),
        )
        return [row.invoice for row in rows]

    def _remote_state(self, invoice_id: str) -> str | None:
        remote = self._store.remote_invoices.get(invoice_id)
        return remote.state if remote else None

    async def add_credit_note(self, note: CreditNote, *, reference: str, at: datetime) -> None:
        self._store.check_write("add a credit note")
        fits("credit_note.reason", note.reason, 32)
        fits("credit_note.reference", reference, 32)
        row = self._store.invoices.get(note.invoice_id)
        if (
            row is None or row.subscription_id != self._account()
            or row.invoice.status != "due" or row.invoice.amount_due < note.amount
        ):
            raise Conflict(f"invoice {note.invoice_id} is no longer due by {note.amount}; try again")
        row.invoice = credit_note_invoice(row.invoice, note)
        if row.invoice.status == "paid":
            row.paid_at = at

    async def ledger(self, currency: str = "USD") -> CreditLedger:
        return CreditLedger(tuple(self._store.credit.get(self._account(), ())), currency)

    async def save_ledger(self, before: CreditLedger, after: CreditLedger, at: datetime) -> None:
        self._store.check_write("append to the credit ledger")
        if after.entries[: len(before.entries)] != before.entries:
            raise ValueError("the credit ledger is append-only")
        account = self._account()
        for position, entry in enumerate(after.entries[len(before.entries):], start=len(before.entries)):
            _append_credit(self._store, account, position, entry)


@dataclass(frozen=True, slots=True)
class Collected:
    tenant: Tenant
    invoice: Invoice


class FakeBilling:
    """The payment rail: remembers every invoice it was given; ``failure`` makes it refuse."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.failure = failure
        self.attempts: list[Collected] = []
        self.collected: list[Collected] = []
        self.credit_notes: list[CreditNote] = []

    async def collect(self, tenant: Tenant, invoice: Invoice) -> None:
        self.attempts.append(Collected(tenant, invoice))
        if self.failure is not None:
            raise self.failure
        self.collected.append(Collected(tenant, invoice))

    async def credit(self, tenant: Tenant, invoice: Invoice, notes: Sequence[CreditNote]) -> None:
        if self.failure is not None:
            raise self.failure
        self.credit_notes.extend(notes)

    @property
    def invoices(self) -> list[Invoice]:
        """The invoices the rail took, in order."""
        return [one.invoice for one in self.collected]


class FakeHostedPayments:
    """The provider's hosted pages: answers a URL per call; ``failure`` makes it refuse."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.failure = failure
        self.checkouts: list[tuple[str, str]] = []
        self.portals: list[str] = []

    async def checkout(self, tenant: Tenant, user: User) -> str:
        if self.failure is not None:
            raise self.failure
        self.checkouts.append((tenant.id, user.id))
        return f"https://payments.example/checkout/{tenant.slug}/{len(self.checkouts)}"

    async def portal(self, tenant: Tenant) -> str:
        if self.failure is not None:
            raise self.failure
        self.portals.append(tenant.id)
        return f"https://payments.example/portal/{tenant.slug}"


class FakePaymentRecords:
    """What Stint keeps about the provider, on the store of the unit of work that handed it
    out (its working copy), so an event's claim commits or rolls back with it."""

    def __init__(self, store: FakeDatabase) -> None:
        self._db = store

    async def claim_event(self, event_id: str, event_type: str, outcome: str, at: datetime) -> bool:
        db = self._db
        db.check_write("claim a provider event")
        if event_id in db.billing_events:
            return False
        db.billing_events[event_id] = BillingEventRow(event_id, event_type[:100], outcome[:32], at)
        return True

    async def seen_event(self, event_id: str) -> bool:
        return event_id in self._db.billing_events

    async def invoice_account(self, invoice_id: str) -> InvoiceAccount | None:
        row = self._db.invoices.get(invoice_id)
        return InvoiceAccount(row.tenant_id, row.subscription_id) if row else None

    async def invoice(self, invoice_id: str) -> Invoice | None:
        row = self._db.invoices.get(invoice_id)
        return row.invoice if row else None

    async def due_invoice_ids(self, subscription_id: str) -> list[str]:
        rows = [
            row for row in self._db.invoices.values()
            if row.subscription_id == subscription_id and row.invoice.status == "due"
            and row.invoice.amount_due > 0
        ]
        return [row.invoice.id for row in sorted(rows, key=lambda row: row.created_at)]

    async def customer(self, subscription_id: str, *, for_update: bool = False) -> BillingCustomer:
        db = self._db
        if for_update:
            # The row must exist to be locked; a blank one is harmless if the caller rolls back.
            db.check_write("lock a billing customer")
            db.billing_customers.setdefault(subscription_id, BillingCustomer(subscription_id))
        return db.billing_customers.get(subscription_id) or BillingCustomer(subscription_id)

    async def customer_by_remote(self, customer_id: str) -> BillingCustomer | None:
        return next((c for c in self._db.billing_customers.values() if c.customer_id == customer_id), None)

    async def save_customer(self, customer: BillingCustomer, at: datetime) -> None:
        db = self._db
        db.check_write("save a billing customer")
        if customer.customer_id is not None and any(
            other.customer_id == customer.customer_id and other.subscription_id != customer.subscription_id
            for other in db.billing_customers.values()
        ):
            raise FakeIntegrityError(f"customer {customer.customer_id} belongs to another account")
        db.billing_customers[customer.subscription_id] = customer

    async def remote_invoice(self, invoice_id: str) -> RemoteInvoice | None:
        return self._db.remote_invoices.get(invoice_id)

    async def remote_invoice_by_remote_id(self, remote_id: str) -> RemoteInvoice | None:
        return next((r for r in self._db.remote_invoices.values() if r.remote_id == remote_id), None)

    async def save_remote_invoice(self, record: RemoteInvoice, at: datetime) -> None:
        db = self._db
        db.check_write("save a remote invoice")
        if record.remote_id is not None and any(
            other.remote_id == record.remote_id and other.invoice_id != record.invoice_id
            for other in db.remote_invoices.values()
        ):
            raise FakeIntegrityError(f"remote invoice {record.remote_id} belongs to another invoice")
        existing = db.remote_invoices.get(record.invoice_id)
        # The account of a remote invoice is set when it is first stored, never moved.
        account = (existing.subscription_id, existing.tenant_id) if existing else (
            record.subscription_id, record.tenant_id
        )
        db.remote_invoices[record.invoice_id] = replace(
            record, subscription_id=account[0], tenant_id=account[1],
            last_error=(record.last_error or None) and record.last_error[:2000],
        )

    async def set_remote_state(self, invoice_id: str, state: str, at: datetime) -> None:
        db = self._db
        db.check_write("move a remote invoice")
        record = db.remote_invoices.get(invoice_id)
        if record is not None and record.state != "paid":
            db.remote_invoices[invoice_id] = replace(record, state=state)

    async def unsent_invoices(self, *, after: str, limit: int, created_before: datetime) -> InvoicePage:
        db = self._db
        page = sorted(
            (
                row for row in db.invoices.values()
                if row.invoice.status == "due" and row.invoice.id > after and row.invoice.amount_due > 0
                and row.created_at < created_before
            ),
            key=lambda row: row.invoice.id,
        )[:limit]
        if not page:
            return InvoicePage([], None)
        wanted = []
        for row in page:
            remote = db.remote_invoices.get(row.invoice.id)
            customer = db.billing_customers.get(row.subscription_id)
            with_card = customer is not None and customer.payment_method_id is not None
            if (
                remote is None
                or remote.remote_id is None
                or remote.state in ("new", "draft", "paying")
                or (remote.state == "open" and with_card)
            ):
                wanted.append(row.invoice.id)
        return InvoicePage(wanted, page[-1].invoice.id if len(page) == limit else None)


class FakeRenewalStore:
    """The renewals sweep's bulk reads and writes, one batch at a time.

    ``lock`` leaves out the subscriptions in ``store.locked_elsewhere`` with ``skip_locked``;
    without it, it raises, since a fake cannot wait for another transaction.
    """

    def __init__(self, store: FakeDatabase) -> None:
        self._store = store

    async def lock(self, subscription_ids: Sequence[str], *, skip_locked: bool) -> list[DueSubscription]:
        self._store.check_write("lock subscriptions")
        held = []
        for sub_id in sorted(subscription_ids):
            stored = self._store.subscriptions.get(sub_id)
            if stored is None:
                continue
            if sub_id in self._store.locked_elsewhere:
                if skip_locked:
                    continue
                raise RuntimeError(f"subscription {sub_id} is held by another transaction: this would wait")
            held.append(DueSubscription(sub_id, stored.subscription, stored.currency))
        return held

    async def seats_held(self, subscription_ids: Sequence[str]) -> dict[str, int]:
        return {
            sub_id: len(self._store.seats[sub_id]) for sub_id in subscription_ids
            if self._store.seats.get(sub_id)
        }

    async def existing_invoice_keys(self, keys: Sequence[str]) -> set[str]:
        wanted = set(keys)
        return {row.idempotency_key for row in self._store.invoices.values() if row.idempotency_key in wanted}

    async def ledgers(self, currencies: dict[str, str]) -> dict[str, CreditLedger]:
        return {
            sub_id: CreditLedger(tuple(self._store.credit.get(sub_id, ())), currency)
            for sub_id, currency in currencies.items()
        }

    async def save(self, saved: Sequence[RenewedSubscription], at: datetime) -> None:
        self._store.check_write("save subscriptions")
        for one in saved:
            self._store.note_change(f"s:{one.subscription_id}")
            stored = self._store.subscriptions.get(one.subscription_id)
            if stored is None:
                continue
            stored.subscription = one.subscription
            if one.seat_price is not None:
                stored.seat_price = one.seat_price
            stored.updated_at = at
            stored.version += 1

    async def add_invoices(
        self, invoices: Sequence[NewInvoice], *, kind: str, at: datetime
    ) -> list[Invoice]:
        self._store.check_write("add invoices")
        stored = []
        for new in invoices:
            numbered = _insert_invoice(self._store, InvoiceRow(
                new.invoice, new.subscription_id, new.tenant_id, kind, new.idempotency_key, created_at=at,
                paid_at=at if new.invoice.status == "paid" else None,
            ))
            if numbered is None:
                # The real store takes the numbers before inserting: a taken key would leave a gap.
                raise FakeIntegrityError(f"invoice key {new.idempotency_key} exists: check it first")
            stored.append(numbered)
        return stored

    async def append_credit(self, entries: Sequence[CreditAppend], at: datetime) -> None:
        self._store.check_write("append credit")
        for one in entries:
            _append_credit(self._store, one.subscription_id, one.position, one.entry)

    async def audit(self, entries: Sequence[AuditEntry], at: datetime) -> None:
        self._store.check_write("write the audit log")
        for e in entries:
            self._store.audit.append(audit_row(e.tenant_id, e.actor, e.action, e.subject, e.detail, at))
