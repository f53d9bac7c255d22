"""Operator use cases: trials, the plans catalogue, manual payments, uninstalls
(core.services.operators)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from core.clock import FixedClock
from core.errors import Conflict, NotFound, ValidationFailed
from core.licensing.catalogue import DEFAULT_CATALOGUE
from core.licensing.lifecycle import cancel, expire
from core.licensing.plan_dicts import plan_to_dict
from core.licensing.subscription import ExpiryReason, SubscriptionStatus
from core.services.operators import mark_invoice_paid, replace_plans, set_installed, set_trial_end
from core.tenancy import Operator
from tests.fakes import FakeUnitOfWorkFactory

from .conftest import NOW, TODAY, Seed, active, due_invoice, past_due, trial

_S = SubscriptionStatus


@pytest.fixture
def operator(seed: Seed) -> Operator:
    return seed.operator()


def _plan(**changes: Any) -> dict[str, Any]:
    return plan_to_dict(DEFAULT_CATALOGUE.get("team")) | changes


# Trials ----------------------------------------------------------------------------------


async def test_extends_a_trial_and_audits_it(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, operator: Operator
) -> None:
    tenant = seed.tenant("acme")
    later = TODAY + timedelta(days=40)
    found, sub = await set_trial_end(uow, clock, operator=operator, slug="acme", ends_on=later)
    assert found == tenant and (sub.status, sub.trial_ends_on) == (_S.TRIALING, later)
    assert seed.subscription(tenant) == sub
    [row] = seed.audit("trial.changed")
    assert (row.tenant_id, row.actor, row.subject) == (tenant.id, f"operator:{operator.id}", "acme")
    assert row.detail == {"ends_on": later.isoformat(), "status": "trialing"}


@pytest.mark.parametrize("days", [0, -3])
async def test_a_trial_end_of_today_or_earlier_ends_the_trial_now(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, operator: Operator, days: int
) -> None:
    tenant = seed.tenant("acme")
    _, sub = await set_trial_end(uow, clock, operator=operator, slug="acme",
                                 ends_on=TODAY + timedelta(days=days))
    assert (sub.status, sub.expired_on) == (_S.EXPIRED, TODAY)
    assert sub.expiry_reason is ExpiryReason.TRIAL_EXPIRED
    assert seed.subscription(tenant) == sub


async def test_extending_reopens_a_trial_that_ended(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, operator: Operator
) -> None:
    ended = expire(trial(TODAY - timedelta(days=2)), TODAY - timedelta(days=2))
    tenant = seed.tenant("acme", subscription=ended)
    week = TODAY + timedelta(days=7)
    _, sub = await set_trial_end(uow, clock, operator=operator, slug="acme", ends_on=week)
    assert sub.status is _S.TRIALING is seed.subscription(tenant).status


async def test_refuses_to_change_the_trial_of_a_paying_tenant(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, operator: Operator
) -> None:
    tenant = seed.tenant("acme", subscription=active())
    with pytest.raises(Conflict):
        await set_trial_end(uow, clock, operator=operator, slug="acme", ends_on=TODAY + timedelta(days=7))
    assert seed.subscription(tenant) == active() and uow.commits == 0


async def test_an_unknown_tenant_is_not_found(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, operator: Operator
) -> None:
    with pytest.raises(NotFound):
        await set_trial_end(uow, clock, operator=operator, slug="nope", ends_on=TODAY)


# The catalogue ---------------------------------------------------------------------------


async def test_adds_and_replaces_plans_keeping_every_other_plan(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, operator: Operator
) -> None:
    seed.catalogue()
    gold = _plan(id="gold", name="Gold", monthly_price_annual_billing=3000)
    cheaper_team = _plan(monthly_price_annual_billing=1000)
    catalogue = await replace_plans(uow, clock, operator=operator, plans=[gold, cheaper_team])
    assert catalogue.ids == (*DEFAULT_CATALOGUE.ids, "gold")
    assert catalogue.get("team").monthly_price_annual_billing == 1000
    assert catalogue.get("gold").name == "Gold"
    [row] = seed.audit("plans.changed")
    assert (row.tenant_id, row.actor, row.subject) == (None, f"operator:{operator.id}", "gold,team")


async def test_the_catalogue_as_saved_is_the_one_purchases_then_read(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, operator: Operator
) -> None:
    await replace_plans(uow, clock, operator=operator, plans=[_plan(purchasable=False)])
    async with uow() as work:
        catalogue = await work.directory.catalogue.load()
    assert catalogue.get("team").purchasable is False


async def test_refuses_a_broken_plan_naming_its_position_and_field_and_saves_none(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, operator: Operator
) -> None:
    with pytest.raises(ValidationFailed, match="plan 1:") as refused:
        await replace_plans(uow, clock, operator=operator, plans=[_plan(id="gold"), _plan(min_users=0)])
    assert refused.value.field == "[1].min_users"
    assert uow.units == [] and seed.store.plans == {}


async def test_refuses_a_plan_that_is_not_an_object(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, operator: Operator
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await replace_plans(uow, clock, operator=operator, plans=["team"])
    assert refused.value.field == "[0]."


async def test_refuses_the_same_plan_id_twice(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, operator: Operator
) -> None:
    with pytest.raises(ValidationFailed, match="twice") as refused:
        await replace_plans(uow, clock, operator=operator, plans=[_plan(), _plan(name="Team again")])
    assert refused.value.field == "id" and uow.units == []


# Manual payments -------------------------------------------------------------------------


async def test_a_manual_payment_restores_a_past_due_subscription_and_is_audited(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, operator: Operator
) -> None:
    tenant = seed.tenant("acme", subscription=past_due())
    invoice = seed.invoice(tenant)
    paid, sub = await mark_invoice_paid(uow, clock, operator=operator, slug="acme", invoice_id=invoice.id)
    assert paid.status == "paid" == seed.store.invoices[invoice.id].invoice.status
    assert sub.status is _S.ACTIVE is seed.subscription(tenant).status
    [row] = seed.audit("invoice.paid")
    assert (row.subject, row.detail, row.at) == (invoice.id, {"manual": True}, NOW)


async def test_a_manual_payment_reactivates_an_expired_paid_subscription(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, operator: Operator
) -> None:
    ended = expire(cancel(active(start=TODAY - timedelta(days=400))), TODAY - timedelta(days=10))
    tenant = seed.tenant("acme", subscription=ended)
    invoice = seed.invoice(tenant)
    _, sub = await mark_invoice_paid(uow, clock, operator=operator, slug="acme", invoice_id=invoice.id)
    assert sub.status is _S.ACTIVE and sub.period is not None and sub.period.start == TODAY


async def test_an_invoice_the_tenant_does_not_have_is_not_found_and_nothing_changes(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, operator: Operator
) -> None:
    tenant = seed.tenant("acme", subscription=past_due())
    elsewhere = seed.invoice(seed.tenant("other"), due_invoice())
    with pytest.raises(NotFound):
        await mark_invoice_paid(uow, clock, operator=operator, slug="acme", invoice_id=elsewhere.id)
    assert seed.subscription(tenant).status is _S.PAST_DUE and seed.actions() == []


# Uninstall and reinstall -----------------------------------------------------------------


async def test_uninstalling_keeps_the_tenant_and_blocks_it_and_is_audited(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, operator: Operator
) -> None:
    tenant = seed.tenant("acme")
    updated = await set_installed(uow, clock, operator=operator, slug="acme", installed=False)
    assert updated.uninstalled and updated.uninstalled_at == NOW
    assert seed.store.tenants[tenant.id] == updated
    assert [(r.actor, r.subject) for r in seed.audit("tenant.uninstalled")] == [
        (f"operator:{operator.id}", "acme")
    ]


async def test_reinstalling_brings_the_same_tenant_back(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", uninstalled_at=NOW - timedelta(days=3))
    updated = await set_installed(uow, clock, operator="system:marketplace", slug="acme", installed=True)
    assert updated == replace(tenant, uninstalled_at=None)
    assert [r.actor for r in seed.audit("tenant.reinstalled")] == ["system:marketplace"]


@pytest.mark.parametrize("installed", [True, False])
async def test_asking_for_the_state_a_tenant_is_in_changes_nothing(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, operator: Operator, installed: bool
) -> None:
    tenant = seed.tenant("acme", uninstalled_at=None if installed else NOW - timedelta(days=1))
    assert await set_installed(uow, clock, operator=operator, slug="acme", installed=installed) == tenant
    assert seed.actions() == [] and uow.commits == 0

