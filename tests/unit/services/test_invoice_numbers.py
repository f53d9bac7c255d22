"""Human invoice numbers: every invoice of a billing account takes the next number of one
gap-free sequence when it is stored (purchase, change, renewal alike)."""

from __future__ import annotations

from datetime import date, timedelta

from core.clock import FixedClock
from core.periods import Interval
from core.proration import format_invoice_number
from core.services.changes import RequestedChange, change_subscription
from core.services.renewals import run_due_for_tenant
from core.services.subscriptions import purchase
from tests.fakes import FakeBilling, FakeUnitOfWorkFactory

from .conftest import TODAY, Seed, active


def test_a_number_reads_as_the_year_of_issue_and_six_digits() -> None:
    assert format_invoice_number(date(2026, 12, 6), 123) == "STINT-2026-000123"
    assert format_invoice_number(date(2027, 1, 1), 1_234_567) == "STINT-2027-1234567"
    assert format_invoice_number(date(2026, 12, 6), 0) is None


async def test_a_purchase_then_a_change_then_a_renewal_are_numbered_one_two_three(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme")
    boss = seed.admin(tenant, licensed=True)
    _, bought = await purchase(uow, billing, clock, tenant=tenant, actor=boss, plan_id="team",
                               interval="monthly", seats=3)
    changed = await change_subscription(uow, billing, clock, tenant=tenant, actor=boss,
                                        requested=RequestedChange(seats=5))
    assert changed.invoice is not None
    clock.advance(days=31)
    report = await run_due_for_tenant(uow, billing, clock, tenant=tenant, grace_days=14)
    [renewed] = report.invoices
    assert [bought.number, changed.invoice.number, renewed.number] == [1, 2, 3]
    assert bought.number_text == f"STINT-{TODAY.year}-000001"
    # What is stored, and what the payment rail was handed, carry the same numbers.
    assert sorted(row.invoice.number for row in seed.store.invoices.values()) == [1, 2, 3]
    assert [invoice.number for invoice in billing.invoices] == [1, 2, 3]


async def test_each_billing_account_counts_on_its_own(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    ours, theirs = seed.tenant("ours"), seed.tenant("theirs")
    for tenant in (ours, theirs):
        boss = seed.admin(tenant, f"boss@{tenant.slug}.test", licensed=True)
        await purchase(uow, billing, clock, tenant=tenant, actor=boss, plan_id="team",
                       interval="monthly", seats=3)
    await change_subscription(uow, billing, clock, tenant=ours, actor=seed.admin(ours, "two@ours.test"),
                              requested=RequestedChange(seats=4))
    numbers = sorted(
        (row.subscription_id == ours.subscription_id, row.invoice.number)
        for row in seed.store.invoices.values()
    )
    assert numbers == [(False, 1), (True, 1), (True, 2)]


async def test_a_sweep_catching_up_several_periods_numbers_them_in_period_order(
    uow: FakeUnitOfWorkFactory, billing: FakeBilling, clock: FixedClock, seed: Seed
) -> None:
    # Monthly, bought three months and a day ago: three renewals are due at once.
    started = TODAY - timedelta(days=92)
    tenant = seed.tenant("late", subscription=active(seats=2, interval=Interval.MONTHLY, start=started))
    report = await run_due_for_tenant(uow, billing, clock, tenant=tenant, grace_days=14)
    issued = [invoice.issued_on for invoice in report.invoices]
    assert len(issued) == 3 and issued == sorted(issued)
    assert [invoice.number for invoice in report.invoices] == [1, 2, 3]
