"""Payment-provider events, each applied once in the transaction that claims it
(core.services.billing_events)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.billing import (
    CheckoutCompleted,
    CustomerUpdated,
    InvoicePaymentReported,
    PaymentMethodAttached,
    PaymentProviderUnavailable,
    ProviderCustomer,
    ProviderInvoiceStatus,
    StatedCustomer,
)
from core.billing.ports import BillingCustomer, RemoteInvoice
from core.clock import FixedClock
from core.errors import Conflict
from core.licensing.subscription import Subscription, SubscriptionStatus
from core.proration.invoice import Invoice
from core.services.billing_events import (
    PaymentOutcome,
    apply_customer_update,
    apply_payment_outcome,
    apply_provider_event,
    ignore_event,
)
from core.tenancy import Tenant
from tests.fakes import FakePaymentProvider, FakeUnitOfWorkFactory

from .conftest import NOW, TODAY, Seed, active, due_invoice, past_due, trial

_S = SubscriptionStatus


def _tenant(seed: Seed, sub: Subscription) -> Tenant:
    return seed.tenant("acme", subscription=sub)


async def _outcome(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, invoice_id: str,
    outcome: PaymentOutcome = PaymentOutcome.PAID, *, event_id: str = "evt_1", tenant_id: str | None = None,
    remote_state: str | None = None,
) -> str:
    return await apply_payment_outcome(
        uow, clock, event_id=event_id, event_type=f"invoice.{outcome.value}", invoice_id=invoice_id,
        outcome=outcome, tenant_id=tenant_id, remote_state=remote_state,
    )


def _sent(seed: Seed, tenant: Tenant, invoice: Invoice, state: str = "open") -> RemoteInvoice:
    """Stint's record of the invoice it sent to the provider (as ``in_<Stint id>`` there)."""
    remote = RemoteInvoice(invoice.id, tenant.subscription_id, tenant.id, state, f"in_{invoice.id}")
    seed.store.remote_invoices[invoice.id] = remote
    return remote


async def test_a_paid_invoice_restores_a_past_due_subscription_and_is_audited(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, past_due())
    invoice = seed.invoice(tenant)
    assert await _outcome(uow, clock, invoice.id) == "paid"
    assert seed.store.invoices[invoice.id].invoice.status == "paid"
    assert seed.subscription(tenant).status is _S.ACTIVE
    [row] = seed.audit("invoice.paid")
    assert (row.tenant_id, row.actor, row.subject) == (tenant.id, "system:payment-provider", invoice.id)
    assert row.detail == {"event": "evt_1", "outcome": "paid", "subscription": "active"}
    assert seed.store.billing_events["evt_1"].outcome == "paid"


async def test_a_second_delivery_of_an_event_changes_nothing(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, active())
    invoice = seed.invoice(tenant)
    await _outcome(uow, clock, invoice.id, PaymentOutcome.FAILED)
    await _outcome(uow, clock, invoice.id, PaymentOutcome.PAID, event_id="evt_2")
    assert await _outcome(uow, clock, invoice.id, PaymentOutcome.FAILED) == "duplicate"
    assert seed.subscription(tenant).status is _S.ACTIVE
    assert seed.actions() == ["invoice.payment_failed", "invoice.paid"]


async def test_a_failed_payment_makes_the_subscription_past_due_from_the_tenants_today(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active(), time_zone="Pacific/Kiritimati")
    invoice = seed.invoice(tenant)
    clock.set(NOW.replace(hour=23))
    assert await _outcome(uow, clock, invoice.id, PaymentOutcome.FAILED) == "failed"
    sub = seed.subscription(tenant)
    assert (sub.status, sub.past_due_since) == (_S.PAST_DUE, TODAY + timedelta(days=1))
    assert seed.audit("invoice.payment_failed")[0].detail["subscription"] == "past_due"


async def test_a_payment_that_needs_the_customer_counts_as_failed(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, active())
    invoice = seed.invoice(tenant)
    outcome = await _outcome(uow, clock, invoice.id, PaymentOutcome.ACTION_REQUIRED)
    assert outcome == "action_required"
    assert seed.subscription(tenant).status is _S.PAST_DUE


@pytest.mark.parametrize("outcome", [PaymentOutcome.PAID, PaymentOutcome.FAILED])
async def test_an_invoice_paid_already_is_final_whatever_arrives(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed,
    outcome: PaymentOutcome,
) -> None:
    tenant = _tenant(seed, past_due())
    invoice = seed.invoice(tenant, due_invoice(status="paid"))
    assert await _outcome(uow, clock, invoice.id, outcome) == "no_change"
    assert seed.subscription(tenant).status is _S.PAST_DUE and seed.actions() == []
    assert "evt_1" in seed.store.billing_events


async def test_a_failure_on_a_subscription_already_past_due_changes_nothing_and_is_not_audited(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    since = TODAY - timedelta(days=3)
    tenant = _tenant(seed, past_due(since=since))
    invoice = seed.invoice(tenant)
    assert await _outcome(uow, clock, invoice.id, PaymentOutcome.FAILED) == "no_change"
    assert seed.subscription(tenant).past_due_since == since and seed.actions() == []


async def test_an_event_for_an_invoice_stint_does_not_know_is_claimed_and_ignored(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    assert await _outcome(uow, clock, "in_unknown") == "unknown_invoice"
    assert await _outcome(uow, clock, "in_unknown") == "duplicate"


async def test_an_invoice_whose_tenant_is_gone_is_an_unknown_invoice(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, past_due())
    invoice = seed.invoice(tenant)
    del seed.store.tenants[tenant.id]
    assert await _outcome(uow, clock, invoice.id) == "unknown_invoice"
    assert seed.store.invoices[invoice.id].invoice.status == "due"


async def test_the_tenant_the_caller_names_spares_the_lookup_but_must_exist(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, past_due())
    invoice = seed.invoice(tenant)
    gone = await _outcome(uow, clock, invoice.id, tenant_id="gone", event_id="e1")
    named = await _outcome(uow, clock, invoice.id, tenant_id=tenant.id, event_id="e2")
    assert (gone, named) == ("unknown_invoice", "paid")


async def test_an_invoice_of_another_tenants_account_is_not_settled_under_the_named_tenant(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, past_due())
    other = seed.tenant("other", subscription=past_due())
    invoice = seed.invoice(other)
    assert await _outcome(uow, clock, invoice.id, tenant_id=tenant.id) == "unknown_invoice"
    assert seed.subscription(tenant).status is _S.PAST_DUE is seed.subscription(other).status


async def test_an_event_whose_effect_fails_is_not_claimed_so_it_can_be_retried(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, past_due())
    invoice = seed.invoice(tenant, due_invoice(status="void"))
    with pytest.raises(Conflict, match="void"):
        await _outcome(uow, clock, invoice.id)
    async with uow() as work:
        assert not await work.payments().seen_event("evt_1")
    assert seed.store.billing_events == {} and uow.commits == 0


async def test_stores_the_customer_as_the_provider_has_it_now_once_per_event(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, active())
    card = BillingCustomer(tenant.subscription_id, "cus_1", "pay@acme.test", "pm_1", "visa", "4242")
    assert await apply_customer_update(uow, clock, event_id="evt_c", event_type="customer.updated",
                                       customer=card) == "customer"
    assert seed.store.billing_customers[tenant.subscription_id] == card
    older = BillingCustomer(tenant.subscription_id, "cus_1", "old@acme.test")
    assert await apply_customer_update(uow, clock, event_id="evt_c", event_type="customer.updated",
                                       customer=older) == "duplicate"
    assert seed.store.billing_customers[tenant.subscription_id] == card


async def test_remembers_an_event_that_changes_nothing_once(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    assert await ignore_event(uow, clock, event_id="evt_x", event_type="invoice.created",
                              outcome="ignored") == "ignored"
    assert seed.store.billing_events["evt_x"].received_at == NOW
    assert await ignore_event(uow, clock, event_id="evt_x", event_type="invoice.created",
                              outcome="ignored") == "duplicate"
    assert uow.commits == 1


async def test_the_record_of_the_provider_invoice_moves_in_the_transaction_of_the_effect(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, active())
    invoice = seed.invoice(tenant)
    _sent(seed, tenant, invoice)
    outcome = await _outcome(uow, clock, invoice.id, PaymentOutcome.FAILED, remote_state="failed")
    assert outcome == "failed" and seed.store.remote_invoices[invoice.id].state == "failed"
    assert (uow.writes, uow.commits) == (1, 1)


async def test_a_duplicate_leaves_the_record_of_the_provider_invoice_as_it_is(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, active())
    invoice = seed.invoice(tenant)
    _sent(seed, tenant, invoice)
    await _outcome(uow, clock, invoice.id, PaymentOutcome.FAILED, remote_state="failed")
    again = await _outcome(uow, clock, invoice.id, PaymentOutcome.PAID, remote_state="paid")
    assert again == "duplicate" and seed.store.remote_invoices[invoice.id].state == "failed"


async def test_an_effect_that_fails_leaves_the_record_of_the_provider_invoice_as_it_was(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, past_due())
    invoice = seed.invoice(tenant, due_invoice(status="void"))
    _sent(seed, tenant, invoice)
    with pytest.raises(Conflict, match="void"):
        await _outcome(uow, clock, invoice.id, remote_state="paid")
    assert seed.store.remote_invoices[invoice.id].state == "open" and uow.commits == 0


# The whole event, from what the adapter translated to its effect. -----------------------


def _reported(invoice: Invoice, outcome: PaymentOutcome, event_id: str = "evt_1") -> InvoicePaymentReported:
    return InvoicePaymentReported(event_id, f"invoice.{outcome.value}", f"in_{invoice.id}", outcome)


async def _apply(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, provider: FakePaymentProvider,
    event: InvoicePaymentReported | CustomerUpdated | CheckoutCompleted | PaymentMethodAttached,
) -> str:
    return await apply_provider_event(event, uow=uow, clock=clock, provider=provider, actions=provider)


@pytest.fixture
def provider(uow: FakeUnitOfWorkFactory) -> FakePaymentProvider:
    return FakePaymentProvider(uow)


async def test_a_reported_payment_is_applied_in_one_write_unit_of_work_without_asking_the_provider(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, provider: FakePaymentProvider
) -> None:
    tenant = _tenant(seed, past_due())
    invoice = seed.invoice(tenant)
    _sent(seed, tenant, invoice, "failed")
    assert await _apply(uow, clock, provider, _reported(invoice, PaymentOutcome.PAID)) == "paid"
    assert seed.store.invoices[invoice.id].invoice.status == "paid"
    assert seed.store.remote_invoices[invoice.id].state == "paid"
    assert seed.subscription(tenant).status is _S.ACTIVE
    assert provider.reads == [] and (uow.writes, uow.commits) == (1, 1)


async def test_an_event_for_an_invoice_stint_never_sent_is_remembered_and_ignored(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, provider: FakePaymentProvider
) -> None:
    invoice = seed.invoice(_tenant(seed, past_due()))
    assert await _apply(uow, clock, provider, _reported(invoice, PaymentOutcome.PAID)) == "unknown_invoice"
    assert seed.store.invoices[invoice.id].invoice.status == "due"
    assert seed.store.billing_events["evt_1"].outcome == "unknown_invoice"


async def test_a_reported_failure_is_checked_with_the_provider_then_applied(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, provider: FakePaymentProvider
) -> None:
    tenant = _tenant(seed, active())
    invoice = seed.invoice(tenant)
    remote = _sent(seed, tenant, invoice)
    provider.invoices[remote.remote_id or ""] = ProviderInvoiceStatus.OPEN
    assert await _apply(uow, clock, provider, _reported(invoice, PaymentOutcome.FAILED)) == "failed"
    assert seed.subscription(tenant).status is _S.PAST_DUE
    assert seed.store.remote_invoices[invoice.id].state == "failed"
    assert provider.reads == [f"invoice:{remote.remote_id}"] and (uow.writes, uow.commits) == (1, 1)


async def test_a_failure_for_an_invoice_the_provider_shows_paid_counts_as_paid(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, provider: FakePaymentProvider
) -> None:
    tenant = _tenant(seed, past_due())
    invoice = seed.invoice(tenant)
    remote = _sent(seed, tenant, invoice)
    provider.invoices[remote.remote_id or ""] = ProviderInvoiceStatus.PAID
    assert await _apply(uow, clock, provider, _reported(invoice, PaymentOutcome.FAILED)) == "paid"
    assert seed.store.remote_invoices[invoice.id].state == "paid"
    assert seed.subscription(tenant).status is _S.ACTIVE


async def test_a_redelivered_failure_is_answered_without_asking_the_provider_again(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, provider: FakePaymentProvider
) -> None:
    tenant = _tenant(seed, active())
    invoice = seed.invoice(tenant)
    remote = _sent(seed, tenant, invoice)
    provider.invoices[remote.remote_id or ""] = ProviderInvoiceStatus.OPEN
    await _apply(uow, clock, provider, _reported(invoice, PaymentOutcome.FAILED))
    # Stint's record says "failed" now, so the provider would be asked again but for the check.
    assert await _apply(uow, clock, provider, _reported(invoice, PaymentOutcome.FAILED)) == "duplicate"
    assert len(provider.reads) == 1 and uow.writes == 1


async def test_a_failure_for_an_invoice_the_provider_voided_is_remembered_and_changes_nothing(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, provider: FakePaymentProvider
) -> None:
    tenant = _tenant(seed, active())
    invoice = seed.invoice(tenant)
    remote = _sent(seed, tenant, invoice)
    provider.invoices[remote.remote_id or ""] = ProviderInvoiceStatus.VOID
    assert await _apply(uow, clock, provider, _reported(invoice, PaymentOutcome.FAILED)) == "ignored"
    assert seed.store.remote_invoices[invoice.id].state == "open"
    assert seed.subscription(tenant).status is _S.ACTIVE and "evt_1" in seed.store.billing_events


async def test_a_provider_out_of_reach_leaves_the_event_unclaimed_for_its_retry(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, provider: FakePaymentProvider
) -> None:
    tenant = _tenant(seed, active())
    invoice = seed.invoice(tenant)
    _sent(seed, tenant, invoice)
    provider.unavailable = True
    with pytest.raises(PaymentProviderUnavailable):
        await _apply(uow, clock, provider, _reported(invoice, PaymentOutcome.FAILED))
    assert seed.store.billing_events == {} and uow.writes == 0


def _customer(seed: Seed, tenant: Tenant, method: str | None = "pm_1") -> BillingCustomer:
    known = BillingCustomer(tenant.subscription_id, "cus_1", "pay@acme.test", method,
                            "visa" if method else None, "4242" if method else None)
    seed.store.billing_customers[tenant.subscription_id] = known
    return known


async def test_a_customer_update_saying_what_stint_stores_is_remembered_without_asking_the_provider(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, provider: FakePaymentProvider
) -> None:
    _customer(seed, _tenant(seed, active()))
    same = CustomerUpdated("evt_c", "customer.updated", "cus_1", StatedCustomer("pay@acme.test", "pm_1"))
    assert await _apply(uow, clock, provider, same) == "no_change"
    assert await _apply(uow, clock, provider, same) == "duplicate"
    assert provider.reads == [] and uow.commits == 1


async def test_an_event_for_a_customer_stint_does_not_know_is_remembered_and_ignored(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, provider: FakePaymentProvider
) -> None:
    event = CustomerUpdated("evt_c", "customer.updated", "cus_elsewhere")
    assert await _apply(uow, clock, provider, event) == "unknown_customer"
    assert provider.reads == [] and seed.store.billing_events["evt_c"].outcome == "unknown_customer"


async def test_a_new_card_is_read_from_the_provider_stored_and_collects_what_waits_for_it(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, provider: FakePaymentProvider
) -> None:
    tenant = _tenant(seed, active())
    _customer(seed, tenant, method=None)
    provider.customers["cus_1"] = ProviderCustomer("cus_1", "pay@acme.test", "pm_2", "visa", "1881")
    event = CustomerUpdated("evt_c", "customer.updated", "cus_1", StatedCustomer("pay@acme.test", "pm_2"))
    assert await _apply(uow, clock, provider, event) == "customer"
    assert seed.store.billing_customers[tenant.subscription_id].card_last4 == "1881"
    assert provider.resumed == [tenant.subscription_id]
    assert await _apply(uow, clock, provider, event) == "duplicate"
    assert provider.reads == ["customer:cus_1"] and provider.resumed == [tenant.subscription_id]


async def test_a_card_collected_by_checkout_becomes_the_one_charged(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, provider: FakePaymentProvider
) -> None:
    tenant = _tenant(seed, trial())
    _customer(seed, tenant, method=None)
    provider.checkouts["cs_1"] = "pm_new"
    event = CheckoutCompleted("evt_cs", "checkout.session.completed", "cus_1", "cs_1")
    assert await _apply(uow, clock, provider, event) == "customer"
    assert provider.defaults_set == [("cus_1", "pm_new")]
    assert seed.store.billing_customers[tenant.subscription_id].payment_method_id == "pm_new"
    assert provider.resumed == [tenant.subscription_id]


async def test_a_card_attached_next_to_a_default_leaves_the_default_alone(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, provider: FakePaymentProvider
) -> None:
    tenant = _tenant(seed, active())
    _customer(seed, tenant)
    provider.customers["cus_1"] = ProviderCustomer("cus_1", "pay@acme.test", "pm_1", "visa", "4242")
    event = PaymentMethodAttached("evt_pm", "payment_method.attached", "cus_1", "pm_2")
    assert await _apply(uow, clock, provider, event) == "customer"
    assert provider.defaults_set == [] and provider.resumed == []
    assert seed.store.billing_customers[tenant.subscription_id].payment_method_id == "pm_1"
