"""Payment-provider events and the rules that say what each one means for Stint (SPEC §10).

The provider's adapter verifies a delivery and translates it into one of the events
below; an event of any other kind is not Stint's business. The use case
(``core.services.billing_events``) asks these rules what an event counts as, and reads
the provider only where a rule says the event alone cannot settle it: events may arrive
late, twice, or out of order, so whatever can have changed since is read as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .ports import BillingCustomer, RemoteInvoice
from .provider import ProviderCustomer, ProviderInvoiceStatus

__all__ = [
    "CheckoutCompleted",
    "CustomerEvent",
    "CustomerUpdated",
    "InvoicePaymentReported",
    "PaymentMethodAttached",
    "PaymentOutcome",
    "ProviderEvent",
    "StatedCustomer",
    "customer_now",
    "default_after_attach",
    "outcome_from_provider",
    "outcome_without_provider",
    "remote_state_to_record",
    "resumes_account",
    "says_what_stint_stores",
]


class PaymentOutcome(StrEnum):
    PAID = "paid"
    FAILED = "failed"
    ACTION_REQUIRED = "action_required"
    """The payment needs the customer (e.g. 3-D Secure); until then it counts as failed."""


@dataclass(frozen=True, slots=True)
class InvoicePaymentReported:
    """The provider reports a payment, or a failed attempt, on one of its invoices."""

    event_id: str
    event_type: str
    """The provider's own name for the event, kept with its id."""
    remote_invoice_id: str
    """The provider's id of the invoice ("" when the event names none)."""
    reported: PaymentOutcome


@dataclass(frozen=True, slots=True)
class StatedCustomer:
    """What a customer event itself says of the fields Stint keeps."""

    email: str | None
    payment_method_id: str | None


@dataclass(frozen=True, slots=True)
class CustomerUpdated:
    """A customer changed at the provider (any field, most of them ones Stint does not keep)."""

    event_id: str
    event_type: str
    customer_id: str
    stated: StatedCustomer | None = None
    """The customer as the event carries it; None when it does not carry both fields."""


@dataclass(frozen=True, slots=True)
class CheckoutCompleted:
    """A hosted checkout of the customer's finished (Buy Now collecting a card)."""

    event_id: str
    event_type: str
    customer_id: str
    session_id: str


@dataclass(frozen=True, slots=True)
class PaymentMethodAttached:
    """A payment method was added to the customer (in the provider's portal, say)."""

    event_id: str
    event_type: str
    customer_id: str
    payment_method_id: str | None


CustomerEvent = CustomerUpdated | CheckoutCompleted | PaymentMethodAttached
ProviderEvent = InvoicePaymentReported | CustomerEvent


def outcome_without_provider(event: InvoicePaymentReported, remote: RemoteInvoice) -> PaymentOutcome | None:
    """The outcome the event settles alone, or None when the provider must be asked.

    Paid is final at the provider: no later event undoes it, so a report of payment is
    taken as it is, and a failure reported for an invoice the provider already told
    Stint is paid was an earlier attempt.
    """
    if event.reported is PaymentOutcome.PAID or remote.state == "paid":
        return PaymentOutcome.PAID
    return None


def outcome_from_provider(
    event: InvoicePaymentReported, status: ProviderInvoiceStatus
) -> PaymentOutcome | None:
    """What a reported failure counts as, given the invoice's status at the provider now.

    A failure for an invoice the provider shows paid counts as paid (the failure was an
    earlier attempt); one for an invoice still owed counts as reported; any other
    status (a draft, a voided invoice) asks nothing of the customer, so it counts for
    nothing (None).
    """
    if status is ProviderInvoiceStatus.PAID:
        return PaymentOutcome.PAID
    if status in (ProviderInvoiceStatus.OPEN, ProviderInvoiceStatus.UNCOLLECTIBLE):
        return event.reported
    return None


def remote_state_to_record(remote: RemoteInvoice, outcome: PaymentOutcome) -> str | None:
    """The state Stint's record of the provider invoice moves to after an applied outcome,
    or None when it is in that state already (no write needed)."""
    state = "paid" if outcome is PaymentOutcome.PAID else "failed"
    return None if remote.state == state else state


def says_what_stint_stores(stated: StatedCustomer | None, known: BillingCustomer) -> bool:
    """Whether a customer event says what Stint already stores about that customer.

    Storing such a customer changes nothing whatever the order of events, so the
    provider need not be asked. One that differs may be older than what Stint has, so
    it is read as it is now; the newest state always arrives with an event of its own.
    A card on file whose brand and last 4 Stint has not read yet still needs the read.
    """
    if stated is None:
        return False
    has_card_details = stated.payment_method_id is None or known.card_last4 is not None
    return (
        stated.payment_method_id == known.payment_method_id
        and stated.email == known.email
        and has_card_details
    )


def default_after_attach(current_default: str | None, attached: str | None) -> str | None:
    """The payment method to make the default after one was attached, or None to leave it.

    A card added when the customer has none to charge is the one to charge; one added
    next to an existing default leaves that default alone.
    """
    if current_default or not attached:
        return None
    return attached


def customer_now(known: BillingCustomer, current: ProviderCustomer) -> BillingCustomer:
    """The billing account's customer as Stint stores it after reading the provider."""
    return BillingCustomer(
        subscription_id=known.subscription_id,
        customer_id=current.customer_id,
        email=current.email,
        payment_method_id=current.payment_method_id,
        card_brand=current.card_brand,
        card_last4=current.card_last4,
    )


def resumes_account(known: BillingCustomer, current: ProviderCustomer) -> bool:
    """Whether the customer now has a card it did not have: then what waited for one is charged."""
    return bool(current.payment_method_id) and current.payment_method_id != known.payment_method_id
