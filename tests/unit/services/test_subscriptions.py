"""Viewing, buying, cancelling and resuming a subscription (core.services.subscriptions)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from core.activation.ports import ActivationRecord
from core.clock import FixedClock
from core.errors import Conflict, ManagedByActivation, PlanNotAvailable, SeatLimit, ValidationFailed
from core.licensing.lifecycle import cancel, expire
from core.licensing.subscription import SubscriptionStatus
from core.periods import Interval, first_period
from core.proration.invoice import Invoice
from core.services.subscriptions import (
    SubscriptionView,
    cancel_subscription,
    purchase,
    resume_subscription,
    view_subscription,
)
from core.tenancy import Deployment, Tenant, User
from tests.fakes import FakeBilling, FakeUnitOfWorkFactory

from .conftest import NOW, TODAY, Seed, active, cancelled, trial

_S = SubscriptionStatus


@pytest.fixture
def tenant(seed: Seed) -> Tenant:
    return seed.tenant("acme")


@pytest.fixture
def boss(seed: Seed, tenant: Tenant) -> User:
    return seed.admin(tenant, licensed=True)


async def _buy(uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, tenant: Tenant,
               actor: User, plan_id: str = "team", interval: str = "annual", seats: int = 5
               ) -> tuple[SubscriptionView, Invoice]:
    return await purchase(uow, billing, clock, tenant=tenant, actor=actor, plan_id=plan_id,
                          interval=interval, seats=seats)


# view --------------------------------------------------------------------------------------


async def test_views_the_subscription_with_its_terms_seats_and_credit(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active(seats=7), seat_price=14_400)
    seed.user(tenant, "ann@acme.test", licensed=True)
    seed.credit(tenant, 2_500)
    view = await view_subscription(uow, clock, tenant=tenant)
    assert (view.id, view.subscription) == (tenant.subscription_id, seed.subscription(tenant))
    assert (view.seat_price, view.currency, view.scope) == (14_400, "USD", "tenant")
    assert (view.licensed_users, view.credit_balance, view.managed_by) == (1, 2_500, None)


async def test_proposes_as_many_seats_as_users_of_the_last_30_days(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant
) -> None:
    for days_ago in (0, 5, 29):
        seed.user(tenant, f"u{days_ago}@acme.test", last_used_at=NOW - timedelta(days=days_ago))
    seed.user(tenant, "old@acme.test", last_used_at=NOW - timedelta(days=31))
    seed.user(tenant, "never@acme.test")
    assert (await view_subscription(uow, clock, tenant=tenant)).proposed_seats == 3


async def test_proposes_at_least_one_seat(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant
) -> None:
    assert (await view_subscription(uow, clock, tenant=tenant)).proposed_seats == 1


@pytest.mark.parametrize("mode", ["online", "file"])
async def test_names_the_activation_that_manages_an_activated_server(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, mode: str
) -> None:
    seed.store.activations[tenant.id] = ActivationRecord(mode=mode)
    assert (await view_subscription(uow, clock, tenant=tenant)).managed_by == f"activation_{mode}"


# purchase ---------------------------------------------------------------------------------


async def test_buying_starts_the_period_today_and_invoices_seats_times_price(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User,
) -> None:
    view, invoice = await purchase(uow, billing, clock, tenant=tenant, actor=boss, plan_id="team",
                                   interval="annual", seats=5)
    sub = seed.subscription(tenant)
    assert (sub.status, sub.plan_id, sub.seats, sub.interval) == (_S.ACTIVE, "team", 5, Interval.ANNUAL)
    assert sub.period == first_period(TODAY, Interval.ANNUAL)
    assert (invoice.total, invoice.amount_due, invoice.status, invoice.issued_on) == (
        72_000, 72_000, "due", TODAY
    )
    row = seed.store.invoices[invoice.id]
    assert (row.kind, row.idempotency_key, row.tenant_id) == ("purchase", f"purchase:{invoice.id}", tenant.id)
    assert (seed.stored(tenant).seat_price, seed.stored(tenant).scope) == (14_400, "tenant")
    assert view.subscription == sub and view.seat_price == 14_400


async def test_hands_the_invoice_to_the_payment_rail_after_storing_it(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, tenant: Tenant, boss: User
) -> None:
    _, invoice = await _buy(uow, billing, clock, tenant, boss)
    assert [(c.tenant, c.invoice) for c in billing.collected] == [(tenant, invoice)]


async def test_a_failing_payment_rail_loses_no_invoice(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    rail = FakeBilling(failure=ConnectionError("provider down"))
    with pytest.raises(ConnectionError):
        await _buy(uow, rail, clock, tenant, boss)
    [row] = seed.store.invoices.values()
    assert row.invoice == rail.attempts[0].invoice
    assert seed.subscription(tenant).status is _S.ACTIVE


async def test_pays_a_purchase_from_credit_first(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User,
) -> None:
    seed.credit(tenant, 10_000)
    _, invoice = await purchase(uow, billing, clock, tenant=tenant, actor=boss, plan_id="team",
                                interval="monthly", seats=2)
    assert (invoice.total, invoice.credit_applied, invoice.amount_due) == (3_000, 3_000, 0)
    assert invoice.status == "paid" and seed.store.invoices[invoice.id].paid_at == NOW
    assert [e.amount for e in seed.store.credit[tenant.subscription_id]] == [10_000, -3_000]


async def test_audits_a_purchase_with_its_terms_and_invoice(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User,
) -> None:
    _, invoice = await _buy(uow, billing, clock, tenant, boss, seats=3)
    [row] = seed.audit("subscription.purchased")
    assert (row.actor, row.subject) == (f"user:{boss.id}", "team")
    assert row.detail == {"interval": "annual", "seats": 3, "invoice": invoice.id}


async def test_starts_the_period_on_the_tenants_own_day(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, seed: Seed
) -> None:
    tokyo = seed.tenant("tokyo", time_zone="Asia/Tokyo")
    boss = seed.admin(tokyo, "boss@tokyo.test")
    late_evening_utc = FixedClock(datetime(2026, 3, 10, 20, 0, tzinfo=UTC))
    _, invoice = await _buy(uow, billing, late_evening_utc, tokyo, boss)
    assert invoice.issued_on == date(2026, 3, 11)


async def test_an_enterprise_wide_plan_moves_every_tenant_of_the_enterprise_onto_it(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User,
) -> None:
    sibling = seed.tenant("sibling", enterprise_id=tenant.enterprise_id)
    await _buy(uow, billing, clock, tenant, boss, plan_id="ultimate", seats=20)
    assert seed.store.tenants[sibling.id].subscription_id == tenant.subscription_id
    assert seed.stored(tenant).scope == "enterprise"


async def test_converting_a_trial_to_fewer_seats_keeps_the_users_of_the_last_30_days(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User,
) -> None:
    seed.store.users[tenant.id][boss.id].user = replace(boss, last_used_at=NOW - timedelta(days=2))
    recent = seed.user(tenant, "recent@acme.test", licensed=True, last_used_at=NOW - timedelta(days=1))
    stale = seed.user(tenant, "stale@acme.test", licensed=True, last_used_at=NOW - timedelta(days=40))
    never = seed.user(tenant, "never@acme.test", licensed=True)
    await _buy(uow, billing, clock, tenant, boss, seats=2)
    assert seed.holders(tenant) == {recent.person_id, boss.person_id}
    released = [row.subject for row in seed.audit("seat.released")]
    assert sorted(released) == sorted([stale.person_id, never.person_id])
    assert {row.detail["why"] for row in seed.audit("seat.released")} == {"purchase with fewer seats"}


async def test_buying_again_after_expiry_releases_the_least_recent_users_beyond_the_seats(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    ended = active(seats=3, interval=Interval.MONTHLY, start=TODAY - timedelta(days=90))
    tenant = seed.tenant("acme", subscription=expire(cancel(ended), TODAY))
    boss = seed.admin(tenant)
    old = seed.user(tenant, "old@acme.test", licensed=True, last_used_at=NOW - timedelta(days=60))
    new = seed.user(tenant, "new@acme.test", licensed=True, last_used_at=NOW - timedelta(days=50))
    await _buy(uow, billing, clock, tenant, boss, seats=1)
    assert seed.holders(tenant) == {new.person_id}
    assert [row.subject for row in seed.audit("seat.released")] == [old.person_id]


async def test_refuses_to_buy_while_a_subscription_runs_and_changes_nothing(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active())
    boss = seed.admin(tenant)
    with pytest.raises(Conflict):
        await _buy(uow, billing, clock, tenant, boss)
    assert seed.store.invoices == {} and billing.attempts == [] and uow.commits == 0


@pytest.mark.parametrize(
    ("plan_id", "seats", "error"),
    [("gold", 5, PlanNotAvailable), ("legacy_services", 5, PlanNotAvailable), ("start", 20, SeatLimit),
     ("ultimate", 5, SeatLimit)],
    ids=["unknown plan", "legacy plan", "too many seats", "too few seats"],
)
async def test_refuses_a_purchase_outside_the_plans_rules(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User, plan_id: str, seats: int, error: type[Exception],
) -> None:
    with pytest.raises(error):
        await _buy(uow, billing, clock, tenant, boss, plan_id=plan_id, seats=seats)
    assert seed.subscription(tenant) == trial() and uow.commits == 0


async def test_refuses_a_cloud_only_plan_on_premises(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("server", deployment=Deployment.ONPREM)
    boss = seed.admin(tenant)
    with pytest.raises(PlanNotAvailable):
        await _buy(uow, billing, clock, tenant, boss, plan_id="start")


async def test_refuses_an_unknown_interval_before_opening_a_transaction(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, tenant: Tenant, boss: User
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await _buy(uow, billing, clock, tenant, boss, interval="weekly")
    assert refused.value.field == "interval" and uow.units == []


@pytest.mark.parametrize("mode", ["online", "file"])
async def test_refuses_a_purchase_on_a_server_whose_licence_comes_from_its_activation(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User, mode: str,
) -> None:
    seed.store.activations[tenant.id] = ActivationRecord(mode=mode)
    with pytest.raises(ManagedByActivation) as refused:
        await _buy(uow, billing, clock, tenant, boss)
    assert refused.value.extra == {"activation": mode}
    assert seed.store.invoices == {} and uow.commits == 0


# cancel / resume ---------------------------------------------------------------------------


async def test_cancelling_stops_renewal_keeps_the_period_and_is_audited(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active())
    boss = seed.admin(tenant)
    view = await cancel_subscription(uow, clock, tenant=tenant, actor=boss)
    assert view.subscription.status is _S.CANCELLED
    assert view.subscription.period == active().period == seed.subscription(tenant).period
    [row] = seed.audit("subscription.cancelled")
    assert (row.subject, row.detail) == (tenant.subscription_id, {"status": "cancelled"})


async def test_cancelling_twice_changes_nothing_the_second_time(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=cancelled())
    boss = seed.admin(tenant)
    await cancel_subscription(uow, clock, tenant=tenant, actor=boss)
    assert seed.actions() == [] and seed.stored(tenant).version == 0


async def test_refuses_to_cancel_a_trial(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, boss: User
) -> None:
    with pytest.raises(Conflict):
        await cancel_subscription(uow, clock, tenant=tenant, actor=boss)
    assert uow.commits == 0


async def test_resuming_before_the_period_ends_undoes_the_cancel(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=cancelled())
    boss = seed.admin(tenant)
    view = await resume_subscription(uow, clock, tenant=tenant, actor=boss)
    assert view.subscription.status is _S.ACTIVE is seed.subscription(tenant).status
    assert [row.detail for row in seed.audit("subscription.resumed")] == [{"status": "active"}]


async def test_refuses_to_resume_once_the_period_has_ended(
    uow: FakeUnitOfWorkFactory, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=cancelled(start=TODAY - timedelta(days=400)))
    boss = seed.admin(tenant)
    with pytest.raises(Conflict, match="buy a new subscription"):
        await resume_subscription(uow, FixedClock(NOW), tenant=tenant, actor=boss)
    assert seed.subscription(tenant).status is _S.CANCELLED


async def test_refuses_to_cancel_a_subscription_managed_by_an_activation(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active())
    boss = seed.admin(tenant)
    seed.store.activations[tenant.id] = ActivationRecord(mode="online")
    with pytest.raises(ManagedByActivation, match="refresh the activation"):
        await cancel_subscription(uow, clock, tenant=tenant, actor=boss)
    assert seed.subscription(tenant).status is _S.ACTIVE
