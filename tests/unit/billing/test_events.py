"""The billing rules for payment-provider events: what each event counts as, and when the
provider must be read again because the event alone cannot say."""

from __future__ import annotations

import pytest

from core.billing import (
    InvoicePaymentReported,
    PaymentOutcome,
    ProviderCustomer,
    ProviderInvoiceStatus,
    StatedCustomer,
    customer_now,
    default_after_attach,
    outcome_from_provider,
    outcome_without_provider,
    remote_state_to_record,
    resumes_account,
    says_what_stint_stores,
)
from core.billing.ports import BillingCustomer, RemoteInvoice

FAILED = InvoicePaymentReported("evt_1", "invoice.payment_failed", "in_1", PaymentOutcome.FAILED)
ACTION = InvoicePaymentReported(
    "evt_2", "invoice.payment_action_required", "in_1", PaymentOutcome.ACTION_REQUIRED
)
PAID = InvoicePaymentReported("evt_3", "invoice.paid", "in_1", PaymentOutcome.PAID)

KNOWN = BillingCustomer(
    subscription_id="sub_1",
    customer_id="cus_1",
    email="admin@acme.test",
    payment_method_id="pm_1",
    card_brand="visa",
    card_last4="4242",
)


def remote(state: str) -> RemoteInvoice:
    return RemoteInvoice("inv_1", "sub_1", "ten_1", state=state, remote_id="in_1")


@pytest.mark.parametrize("state", ["new", "draft", "open", "paying", "failed", "paid"])
def test_a_reported_payment_is_paid_without_asking_the_provider(state: str) -> None:
    """Paid is final at the provider: whatever Stint recorded, invoice.paid settles it alone."""
    assert outcome_without_provider(PAID, remote(state)) is PaymentOutcome.PAID


def test_a_failure_for_an_invoice_the_provider_already_reported_paid_counts_as_paid() -> None:
    """The provider said paid before: the failure was an earlier attempt, and no read is needed."""
    assert outcome_without_provider(FAILED, remote("paid")) is PaymentOutcome.PAID
    assert outcome_without_provider(ACTION, remote("paid")) is PaymentOutcome.PAID


@pytest.mark.parametrize("state", ["new", "draft", "open", "paying", "failed"])
def test_a_failure_for_an_invoice_not_known_paid_needs_the_provider(state: str) -> None:
    """It may be older than a payment Stint has not heard of yet: the event cannot say alone."""
    assert outcome_without_provider(FAILED, remote(state)) is None


def test_a_failure_for_an_invoice_the_provider_shows_paid_counts_as_paid() -> None:
    """Read now, the invoice is paid: the failure was an earlier attempt."""
    assert outcome_from_provider(FAILED, ProviderInvoiceStatus.PAID) is PaymentOutcome.PAID
    assert outcome_from_provider(ACTION, ProviderInvoiceStatus.PAID) is PaymentOutcome.PAID


@pytest.mark.parametrize("status", [ProviderInvoiceStatus.OPEN, ProviderInvoiceStatus.UNCOLLECTIBLE])
def test_a_failure_for_an_invoice_still_owed_counts_as_reported(status: ProviderInvoiceStatus) -> None:
    """Open or given up on by the provider's retries, the money is still missing."""
    assert outcome_from_provider(FAILED, status) is PaymentOutcome.FAILED
    assert outcome_from_provider(ACTION, status) is PaymentOutcome.ACTION_REQUIRED


@pytest.mark.parametrize(
    "status", [ProviderInvoiceStatus.DRAFT, ProviderInvoiceStatus.VOID, ProviderInvoiceStatus.OTHER]
)
def test_a_failure_for_an_invoice_that_asks_for_nothing_counts_for_nothing(
    status: ProviderInvoiceStatus,
) -> None:
    """A draft or voided invoice is not waiting for money, so its failure changes nothing."""
    assert outcome_from_provider(FAILED, status) is None


def test_the_providers_record_moves_to_the_applied_outcome_unless_it_is_there_already() -> None:
    """Paid → "paid", a failure of either kind → "failed"; no write when nothing would change."""
    assert remote_state_to_record(remote("open"), PaymentOutcome.PAID) == "paid"
    assert remote_state_to_record(remote("paying"), PaymentOutcome.FAILED) == "failed"
    assert remote_state_to_record(remote("open"), PaymentOutcome.ACTION_REQUIRED) == "failed"
    assert remote_state_to_record(remote("paid"), PaymentOutcome.PAID) is None
    assert remote_state_to_record(remote("failed"), PaymentOutcome.FAILED) is None


def test_a_customer_event_saying_what_stint_stores_needs_no_read() -> None:
    """Same email and default card, whose details Stint has: storing it would change nothing."""
    assert says_what_stint_stores(StatedCustomer("admin@acme.test", "pm_1"), KNOWN)
    no_card = BillingCustomer("sub_1", "cus_1", email="admin@acme.test")
    assert says_what_stint_stores(StatedCustomer("admin@acme.test", None), no_card)


@pytest.mark.parametrize(
    "stated",
    [
        StatedCustomer("admin@acme.test", "pm_2"),
        StatedCustomer("billing@acme.test", "pm_1"),
        StatedCustomer("admin@acme.test", None),
        None,
    ],
    ids=["another card", "another email", "no card", "fields missing from the event"],
)
def test_a_customer_event_that_differs_or_says_too_little_is_read_again(
    stated: StatedCustomer | None,
) -> None:
    """It may be older than what Stint has: only the provider knows the customer as it is now."""
    assert not says_what_stint_stores(stated, KNOWN)


def test_a_card_whose_details_stint_has_not_read_yet_needs_the_read() -> None:
    """The same card id, but without brand and last 4 stored: the read fetches them."""
    without_details = BillingCustomer("sub_1", "cus_1", email="admin@acme.test", payment_method_id="pm_1")
    assert not says_what_stint_stores(StatedCustomer("admin@acme.test", "pm_1"), without_details)


def test_a_card_attached_when_there_is_no_default_becomes_the_default() -> None:
    """A card added in the portal to an account with none to charge is the one to charge."""
    assert default_after_attach(None, "pm_new") == "pm_new"


def test_a_card_attached_next_to_a_default_leaves_the_default_alone() -> None:
    """The customer chose a default already; adding a card does not replace it."""
    assert default_after_attach("pm_1", "pm_new") is None
    assert default_after_attach(None, None) is None


def test_a_new_card_resumes_the_account() -> None:
    """A default card Stint did not have means the invoices waiting for one can be charged."""
    assert resumes_account(KNOWN, ProviderCustomer("cus_1", payment_method_id="pm_2"))
    first = BillingCustomer("sub_1", "cus_1")
    assert resumes_account(first, ProviderCustomer("cus_1", payment_method_id="pm_1"))


def test_the_same_card_or_no_card_does_not_resume_the_account() -> None:
    """Nothing new to charge with: the waiting invoices stay as they are."""
    assert not resumes_account(KNOWN, ProviderCustomer("cus_1", payment_method_id="pm_1"))
    assert not resumes_account(KNOWN, ProviderCustomer("cus_1", payment_method_id=None))


def test_the_stored_customer_is_the_providers_current_one_on_stints_account() -> None:
    """Everything but the billing account comes from the provider's current customer."""
    current = ProviderCustomer("cus_1", "new@acme.test", "pm_2", "mastercard", "4444")
    assert customer_now(KNOWN, current) == BillingCustomer(
        "sub_1", "cus_1", "new@acme.test", "pm_2", "mastercard", "4444"
    )
