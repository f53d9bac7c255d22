"""The effects of a payment, or of its failure, on an invoice and its subscription
(core.services.payments)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.licensing.lifecycle import cancel, expire
from core.licensing.subscription import Subscription, SubscriptionStatus
from core.proration.invoice import InvoiceStatus
from core.services.payments import (
    PaymentEffect,
    record_failed_payment,
    restored_after_payment,
    settle_invoice,
)
from core.tenancy import Tenant
from tests.fakes import FakeUnitOfWorkFactory

from .conftest import NOW, TODAY, Seed, active, due_invoice, past_due, trial

_S = SubscriptionStatus


def _ended(paid: bool) -> Subscription:
    if not paid:
        return expire(trial(TODAY - timedelta(days=3)), TODAY - timedelta(days=3))
    return expire(cancel(active(start=TODAY - timedelta(days=400))), TODAY - timedelta(days=3))


async def _settle(uow: FakeUnitOfWorkFactory, tenant: Tenant, invoice_id: str, *, again: bool = True
                  ) -> PaymentEffect | None:
    async with uow(write=True) as work:
        effect = await settle_invoice(work.tenant(tenant.id), invoice_id, today=TODAY, now=NOW, again=again)
        await work.commit()
    return effect


async def _fail(uow: FakeUnitOfWorkFactory, tenant: Tenant, invoice_id: str) -> PaymentEffect | None:
    async with uow(write=True) as work:
        effect = await record_failed_payment(work.tenant(tenant.id), invoice_id, today=TODAY, now=NOW)
        await work.commit()
    return effect


def test_a_payment_restores_a_past_due_subscription() -> None:
    assert restored_after_payment(past_due(), TODAY).status is _S.ACTIVE


def test_a_payment_reactivates_an_expired_paid_subscription_from_today() -> None:
    restored = restored_after_payment(_ended(paid=True), TODAY)
    assert restored.status is _S.ACTIVE and restored.period is not None and restored.period.start == TODAY


@pytest.mark.parametrize(
    "sub", [active(), trial(), _ended(paid=False)], ids=["active", "trial", "ended trial"]
)
def test_a_payment_leaves_other_subscriptions_as_they_are(sub: Subscription) -> None:
    assert restored_after_payment(sub, TODAY) == sub


async def test_settling_marks_the_invoice_paid_and_restores_a_past_due_subscription(
    uow: FakeUnitOfWorkFactory, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=past_due())
    invoice = seed.invoice(tenant)
    effect = await _settle(uow, tenant, invoice.id)
    assert effect is not None and (effect.invoice_changed, effect.subscription_changed) == (True, True)
    assert effect.invoice.status == "paid" == seed.store.invoices[invoice.id].invoice.status
    assert seed.store.invoices[invoice.id].paid_at == NOW
    assert seed.subscription(tenant).status is _S.ACTIVE == effect.subscription.status


async def test_settling_an_invoice_of_an_active_subscription_changes_only_the_invoice(
    uow: FakeUnitOfWorkFactory, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active())
    invoice = seed.invoice(tenant)
    effect = await _settle(uow, tenant, invoice.id)
    assert effect is not None and (effect.invoice_changed, effect.subscription_changed) == (True, False)
    assert seed.stored(tenant).version == 0


async def test_a_late_duplicate_payment_never_revives_a_subscription_behind_on_another_invoice(
    uow: FakeUnitOfWorkFactory, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=past_due())
    paid = seed.invoice(tenant, due_invoice(status="paid"))
    effect = await _settle(uow, tenant, paid.id, again=False)
    assert effect is not None and (effect.invoice_changed, effect.subscription_changed) == (False, False)
    assert seed.subscription(tenant).status is _S.PAST_DUE


async def test_an_operator_settling_a_paid_invoice_again_still_restores_the_subscription(
    uow: FakeUnitOfWorkFactory, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=past_due())
    paid = seed.invoice(tenant, due_invoice(status="paid"))
    effect = await _settle(uow, tenant, paid.id, again=True)
    assert effect is not None and (effect.invoice_changed, effect.subscription_changed) == (False, True)
    assert seed.subscription(tenant).status is _S.ACTIVE


async def test_settling_an_invoice_of_another_account_finds_nothing(
    uow: FakeUnitOfWorkFactory, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=past_due())
    elsewhere = seed.invoice(seed.tenant("other"))
    assert await _settle(uow, tenant, elsewhere.id) is None
    assert await _settle(uow, tenant, "no-such-invoice") is None
    assert seed.store.invoices[elsewhere.id].invoice.status == "due"


async def test_a_failed_payment_makes_an_active_subscription_past_due_from_today(
    uow: FakeUnitOfWorkFactory, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active())
    invoice = seed.invoice(tenant)
    effect = await _fail(uow, tenant, invoice.id)
    assert effect is not None and (effect.invoice_changed, effect.subscription_changed) == (False, True)
    sub = seed.subscription(tenant)
    assert (sub.status, sub.past_due_since) == (_S.PAST_DUE, TODAY)


@pytest.mark.parametrize(
    ("sub", "status"),
    [(past_due(since=TODAY - timedelta(days=2)), "due"), (active(), "paid"), (trial(), "due")],
    ids=["already past due", "invoice paid since", "not active"],
)
async def test_a_failed_payment_leaves_anything_but_an_active_subscription_with_a_due_invoice(
    uow: FakeUnitOfWorkFactory, seed: Seed, sub: Subscription, status: InvoiceStatus
) -> None:
    tenant = seed.tenant("acme", subscription=sub)
    invoice = seed.invoice(tenant, due_invoice(status=status))
    effect = await _fail(uow, tenant, invoice.id)
    assert effect is not None and (effect.invoice_changed, effect.subscription_changed) == (False, False)
    assert seed.subscription(tenant) == sub


async def test_a_failed_payment_of_an_unknown_invoice_finds_nothing(
    uow: FakeUnitOfWorkFactory, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active())
    assert await _fail(uow, tenant, "no-such-invoice") is None
    assert seed.subscription(tenant).status is _S.ACTIVE
