"""Invoice numbers on the real databases: gap-free and unique per billing account under
concurrent purchases, renewals and changes; a rolled-back invoice gives its number back;
the migration numbers the invoices issued before it in issue order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from core.clock import FixedClock
from core.errors import ValidationFailed
from core.periods import Interval, first_period
from core.proration import CreditLedger, Terms, purchase_invoice
from core.services.changes import RequestedChange, change_subscription
from core.services.renewals import run_due_for_tenant
from core.services.signup import SignupResult, signup
from core.services.subscriptions import purchase
from plugins.billing_manual import ManualBilling
from plugins.identity.passwords import Argon2Hasher
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade
from plugins.storage.uow import PiccoloUnitOfWorkFactory

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
#: A month later: the monthly subscriptions bought at START renew today.
RENEWAL_DAY = datetime(2026, 2, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[PiccoloUnitOfWorkFactory]:
    engine = await storage_engine.open_engine(database_url, pool_size=12)
    storage_engine.bind(engine)
    await upgrade(engine)
    yield PiccoloUnitOfWorkFactory(engine)
    await storage_engine.close(engine)


async def _signup(uow: PiccoloUnitOfWorkFactory, clock: FixedClock, slug: str) -> SignupResult:
    return await signup(uow, Argon2Hasher(fast=True), clock, slug=slug, name=slug.title(), deployment="cloud",
                        admin_email=f"admin@{slug}.test", admin_password="correct horse battery",
                        admin_name="Admin", trial_days=28)


async def _numbers(uow: PiccoloUnitOfWorkFactory, made: SignupResult) -> list[int]:
    async with uow() as work:
        listed = await work.tenant(made.tenant.id).invoices().list(limit=200)
    return sorted(item.invoice.number for item in listed)


async def test_twenty_concurrent_invoices_are_numbered_gap_free_and_unique_per_account(
    uow: PiccoloUnitOfWorkFactory,
) -> None:
    """16 tenants buy at once while 2 others each renew and change seats at once: every
    account's numbers are 1 … n, whichever transaction took its counter's lock first."""
    billing = ManualBilling()
    clock = FixedClock(START)
    renewing = [await _signup(uow, clock, f"renew{n}") for n in range(2)]
    for made in renewing:
        await purchase(uow, billing, clock, tenant=made.tenant, actor=made.admin, plan_id="team",
                       interval="monthly", seats=3)
    clock.set(RENEWAL_DAY)
    buyers = [await _signup(uow, clock, f"buyer{n}") for n in range(16)]

    def buy(made: SignupResult) -> Any:
        return purchase(uow, billing, clock, tenant=made.tenant, actor=made.admin, plan_id="team",
                        interval="annual", seats=3)

    def renew(made: SignupResult) -> Any:
        return run_due_for_tenant(uow, billing, clock, tenant=made.tenant, grace_days=14)

    def change(made: SignupResult) -> Any:
        return change_subscription(uow, billing, clock, tenant=made.tenant, actor=made.admin,
                                   requested=RequestedChange(seats=5))

    work = [buy(made) for made in buyers]
    for made in renewing:
        work += [renew(made), change(made)]
    assert len(work) == 20
    results = await asyncio.gather(*work, return_exceptions=True)

    assert all(not isinstance(r, BaseException) for r in results[:16]), results[:16]
    for made in buyers:
        assert await _numbers(uow, made) == [1]
    for n, made in enumerate(renewing):
        renewed, changed = results[16 + 2 * n], results[17 + 2 * n]
        assert not isinstance(renewed, BaseException) and len(renewed.invoices) == 1
        # A change that took the lock before the renewal found the old period over (refused,
        # nothing stored); one after it is charged for the new period's days.
        assert not isinstance(changed, BaseException) or isinstance(changed, ValidationFailed)
        issued = 2 + (not isinstance(changed, BaseException))
        assert await _numbers(uow, made) == list(range(1, issued + 1))


async def test_the_counter_alone_keeps_concurrent_invoices_of_one_account_gap_free_through_rollbacks(
    uow: PiccoloUnitOfWorkFactory,
) -> None:
    """Twelve transactions add an invoice to one account at once without locking its
    subscription, and every third rolls back after taking its number: the committed numbers
    are still 1 … 8, each once (the counter row's lock is the whole guarantee here)."""
    clock = FixedClock(START)
    made = await _signup(uow, clock, "crowd")
    year = first_period(START.date(), Interval.ANNUAL)

    async def one(n: int) -> int | None:
        terms = Terms("team", Interval.ANNUAL, 3, 14_400)
        fresh = purchase_invoice(f"crowd{n}", terms, year, CreditLedger())[0]
        async with uow(write=True) as work:
            stored = await work.tenant(made.tenant.id).invoices().add(
                fresh, kind="purchase", idempotency_key=f"crowd-{n}", at=START
            )
            assert stored is not None
            await asyncio.sleep(0.01)  # hold the counter while the others queue
            if n % 3 == 2:
                return None  # left without commit: rolled back
            await work.commit()
            return stored.number

    committed = await asyncio.gather(*(one(n) for n in range(12)))
    numbers = sorted(n for n in committed if n is not None)
    assert numbers == list(range(1, 9))
    assert await _numbers(uow, made) == numbers


async def test_an_invoice_rolled_back_gives_its_number_back(uow: PiccoloUnitOfWorkFactory) -> None:
    clock = FixedClock(START)
    made = await _signup(uow, clock, "undo")
    year = first_period(START.date(), Interval.ANNUAL)

    def invoice(id: str) -> Any:
        return purchase_invoice(id, Terms("team", Interval.ANNUAL, 3, 14_400), year, CreditLedger())[0]

    async with uow(write=True) as work:
        first = await work.tenant(made.tenant.id).invoices().add(
            invoice("inv1"), kind="purchase", idempotency_key="k1", at=START
        )
        assert first is not None and first.number == 1
        # Not committed: the invoice and its number go together.
    async with uow(write=True) as work:
        invoices = work.tenant(made.tenant.id).invoices()
        again = await invoices.add(invoice("inv2"), kind="purchase", idempotency_key="k2", at=START)
        # A key used before takes no number either.
        assert await invoices.add(invoice("inv3"), kind="purchase", idempotency_key="k2", at=START) is None
        await work.commit()
    assert again is not None and (again.number, again.number_text) == (1, "STINT-2026-000001")
    assert await _numbers(uow, made) == [1]


@pytest.fixture
async def empty_engine(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Any]:
    """A brand-new database of the parametrised kind with no migration applied."""
    from tests.support import databases

    if request.param == "sqlite":
        engine = await storage_engine.open_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        name = None
    else:
        name, url = databases.create_empty()
        engine = await storage_engine.open_engine(url, pool_size=2)
    storage_engine.bind(engine)
    yield engine
    await storage_engine.close(engine)
    if name:
        databases.drop(name)


@pytest.mark.parametrize(
    "empty_engine", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_the_migration_numbers_earlier_invoices_in_issue_order_and_counts_on_from_them(
    empty_engine: Any,
) -> None:
    from plugins.storage.invoice_rows import lines_to_json
    from plugins.storage.tables import Enterprise, Invoice, Subscription, Tenant

    engine = empty_engine
    await upgrade(engine, target="0020")
    await Enterprise.insert(Enterprise(id="ent1", name="Acme", created_at=START))
    for sub in ("sub1", "sub2"):
        await Subscription.insert(Subscription(id=sub, enterprise_id="ent1", plan_id="team",
                                               status="active", created_at=START, updated_at=START))
    await Tenant.raw(
        "INSERT INTO tenant (id, slug, name, deployment, enterprise_id, subscription_id, created_at) "
        "VALUES ('ten1', 'acme', 'Acme', 'cloud', 'ent1', 'sub1', {})", START,
    )
    year = first_period(date(2026, 1, 1), Interval.ANNUAL)
    line = purchase_invoice("x", Terms("team", Interval.ANNUAL, 1, 14_400), year, CreditLedger())[0].lines
    # (id, account, issued on, created at): inserted out of order, as number 0, as before 0021.
    earlier = [
        ("c", "sub1", date(2026, 3, 1), START),
        ("a", "sub1", date(2026, 1, 1), START),
        ("b", "sub1", date(2026, 2, 1), START),
        ("z", "sub2", date(2026, 1, 1), START),
    ]
    for id, sub, issued_on, created_at in earlier:
        await Invoice.raw(
            "INSERT INTO invoice (id, subscription_id, tenant_id, kind, issued_on, lines, total, "
            "amount_due, status, idempotency_key, created_at) "
            "VALUES ({}, {}, 'ten1', 'purchase', {}, {}, 14400, 14400, 'due', {}, {})",
            id, sub, issued_on, lines_to_json(line), f"key-{id}", created_at,
        )
    assert "0021" in await upgrade(engine)  # and any later migration
    rows = await Invoice.select(Invoice.id, Invoice.number).order_by(Invoice.id)
    assert {row["id"]: row["number"] for row in rows} == {"a": 1, "b": 2, "c": 3, "z": 1}

    class Account:
        tenant_id = "ten1"

        async def subscription_id(self) -> str:
            return "sub1"

    from plugins.storage.billing_repo import InvoiceRepo

    async with PiccoloUnitOfWorkFactory(engine)(write=True) as work:
        fresh = purchase_invoice("d", Terms("team", Interval.ANNUAL, 1, 14_400), year, CreditLedger())[0]
        stored = await InvoiceRepo(Account()).add(fresh, kind="purchase", idempotency_key="key-d", at=START)
        await work.commit()
    assert stored is not None and stored.number == 4
