"""Billing's ports: a billing account's invoices and credit, the payment rail, the
renewals sweep's bulk store, and what Stint keeps about the payment provider (SPEC §4, §10)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from core.audit import AuditEntry
from core.licensing import Subscription
from core.proration import CreditEntry, CreditLedger, CreditNote, Invoice
from core.tenancy import Tenant, User

__all__ = [
    "Billing",
    "BillingCustomer",
    "CreditAppend",
    "DueSubscription",
    "HostedPayments",
    "InvoiceAccount",
    "InvoicePage",
    "Invoices",
    "ListedInvoice",
    "NewInvoice",
    "PaymentRecords",
    "RemoteInvoice",
    "RenewalStore",
    "RenewedSubscription",
    "StoredInvoice",
]


@dataclass(frozen=True, slots=True)
class StoredInvoice:
    """An invoice and why it was issued (``kind``: purchase, change, renewal …)."""

    invoice: Invoice
    kind: str


@dataclass(frozen=True, slots=True)
class ListedInvoice:
    """An invoice in a list, with the opaque cursor that continues the list after it."""

    invoice: Invoice
    cursor: str


@dataclass(frozen=True, slots=True)
class RenewedSubscription:
    """A subscription the sweep stores, with its new seat price (None: keep the stored one)."""

    subscription_id: str
    subscription: Subscription
    seat_price: int | None = None


@dataclass(frozen=True, slots=True)
class NewInvoice:
    """An invoice the sweep issues to one subscription, once per idempotency key."""

    subscription_id: str
    tenant_id: str
    invoice: Invoice
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class CreditAppend:
    """A credit entry appended at ``position`` of a subscription's ledger."""

    subscription_id: str
    position: int
    entry: CreditEntry


@dataclass(frozen=True, slots=True)
class InvoiceAccount:
    """The billing account a Stint invoice belongs to."""

    tenant_id: str
    subscription_id: str


@dataclass(frozen=True, slots=True)
class InvoicePage:
    """A page of invoice ids and where the next page starts (None after the last)."""

    ids: list[str]
    next_after: str | None


class Invoices(Protocol):
    """One billing account's invoices, their credit notes and the append-only credit ledger.

    Every invoice read (``list``, ``get``, ``unpaid_in``) carries its credit notes.
    """

    async def add(
        self, invoice: Invoice, *, kind: str, idempotency_key: str, at: datetime
    ) -> Invoice | None:
        """Store ``invoice`` with the account's next invoice number, taken in the unit of
        work's transaction (so a rolled-back invoice leaves no gap), and return it numbered;
        None (nothing stored, no number taken) if the idempotency key was used before."""
        ...

    async def list(self, *, after: str = "", limit: int = 50) -> builtins.list[ListedInvoice]:
        """Newest first, after the cursor ``after`` (a previous page's last ``cursor``)."""
        ...

    async def get(self, invoice_id: str) -> StoredInvoice | None: ...

    async def mark_paid(self, invoice_id: str, at: datetime) -> None: ...

    async def unpaid_in(self, start: date, end: date) -> builtins.list[Invoice]:
        """The invoices issued in ``[start, end)`` still due (amount due > 0), in issue order,
        leaving out those whose payment the provider has taken or is taking (its
        ``invoice.paid`` may not have arrived yet): money on its way is not unpaid."""
        ...

    async def add_credit_note(self, note: CreditNote, *, reference: str, at: datetime) -> None:
        """Store ``note`` and lower its invoice's amount due by its amount (paid at zero), in
        the unit of work's transaction; :class:`~core.errors.Conflict` (nothing written) when
        the invoice is no longer due or has less due than the note credits."""
        ...

    async def ledger(self, currency: str = "USD") -> CreditLedger: ...

    async def save_ledger(self, before: CreditLedger, after: CreditLedger, at: datetime) -> None: ...


class Billing(Protocol):
    """The payment rail (SPEC §10). Stint computes every amount; the rail only collects it.

    Called after the invoice is committed, so a failing rail never loses an invoice.
    """

    async def collect(self, tenant: Tenant, invoice: Invoice) -> None: ...

    async def credit(self, tenant: Tenant, invoice: Invoice, notes: Sequence[CreditNote]) -> None:
        """``notes`` were committed against ``invoice`` (as it is after them): the rail must
        never collect more than its lowered amount due."""
        ...


@dataclass(frozen=True, slots=True)
class DueSubscription:
    """A subscription the renewals sweep holds locked for the rest of its transaction."""

    id: str
    subscription: Subscription
    currency: str


class RenewalStore(Protocol):
    """Subscriptions, invoices, credit and audit rows many at a time, for the renewals sweep.

    The sweep renews thousands of subscriptions: it reads and writes them a batch per
    statement, not one at a time. Only good inside a write unit of work.
    """

    async def lock(self, subscription_ids: Sequence[str], *, skip_locked: bool) -> list[DueSubscription]:
        """Lock and read these subscriptions (until the transaction ends); ``skip_locked``
        leaves out those another transaction holds instead of waiting for them."""
        ...

    async def seats_held(self, subscription_ids: Sequence[str]) -> dict[str, int]: ...

    async def existing_invoice_keys(self, keys: Sequence[str]) -> set[str]: ...

    async def ledgers(self, currencies: dict[str, str]) -> dict[str, CreditLedger]:
        """The credit ledger of each subscription (keys: subscription id → its currency)."""
        ...

    async def save(self, saved: Sequence[RenewedSubscription], at: datetime) -> None: ...

    async def add_invoices(
        self, invoices: Sequence[NewInvoice], *, kind: str, at: datetime
    ) -> list[Invoice]:
        """Store each invoice with its account's next numbers (an account's invoices numbered
        in the order given, in a statement or two for the whole batch) and return them
        numbered. The keys must be new (checked under the subscriptions' locks with
        :meth:`existing_invoice_keys`): a number is never taken for an invoice not stored."""
        ...

    async def append_credit(self, entries: Sequence[CreditAppend], at: datetime) -> None: ...

    async def audit(self, entries: Sequence[AuditEntry], at: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class BillingCustomer:
    """A billing account (a subscription: one tenant, or a whole enterprise) at the provider."""

    subscription_id: str
    customer_id: str | None = None
    email: str | None = None
    payment_method_id: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteInvoice:
    """How far one Stint invoice got at the provider.

    ``state``: ``new`` (nothing sent yet), ``draft`` (created there), ``open`` (finalised,
    awaiting payment), ``paying`` (a charge was asked for and its answer has not come: a
    retry repeats it under the same key), ``failed`` (the last attempt was refused), ``paid``.
    """

    invoice_id: str
    subscription_id: str
    tenant_id: str
    state: str = "new"
    remote_id: str | None = None
    pay_attempts: int = 0
    last_error: str | None = None


class PaymentRecords(Protocol):
    """What Stint keeps about the payment provider, as handed out by a unit of work
    (:meth:`~core.unit_of_work.UnitOfWork.payments`): its reads and writes are that unit of
    work's, so an event id is stored in the same transaction as the event's effect."""

    async def claim_event(self, event_id: str, event_type: str, outcome: str, at: datetime) -> bool:
        """Record a provider event id; False (nothing written) when it was recorded before."""
        ...

    async def seen_event(self, event_id: str) -> bool: ...

    async def invoice_account(self, invoice_id: str) -> InvoiceAccount | None:
        """The account a Stint invoice belongs to, or None when there is no such invoice."""
        ...

    async def invoice(self, invoice_id: str) -> Invoice | None: ...

    async def due_invoice_ids(self, subscription_id: str) -> list[str]:
        """The account's invoices still waiting for money (status ``due``, amount due > 0)."""
        ...

    async def customer(self, subscription_id: str, *, for_update: bool = False) -> BillingCustomer:
        """The account's provider customer (a blank one when none yet); ``for_update`` locks it."""
        ...

    async def customer_by_remote(self, customer_id: str) -> BillingCustomer | None: ...

    async def save_customer(self, customer: BillingCustomer, at: datetime) -> None: ...

    async def remote_invoice(self, invoice_id: str) -> RemoteInvoice | None: ...

    async def remote_invoice_by_remote_id(self, remote_id: str) -> RemoteInvoice | None: ...

    async def save_remote_invoice(self, record: RemoteInvoice, at: datetime) -> None: ...

    async def set_remote_state(self, invoice_id: str, state: str, at: datetime) -> None:
        """Move a remote invoice to ``state`` unless it is ``paid`` already (one statement)."""
        ...

    async def unsent_invoices(
        self, *, after: str, limit: int, created_before: datetime
    ) -> InvoicePage:
        """A page of due invoices, by id after ``after``, that a push can still move on.

        Due with an amount to pay, created before ``created_before``, and at the provider:
        not at all, only partly (``new``, ``draft``), a charge whose answer never came
        (``paying``), or finalised (``open``) while the account has a payment method.
        """
        ...


class HostedPayments(Protocol):
    """The provider's hosted pages: collecting a payment method, and managing cards."""

    async def checkout(self, tenant: Tenant, user: User) -> str:
        """The URL of a hosted page that collects a payment method for the tenant's account."""
        ...

    async def portal(self, tenant: Tenant) -> str:
        """The URL of the provider's customer portal for the tenant's account."""
        ...
