"""Seat, plan and interval changes with per-day proration, and their quotes (core.services.changes)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.activation.ports import ActivationRecord
from core.billing.ports import RemoteInvoice
from core.clock import FixedClock
from core.errors import (
    ManagedByActivation,
    PlanNotAvailable,
    SeatLimit,
    SubscriptionShared,
    ValidationFailed,
)
from core.licensing.subscription import Subscription, SubscriptionStatus
from core.periods import Interval, first_period
from core.services.changes import (
    ChangeResult,
    RequestedChange,
    change_subscription,
    preview_subscription_change,
    quote_subscription_change,
)
from core.tenancy import Tenant, User
from tests.fakes import FakeBilling, FakeUnitOfWorkFactory

from .conftest import NOW, TODAY, Seed, active, cancelled, due_invoice

#: A year's Team subscription of 10 seats, 100 days into its period.
STARTED = TODAY - timedelta(days=100)


@pytest.fixture
def tenant(seed: Seed) -> Tenant:
    return seed.tenant("acme", subscription=active(seats=10, start=STARTED), seat_price=14_400)


@pytest.fixture
def boss(seed: Seed, tenant: Tenant) -> User:
    return seed.admin(tenant, licensed=True)


async def _change(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, tenant: Tenant, actor: User, *,
    seats: int | None = None, plan_id: str | None = None, interval: str | None = None,
) -> ChangeResult:
    requested = RequestedChange(seats=seats, plan_id=plan_id, interval=interval)
    return await change_subscription(uow, billing, clock, tenant=tenant, actor=actor, requested=requested)


def test_a_change_must_say_what_to_change() -> None:
    with pytest.raises(ValidationFailed) as refused:
        RequestedChange().to_change()
    assert refused.value.field == "seats"


def test_a_change_refuses_an_unknown_interval() -> None:
    with pytest.raises(ValidationFailed) as refused:
        RequestedChange(interval="weekly").to_change()
    assert refused.value.field == "interval"


# Quotes -----------------------------------------------------------------------------------


async def test_quotes_a_seat_increase_for_the_days_left_and_changes_nothing(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant
) -> None:
    quote = await quote_subscription_change(uow, clock, tenant=tenant, requested=RequestedChange(seats=15))
    [line] = quote.lines
    assert (line.days_left, line.period_days) == (265, 365)
    # 5 more seats × 14,400 a year, for 265 of 365 days.
    assert quote.total == line.amount == round(5 * 14_400 * 265 / 365)
    assert (quote.new.seats, quote.on) == (15, TODAY)
    assert uow.writes == 0 and seed.stored(tenant).version == 0


async def test_the_change_makes_exactly_the_quoted_lines(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, tenant: Tenant, boss: User
) -> None:
    quote = await quote_subscription_change(uow, clock, tenant=tenant, requested=RequestedChange(seats=15))
    result = await _change(uow, billing, clock, tenant, boss, seats=15)
    assert result.quote == quote
    assert result.invoice is not None and result.invoice.total == quote.total


async def test_quotes_on_another_day_of_the_period(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant
) -> None:
    later = TODAY + timedelta(days=100)
    quote = await quote_subscription_change(uow, clock, tenant=tenant, requested=RequestedChange(seats=15),
                                            on=later)
    assert quote.on == later and quote.lines[0].days_left == 165


async def test_refuses_a_quote_outside_the_running_period_naming_the_day(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant
) -> None:
    with pytest.raises(ValidationFailed, match=str(STARTED - timedelta(days=1))) as refused:
        await quote_subscription_change(uow, clock, tenant=tenant, requested=RequestedChange(seats=15),
                                        on=STARTED - timedelta(days=1))
    assert refused.value.field == "on"


async def test_a_quote_never_promises_a_change_that_would_be_refused(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant
) -> None:
    for i in range(3):
        seed.user(tenant, f"u{i}@acme.test", licensed=True)
    with pytest.raises(SeatLimit):
        await quote_subscription_change(uow, clock, tenant=tenant, requested=RequestedChange(seats=2))


async def test_a_trial_has_no_period_to_change_and_is_asked_to_buy_first(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("trialco")
    with pytest.raises(ValidationFailed, match="buy a plan first") as refused:
        await quote_subscription_change(uow, clock, tenant=tenant, requested=RequestedChange(seats=5))
    assert refused.value.field == "plan"


async def test_refuses_to_quote_an_unknown_plan(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant
) -> None:
    with pytest.raises(PlanNotAvailable):
        await quote_subscription_change(uow, clock, tenant=tenant, requested=RequestedChange(plan_id="gold"))


async def test_prices_the_current_terms_at_the_seat_price_in_force_not_the_catalogues(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active(seats=10, start=STARTED), seat_price=10_000)
    quote = await quote_subscription_change(uow, clock, tenant=tenant, requested=RequestedChange(seats=11))
    assert quote.current.seat_price == quote.new.seat_price == 10_000
    assert quote.total == round(10_000 * 265 / 365)


# Changes ----------------------------------------------------------------------------------


async def test_a_seat_increase_is_invoiced_saved_collected_and_audited(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User,
) -> None:
    result = await _change(uow, billing, clock, tenant, boss, seats=15)
    invoice = result.invoice
    assert invoice is not None and invoice.status == "due"
    row = seed.store.invoices[invoice.id]
    assert (row.kind, row.idempotency_key) == ("proration", f"change:{invoice.id}")
    sub = seed.subscription(tenant)
    assert sub.seats == 15 and sub.period == active(start=STARTED).period
    assert seed.stored(tenant).seat_price == 14_400
    assert billing.invoices == [invoice]
    [audited] = seed.audit("subscription.changed")
    assert (audited.actor, audited.subject) == (f"user:{boss.id}", tenant.subscription_id)
    assert audited.detail == {
        "lines": [line.description for line in result.quote.lines], "total": result.quote.total,
        "scheduled_for": None, "credit_notes": [], "to_credit_balance": 0,
    }
    assert result.view.subscription == sub


async def test_a_charge_is_paid_from_credit_first(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User,
) -> None:
    seed.credit(tenant, 1_000)
    result = await _change(uow, billing, clock, tenant, boss, seats=15)
    assert result.invoice is not None and result.invoice.credit_applied == 1_000
    assert result.view.credit_balance == 0


async def test_a_seat_decrease_becomes_credit_not_an_invoice(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User,
) -> None:
    result = await _change(uow, billing, clock, tenant, boss, seats=8)
    assert result.invoice is None and billing.attempts == [] and seed.store.invoices == {}
    [entry] = seed.store.credit[tenant.subscription_id]
    assert entry.amount == -result.quote.total == round(2 * 14_400 * 265 / 365)
    assert result.view.credit_balance == entry.amount


async def test_a_seat_decrease_lowers_the_unpaid_invoice_that_bought_the_seats_instead(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User,
) -> None:
    """Issue #15: nothing was paid, so the decrease is a credit note on the unpaid invoice, not credit."""
    bought = seed.invoice(tenant, due_invoice(144_000, issued_on=STARTED))
    result = await _change(uow, billing, clock, tenant, boss, seats=8)
    credit = -result.quote.total
    [note] = result.credit_notes
    assert (note.invoice_id, note.amount, note.days_left) == (bought.id, credit, 265)
    stored = seed.store.invoices[bought.id].invoice
    assert (stored.total, stored.amount_due, stored.status) == (144_000, 144_000 - credit, "due")
    assert stored.credit_notes == (note,) and stored.lines == bought.lines
    assert seed.store.credit.get(tenant.subscription_id, []) == []
    assert (result.view.credit_balance, result.to_credit_balance, result.against_invoices) == (0, 0, credit)
    assert result.credited_invoices == (stored,)
    assert billing.credit_notes == [note] and billing.attempts == []
    detail = seed.audit("subscription.changed")[0].detail
    assert detail["credit_notes"] == [{"id": note.id, "invoice": bought.id, "amount": credit}]


async def test_only_what_exceeds_the_unpaid_amounts_becomes_credit(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User,
) -> None:
    """An unpaid invoice of 100.00 takes 100.00 of the credit and is settled; the rest is credit."""
    small = seed.invoice(tenant, due_invoice(10_000, issued_on=STARTED))
    result = await _change(uow, billing, clock, tenant, boss, seats=8)
    stored = seed.store.invoices[small.id]
    assert (stored.invoice.amount_due, stored.invoice.status, stored.paid_at) == (0, "paid", NOW)
    [entry] = seed.store.credit[tenant.subscription_id]
    assert entry.amount == result.to_credit_balance == -result.quote.total - 10_000
    assert result.view.credit_balance == entry.amount


async def test_paid_invoices_and_those_of_an_earlier_period_are_never_credit_noted(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User,
) -> None:
    """A paid purchase and last period's unpaid invoice stay as they are; the credit is account credit."""
    paid = seed.invoice(tenant, due_invoice(144_000, issued_on=STARTED, status="paid"))
    older = seed.invoice(tenant, due_invoice(144_000, issued_on=STARTED - timedelta(days=1)))
    result = await _change(uow, billing, clock, tenant, boss, seats=8)
    assert result.credit_notes == ()
    assert seed.store.invoices[paid.id].invoice == paid and seed.store.invoices[older.id].invoice == older
    assert result.view.credit_balance == -result.quote.total


@pytest.mark.parametrize("state", ["paid", "paying"])
async def test_an_invoice_the_provider_charged_or_is_charging_is_not_credit_noted(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User, state: str,
) -> None:
    """Stripe took the money and its invoice.paid has not arrived: the invoice is due here, but paid."""
    bought = seed.invoice(tenant, due_invoice(144_000, issued_on=STARTED))
    seed.store.remote_invoices[bought.id] = RemoteInvoice(
        bought.id, tenant.subscription_id, tenant.id, state=state, remote_id="in_1"
    )
    result = await _change(uow, billing, clock, tenant, boss, seats=8)
    assert result.credit_notes == () and seed.store.invoices[bought.id].invoice == bought
    assert result.view.credit_balance == -result.quote.total


async def test_a_quote_says_how_much_would_lower_unpaid_invoices_and_writes_nothing(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant
) -> None:
    bought = seed.invoice(tenant, due_invoice(10_000, issued_on=STARTED))
    preview = await preview_subscription_change(uow, clock, tenant=tenant, requested=RequestedChange(seats=8))
    assert [(n.invoice_id, n.amount) for n in preview.credit_notes] == [(bought.id, 10_000)]
    assert preview.against_invoices + preview.to_credit_balance == -preview.quote.total
    assert seed.store.invoices[bought.id].invoice == bought


async def test_a_move_to_free_waits_for_the_period_end_keeping_the_paid_price(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active("start", seats=3, start=STARTED), seat_price=8_400)
    boss = seed.admin(tenant, licensed=True)
    result = await _change(uow, billing, clock, tenant, boss, plan_id="free")
    sub = seed.subscription(tenant)
    assert (sub.plan_id, sub.scheduled_plan_id, sub.scheduled_seats) == ("start", "free", 3)
    assert result.invoice is None and seed.store.credit.get(tenant.subscription_id, []) == []
    assert seed.stored(tenant).seat_price == 8_400
    assert sub.period is not None
    assert seed.audit("subscription.changed")[0].detail["scheduled_for"] == sub.period.end.isoformat()


async def test_a_move_to_an_enterprise_wide_plan_moves_every_tenant_of_the_enterprise(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User,
) -> None:
    sibling = seed.tenant("sibling", enterprise_id=tenant.enterprise_id)
    await _change(uow, billing, clock, tenant, boss, plan_id="ultimate", seats=20)
    assert seed.store.tenants[sibling.id].subscription_id == tenant.subscription_id
    assert (seed.stored(tenant).scope, seed.stored(tenant).seat_price) == ("enterprise", 19_200)
    assert seed.subscription(tenant).plan_id == "ultimate"


async def test_an_interval_change_reprices_the_days_left_and_keeps_the_period(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User,
) -> None:
    result = await _change(uow, billing, clock, tenant, boss, interval="monthly")
    sub = seed.subscription(tenant)
    assert sub.interval is Interval.MONTHLY and sub.period == active(start=STARTED).period
    assert result.quote.interval_from_next_period is Interval.MONTHLY
    assert seed.stored(tenant).seat_price == 1_500


async def test_a_cancelled_subscription_may_still_change_its_seats(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=cancelled(start=STARTED), seat_price=14_400)
    boss = seed.admin(tenant)
    await _change(uow, billing, clock, tenant, boss, seats=12)
    assert seed.subscription(tenant).seats == 12


async def test_a_legacy_plan_accepts_seat_changes_but_cannot_be_moved_onto(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User,
) -> None:
    legacy = Subscription("legacy_services", SubscriptionStatus.ACTIVE, Interval.ANNUAL, 5,
                          period=first_period(STARTED, Interval.ANNUAL))
    old = seed.tenant("old", subscription=legacy, seat_price=12_000)
    old_boss = seed.admin(old, "boss@old.test")
    await _change(uow, billing, clock, old, old_boss, seats=6)
    assert seed.subscription(old).seats == 6
    with pytest.raises(PlanNotAvailable):
        await _change(uow, billing, clock, tenant, boss, plan_id="legacy_services")


async def test_refuses_fewer_seats_than_licensed_users_and_keeps_nothing(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User,
) -> None:
    seed.user(tenant, "u@acme.test", licensed=True)
    with pytest.raises(SeatLimit) as refused:
        await _change(uow, billing, clock, tenant, boss, seats=1)
    assert refused.value.extra == {"seats": 1, "licensed_users": 2}
    assert seed.subscription(tenant).seats == 10 and seed.actions() == [] and uow.commits == 0


async def test_refuses_a_change_that_asks_for_the_terms_in_force(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, tenant: Tenant, boss: User
) -> None:
    with pytest.raises(ValidationFailed, match="already in force"):
        await _change(uow, billing, clock, tenant, boss, seats=10)


async def test_refuses_a_change_on_a_server_whose_licence_comes_from_its_activation(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User,
) -> None:
    seed.store.activations[tenant.id] = ActivationRecord(mode="file")
    with pytest.raises(ManagedByActivation, match="install the new activation file"):
        await _change(uow, billing, clock, tenant, boss, seats=15)
    assert seed.subscription(tenant).seats == 10 and uow.commits == 0


async def test_the_change_is_stored_even_when_the_payment_rail_fails(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    rail = FakeBilling(failure=ConnectionError("provider down"))
    with pytest.raises(ConnectionError):
        await _change(uow, rail, clock, tenant, boss, seats=15)
    assert seed.subscription(tenant).seats == 15 and len(seed.store.invoices) == 1
    assert seed.store.invoices[rail.attempts[0].invoice.id].created_at == NOW


async def test_a_move_to_free_naming_an_interval_leaves_the_running_terms_priced_as_they_were(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active("start", seats=3, start=STARTED), seat_price=8_400)
    boss = seed.admin(tenant, licensed=True)
    await _change(uow, billing, clock, tenant, boss, plan_id="free", interval="monthly")
    quote = await quote_subscription_change(uow, clock, tenant=tenant, requested=RequestedChange(seats=4))
    # One more seat of Start at 84.00 a year, for 265 of the period's 365 days.
    assert quote.total == round(8_400 * 265 / 365)


async def test_a_move_from_an_enterprise_wide_plan_to_a_tenant_plan_covers_only_the_one_tenant(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active("ultimate", seats=20, start=STARTED),
                         seat_price=19_200, scope="enterprise")
    sibling = seed.tenant("sibling", sharing=tenant)
    boss = seed.admin(tenant, licensed=True)
    with pytest.raises(SubscriptionShared, match="sibling"):
        await _change(uow, billing, clock, tenant, boss, plan_id="team", seats=20)
    with pytest.raises(SubscriptionShared):
        await quote_subscription_change(uow, clock, tenant=tenant, requested=RequestedChange(plan_id="team"))
    # Nothing moved: both tenants still share the Ultimate subscription.
    assert seed.store.tenants[sibling.id].subscription_id == seed.store.tenants[tenant.id].subscription_id


async def test_a_move_from_an_enterprise_wide_plan_to_a_tenant_plan_goes_ahead_when_no_one_shares_it(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active("ultimate", seats=20, start=STARTED),
                         seat_price=19_200, scope="enterprise")
    boss = seed.admin(tenant, licensed=True)
    result = await _change(uow, billing, clock, tenant, boss, plan_id="team", seats=20)
    assert result.view.subscription.plan_id == "team"
