"""Payment-provider events, each applied once in the transaction that claims it
(core.services.billing_events)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.billing.ports import BillingCustomer
from core.clock import FixedClock
from core.errors import Conflict
from core.licensing.subscription import Subscription, SubscriptionStatus
from core.services.billing_events import (
    PaymentOutcome,
    apply_customer_update,
    apply_payment_outcome,
    ignore_event,
)
from core.tenancy import Tenant
from tests.fakes import FakePaymentRecords, FakeUnitOfWorkFactory

from .conftest import NOW, TODAY, Seed, active, due_invoice, past_due

_S = SubscriptionStatus


def _tenant(seed: Seed, sub: Subscription) -> Tenant:
    return seed.tenant("acme", subscription=sub)


async def _outcome(
    uow: FakeUnitOfWorkFactory, records: FakePaymentRecords, clock: FixedClock, invoice_id: str,
    outcome: PaymentOutcome = PaymentOutcome.PAID, *, event_id: str = "evt_1", tenant_id: str | None = None,
) -> str:
    return await apply_payment_outcome(
        uow, records, clock, event_id=event_id, event_type=f"invoice.{outcome.value}", invoice_id=invoice_id,
        outcome=outcome, tenant_id=tenant_id,
    )


async def test_a_paid_invoice_restores_a_past_due_subscription_and_is_audited(
    uow: FakeUnitOfWorkFactory, records: FakePaymentRecords, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, past_due())
    invoice = seed.invoice(tenant)
    assert await _outcome(uow, records, clock, invoice.id) == "paid"
    assert seed.store.invoices[invoice.id].invoice.status == "paid"
    assert seed.subscription(tenant).status is _S.ACTIVE
    [row] = seed.audit("invoice.paid")
    assert (row.tenant_id, row.actor, row.subject) == (tenant.id, "system:payment-provider", invoice.id)
    assert row.detail == {"event": "evt_1", "outcome": "paid", "subscription": "active"}
    assert seed.store.billing_events["evt_1"].outcome == "paid"


async def test_a_second_delivery_of_an_event_changes_nothing(
    uow: FakeUnitOfWorkFactory, records: FakePaymentRecords, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, active())
    invoice = seed.invoice(tenant)
    await _outcome(uow, records, clock, invoice.id, PaymentOutcome.FAILED)
    await _outcome(uow, records, clock, invoice.id, PaymentOutcome.PAID, event_id="evt_2")
    assert await _outcome(uow, records, clock, invoice.id, PaymentOutcome.FAILED) == "duplicate"
    assert seed.subscription(tenant).status is _S.ACTIVE
    assert seed.actions() == ["invoice.payment_failed", "invoice.paid"]


async def test_a_failed_payment_makes_the_subscription_past_due_from_the_tenants_today(
    uow: FakeUnitOfWorkFactory, records: FakePaymentRecords, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active(), time_zone="Pacific/Kiritimati")
    invoice = seed.invoice(tenant)
    clock.set(NOW.replace(hour=23))
    assert await _outcome(uow, records, clock, invoice.id, PaymentOutcome.FAILED) == "failed"
    sub = seed.subscription(tenant)
    assert (sub.status, sub.past_due_since) == (_S.PAST_DUE, TODAY + timedelta(days=1))
    assert seed.audit("invoice.payment_failed")[0].detail["subscription"] == "past_due"


async def test_a_payment_that_needs_the_customer_counts_as_failed(
    uow: FakeUnitOfWorkFactory, records: FakePaymentRecords, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, active())
    invoice = seed.invoice(tenant)
    outcome = await _outcome(uow, records, clock, invoice.id, PaymentOutcome.ACTION_REQUIRED)
    assert outcome == "action_required"
    assert seed.subscription(tenant).status is _S.PAST_DUE


@pytest.mark.parametrize("outcome", [PaymentOutcome.PAID, PaymentOutcome.FAILED])
async def test_an_invoice_paid_already_is_final_whatever_arrives(
    uow: FakeUnitOfWorkFactory, records: FakePaymentRecords, clock: FixedClock, seed: Seed,
    outcome: PaymentOutcome,
) -> None:
    tenant = _tenant(seed, past_due())
    invoice = seed.invoice(tenant, due_invoice(status="paid"))
    assert await _outcome(uow, records, clock, invoice.id, outcome) == "no_change"
    assert seed.subscription(tenant).status is _S.PAST_DUE and seed.actions() == []
    assert "evt_1" in seed.store.billing_events


async def test_a_failure_on_a_subscription_already_past_due_changes_nothing_and_is_not_audited(
    uow: FakeUnitOfWorkFactory, records: FakePaymentRecords, clock: FixedClock, seed: Seed
) -> None:
    since = TODAY - timedelta(days=3)
    tenant = _tenant(seed, past_due(since=since))
    invoice = seed.invoice(tenant)
    assert await _outcome(uow, records, clock, invoice.id, PaymentOutcome.FAILED) == "no_change"
    assert seed.subscription(tenant).past_due_since == since and seed.actions() == []


async def test_an_event_for_an_invoice_stint_does_not_know_is_claimed_and_ignored(
    uow: FakeUnitOfWorkFactory, records: FakePaymentRecords, clock: FixedClock, seed: Seed
) -> None:
    assert await _outcome(uow, records, clock, "in_unknown") == "unknown_invoice"
    assert await _outcome(uow, records, clock, "in_unknown") == "duplicate"


async def test_an_invoice_whose_tenant_is_gone_is_an_unknown_invoice(
    uow: FakeUnitOfWorkFactory, records: FakePaymentRecords, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, past_due())
    invoice = seed.invoice(tenant)
    del seed.store.tenants[tenant.id]
    assert await _outcome(uow, records, clock, invoice.id) == "unknown_invoice"
    assert seed.store.invoices[invoice.id].invoice.status == "due"


async def test_the_tenant_the_caller_names_spares_the_lookup_but_must_exist(
    uow: FakeUnitOfWorkFactory, records: FakePaymentRecords, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, past_due())
    invoice = seed.invoice(tenant)
    gone = await _outcome(uow, records, clock, invoice.id, tenant_id="gone", event_id="e1")
    named = await _outcome(uow, records, clock, invoice.id, tenant_id=tenant.id, event_id="e2")
    assert (gone, named) == ("unknown_invoice", "paid")


async def test_an_invoice_of_another_tenants_account_is_not_settled_under_the_named_tenant(
    uow: FakeUnitOfWorkFactory, records: FakePaymentRecords, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, past_due())
    other = seed.tenant("other", subscription=past_due())
    invoice = seed.invoice(other)
    assert await _outcome(uow, records, clock, invoice.id, tenant_id=tenant.id) == "unknown_invoice"
    assert seed.subscription(tenant).status is _S.PAST_DUE is seed.subscription(other).status


async def test_an_event_whose_effect_fails_is_not_claimed_so_it_can_be_retried(
    uow: FakeUnitOfWorkFactory, records: FakePaymentRecords, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, past_due())
    invoice = seed.invoice(tenant, due_invoice(status="void"))
    with pytest.raises(Conflict, match="void"):
        await _outcome(uow, records, clock, invoice.id)
    assert not await records.seen_event("evt_1")
    assert seed.store.billing_events == {} and uow.commits == 0


async def test_stores_the_customer_as_the_provider_has_it_now_once_per_event(
    uow: FakeUnitOfWorkFactory, records: FakePaymentRecords, clock: FixedClock, seed: Seed
) -> None:
    tenant = _tenant(seed, active())
    card = BillingCustomer(tenant.subscription_id, "cus_1", "pay@acme.test", "pm_1", "visa", "4242")
    assert await apply_customer_update(uow, records, clock, event_id="evt_c", event_type="customer.updated",
                                       customer=card) == "customer"
    assert seed.store.billing_customers[tenant.subscription_id] == card
    older = BillingCustomer(tenant.subscription_id, "cus_1", "old@acme.test")
    assert await apply_customer_update(uow, records, clock, event_id="evt_c", event_type="customer.updated",
                                       customer=older) == "duplicate"
    assert seed.store.billing_customers[tenant.subscription_id] == card


async def test_remembers_an_event_that_changes_nothing_once(
    uow: FakeUnitOfWorkFactory, records: FakePaymentRecords, clock: FixedClock, seed: Seed
) -> None:
    assert await ignore_event(uow, records, clock, event_id="evt_x", event_type="invoice.created",
                              outcome="ignored") == "ignored"
    assert seed.store.billing_events["evt_x"].received_at == NOW
    assert await ignore_event(uow, records, clock, event_id="evt_x", event_type="invoice.created",
                              outcome="ignored") == "duplicate"
    assert uow.commits == 1
