"""What the calendar does to subscriptions: renewals, trial ends, grace ends (core.services.renewals)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.clock import FixedClock
from core.licensing.catalogue import DEFAULT_CATALOGUE as PLANS
from core.licensing.changes import change_plan
from core.licensing.subscription import ExpiryReason, Subscription, SubscriptionStatus
from core.periods import Interval
from core.services.renewals import DueReport, renew_due, run_due_for_tenant, sweep_due_subscriptions
from core.tenancy import Deployment, Tenant
from tests.fakes import FakeBilling, FakeUnitOfWorkFactory

from .conftest import NOW, TODAY, Seed, active, cancelled, due_invoice, past_due, trial

_S = SubscriptionStatus
GRACE = 14
#: An annual subscription bought a year ago: its period ends today.
A_YEAR_AGO = date(2025, 3, 10)


def _due_today(seats: int = 3) -> Subscription:
    return active(seats=seats, start=A_YEAR_AGO)


async def _run(uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, tenant: Tenant
               ) -> DueReport:
    return await run_due_for_tenant(uow, billing, clock, tenant=tenant, grace_days=GRACE)


async def test_renews_a_subscription_on_its_expiry_day_with_one_invoice_of_seats_times_price(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=_due_today(seats=3))
    report = await _run(uow, billing, clock, tenant)
    sub = seed.subscription(tenant)
    assert sub.status is _S.ACTIVE and sub.period is not None
    assert (sub.period.start, sub.period.end) == (TODAY, date(2027, 3, 10))
    [invoice] = report.invoices
    assert (invoice.total, invoice.amount_due, invoice.issued_on) == (3 * 14_400, 3 * 14_400, TODAY)
    row = seed.store.invoices[invoice.id]
    assert (row.kind, row.idempotency_key, row.tenant_id) == (
        "renewal", f"renewal:{tenant.subscription_id}:{TODAY.isoformat()}", tenant.id
    )
    assert (report.renewed, report.expired, report.skipped, report.not_collected) == (1, 0, 0, 0)
    assert billing.invoices == [invoice]


async def test_audits_each_renewal_with_its_period(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=_due_today())
    await _run(uow, billing, clock, tenant)
    [row] = seed.audit("subscription.renewed")
    assert (row.tenant_id, row.actor, row.subject, row.at) == (
        tenant.id, "system:renewals", tenant.subscription_id, NOW
    )
    assert row.detail == {"period_start": TODAY.isoformat()}


async def test_renewing_twice_on_the_same_day_makes_one_invoice(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=_due_today())
    await _run(uow, billing, clock, tenant)
    again = await _run(uow, billing, clock, tenant)
    assert (again.renewed, again.invoices) == (0, [])
    assert len(seed.store.invoices) == 1 and len(billing.collected) == 1
    assert uow.commits == 1


async def test_an_invoice_stored_for_the_period_already_is_not_issued_again(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=_due_today())
    await _run(uow, billing, clock, tenant)
    # Another worker's renewal committed the invoice, but this subscription row was read before.
    seed.stored(tenant).subscription = _due_today()
    report = await _run(uow, billing, clock, tenant)
    assert report.renewed == 1 and report.invoices == []
    assert len(seed.store.invoices) == 1


async def test_a_server_that_was_off_catches_up_one_renewal_per_missed_period(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active(seats=2, interval=Interval.MONTHLY,
                                                     start=date(2025, 12, 10)))
    report = await _run(uow, billing, clock, tenant)
    assert report.renewed == 3
    assert [i.issued_on for i in report.invoices] == [date(2026, 1, 10), date(2026, 2, 10), date(2026, 3, 10)]
    assert {i.total for i in report.invoices} == {2 * 1_500}
    sub = seed.subscription(tenant)
    assert sub.period is not None and sub.period.end == date(2026, 4, 10)


async def test_a_renewal_is_paid_from_credit_first(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=_due_today(seats=1))
    seed.credit(tenant, 20_000)
    [invoice] = (await _run(uow, billing, clock, tenant)).invoices
    assert (invoice.credit_applied, invoice.amount_due, invoice.status) == (14_400, 0, "paid")
    assert [e.amount for e in seed.store.credit[tenant.subscription_id]] == [20_000, -14_400]


async def test_a_renewal_is_priced_from_the_catalogue_as_it_is_then(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    seed.catalogue()
    seed.store.plans["team"]["monthly_price_annual_billing"] = 1_300
    tenant = seed.tenant("acme", subscription=_due_today(seats=1), seat_price=14_400)
    [invoice] = (await _run(uow, billing, clock, tenant)).invoices
    assert invoice.total == 15_600 and seed.stored(tenant).seat_price == 15_600


@pytest.mark.parametrize(
    ("sub", "reason"),
    [
        (trial(TODAY), ExpiryReason.TRIAL_EXPIRED),
        (cancelled(start=A_YEAR_AGO), ExpiryReason.PERIOD_ENDED),
        (past_due(since=TODAY - timedelta(days=GRACE)), ExpiryReason.PAYMENT_FAILED),
    ],
    ids=["trial ended", "cancelled period ended", "grace over"],
)
async def test_expires_a_subscription_whose_time_is_up_without_an_invoice(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed,
    sub: Subscription, reason: ExpiryReason,
) -> None:
    tenant = seed.tenant("acme", subscription=sub)
    report = await _run(uow, billing, clock, tenant)
    expired = seed.subscription(tenant)
    assert (expired.status, expired.expiry_reason) == (_S.EXPIRED, reason)
    assert (report.expired, report.renewed, seed.store.invoices) == (1, 0, {})
    [row] = seed.audit("subscription.expired")
    assert row.detail == {"reason": reason.value}


@pytest.mark.parametrize(
    "sub",
    [active(start=A_YEAR_AGO + timedelta(days=1)), trial(TODAY + timedelta(days=1)),
     past_due(since=TODAY - timedelta(days=GRACE - 1))],
    ids=["period runs", "trial runs", "within grace"],
)
async def test_leaves_alone_a_subscription_with_nothing_due_and_writes_nothing(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed, sub: Subscription
) -> None:
    tenant = seed.tenant("acme", subscription=sub)
    report = await _run(uow, billing, clock, tenant)
    assert (report.renewed, report.expired) == (0, 0)
    assert seed.subscription(tenant) == sub and uow.commits == 0


async def test_a_renewal_onto_a_scheduled_free_plan_releases_the_least_recent_users(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    start = active("start", seats=5, start=A_YEAR_AGO)
    # Scheduled while two users were licensed; two more were licensed since (5 seats run to the end).
    scheduled = change_plan(start, PLANS.get("start"), PLANS.get("free"), 2, Deployment.CLOUD, 2)
    tenant = seed.tenant("acme", subscription=scheduled)
    users = [seed.user(tenant, f"u{i}@acme.test", licensed=True, last_used_at=NOW - timedelta(days=i))
             for i in range(4)]
    report = await _run(uow, billing, clock, tenant)
    sub = seed.subscription(tenant)
    assert (sub.plan_id, sub.seats, sub.scheduled_plan_id) == ("free", 2, None)
    assert report.invoices == [] and report.renewed == 1
    assert seed.holders(tenant) == {users[0].person_id, users[1].person_id}
    released = seed.audit("seat.released")
    assert sorted(r.subject for r in released) == sorted([users[2].person_id, users[3].person_id])
    assert {r.detail["why"] for r in released} == {"renewed with fewer seats"}


async def test_tenants_sharing_a_subscription_renew_it_once(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    first = seed.tenant("first", subscription=active("ultimate", seats=20, start=A_YEAR_AGO),
                        scope="enterprise")
    second = seed.tenant("second", sharing=first)
    report = await renew_due(uow, billing, clock, tenants=[first, second], grace_days=GRACE)
    assert report.renewed == 1 and len(report.invoices) == 1
    assert seed.store.invoices[report.invoices[0].id].tenant_id == first.id


async def test_a_subscription_another_transaction_holds_is_left_for_the_next_sweep(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    held = seed.tenant("held", subscription=_due_today())
    free = seed.tenant("free", subscription=_due_today())
    seed.store.locked_elsewhere.add(held.subscription_id)
    report = await renew_due(uow, billing, clock, tenants=[held, free], grace_days=GRACE)
    assert (report.skipped, report.renewed) == (1, 1)
    assert seed.subscription(held) == _due_today() != seed.subscription(free)


async def test_a_failing_payment_rail_keeps_the_renewal_and_counts_the_invoice_not_collected(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=_due_today())
    rail = FakeBilling(failure=ConnectionError("provider down"))
    report = await _run(uow, rail, clock, tenant)
    assert (report.renewed, report.not_collected, len(report.invoices)) == (1, 1, 1)
    assert report.invoices[0].id in seed.store.invoices


async def test_today_is_the_day_in_the_tenants_time_zone(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=_due_today(), time_zone="America/Los_Angeles")
    morning_utc = FixedClock(NOW.replace(hour=6))  # still yesterday in Los Angeles
    assert (await _run(uow, billing, morning_utc, tenant)).renewed == 0
    assert (await _run(uow, billing, FixedClock(NOW.replace(hour=9)), tenant)).renewed == 1


def test_reports_of_several_batches_add_up() -> None:
    first, second = due_invoice(), due_invoice()
    total = DueReport(renewed=1, expired=2, invoices=[first], skipped=3, not_collected=4)
    total.add(DueReport(renewed=10, expired=20, invoices=[second], skipped=30, not_collected=40))
    assert (total.renewed, total.expired, total.skipped, total.not_collected) == (11, 22, 33, 44)
    assert total.invoices == [first, second]


async def test_renewing_no_tenants_opens_no_transaction(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock
) -> None:
    report = await renew_due(uow, billing, clock, tenants=[], grace_days=GRACE)
    assert report.renewed == 0 and uow.units == []


async def test_the_sweep_renews_and_expires_everything_due_and_leaves_the_rest(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    due = seed.tenant("due", subscription=_due_today())
    ended = seed.tenant("ended", subscription=trial(TODAY))
    running = seed.tenant("running", subscription=active(start=TODAY - timedelta(days=10)))
    report = await sweep_due_subscriptions(uow, billing, clock, grace_days=GRACE)
    assert (report.renewed, report.expired) == (1, 1)
    assert seed.subscription(due).period != _due_today().period
    assert seed.subscription(ended).status is _S.EXPIRED
    assert seed.subscription(running) == active(start=TODAY - timedelta(days=10))
