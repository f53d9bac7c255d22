"""The fake unit of work and repositories behave like the real ones where use cases depend on it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from core.audit import AuditLog
from core.billing import PaymentProvider, ProviderActions
from core.billing.ports import Billing, HostedPayments, Invoices, PaymentRecords, RenewalStore
from core.errors import ValidationFailed
from core.idempotency import IdempotencyStore
from core.identity.ports import (
    OneTimeCodes,
    PasswordHasher,
    SecondFactorStore,
    TokenRepository,
    UserRepository,
)
from core.licensing.ports import (
    Catalogue,
    Directory,
    GenerationCache,
    SeatRepository,
    SubscriptionRepository,
)
from core.licensing.subscription import Subscription, SubscriptionStatus
from core.proration.invoice import Invoice, InvoiceLine
from core.tenancy import Deployment, Enterprise, LicensingMode, Tenant
from core.unit_of_work import TenantScope, UnitOfWork, UnitOfWorkFactory
from tests.fakes import (
    FakeAuditLog,
    FakeBilling,
    FakeCatalogue,
    FakeDatabase,
    FakeDirectory,
    FakeGenerationCache,
    FakeHostedPayments,
    FakeIdempotencyStore,
    FakeIntegrityError,
    FakeInvoices,
    FakeOneTimeCodes,
    FakePasswordHasher,
    FakePaymentProvider,
    FakePaymentRecords,
    FakeRenewalStore,
    FakeSeatRepository,
    FakeSecondFactorStore,
    FakeSubscriptionRepository,
    FakeTenantScope,
    FakeTokenRepository,
    FakeUnitOfWork,
    FakeUnitOfWorkFactory,
    FakeUserRepository,
    ReadOnlyUnitOfWork,
    StoredSubscription,
)

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def _satisfies_the_ports(store: FakeDatabase) -> None:
    """Never run: mypy (``mypy --strict tests/fakes tests/unit/fakes``) checks each fake against its port."""
    factory: UnitOfWorkFactory = FakeUnitOfWorkFactory(store)
    unit: UnitOfWork = FakeUnitOfWork(store, write=True)
    scope: TenantScope = FakeTenantScope(store, "t")
    directory: Directory = FakeDirectory(store)
    catalogue: Catalogue = FakeCatalogue(store)
    subscriptions: SubscriptionRepository = FakeSubscriptionRepository(store, "t")
    seats: SeatRepository = FakeSeatRepository(store, "t")
    cache: GenerationCache = FakeGenerationCache()
    users: UserRepository = FakeUserRepository(store, "t")
    tokens: TokenRepository = FakeTokenRepository(store, "t")
    audit: AuditLog = FakeAuditLog(store, "t")
    hasher: PasswordHasher = FakePasswordHasher()
    invoices: Invoices = FakeInvoices(store, "t")
    billing: Billing = FakeBilling()
    records: PaymentRecords = FakePaymentRecords(store)
    renewals: RenewalStore = FakeRenewalStore(store)
    hosted: HostedPayments = FakeHostedPayments()
    provider: PaymentProvider = FakePaymentProvider()
    actions: ProviderActions = FakePaymentProvider()
    del factory, unit, scope, directory, catalogue, subscriptions, seats, cache, users, tokens, audit
    second_factors: SecondFactorStore = FakeSecondFactorStore(store)
    codes: OneTimeCodes = FakeOneTimeCodes()
    keys: IdempotencyStore = FakeIdempotencyStore(store)
    del hasher, invoices, billing, records, renewals, hosted, provider, actions, second_factors, codes, keys


def _tenant(store: FakeDatabase, tenant_id: str = "t1") -> Tenant:
    enterprise = Enterprise(f"e-{tenant_id}", "E", NOW)
    store.enterprises[enterprise.id] = enterprise
    sub = Subscription("team", SubscriptionStatus.TRIALING, trial_ends_on=NOW.date() + timedelta(days=9))
    store.subscriptions[f"s-{tenant_id}"] = StoredSubscription(sub, enterprise.id)
    tenant = Tenant(tenant_id, f"slug-{tenant_id}", "T", Deployment.CLOUD, enterprise.id, f"s-{tenant_id}",
                    "UTC", "team", LicensingMode.AUTOMATIC, None, NOW)
    store.tenants[tenant.id] = tenant
    return tenant


def _invoice(invoice_id: str) -> Invoice:
    line = InvoiceLine("purchase", "x", 100, NOW.date(), NOW.date() + timedelta(days=30))
    return Invoice(invoice_id, NOW.date(), (line,), 100, 0, 100, "due")


@pytest.fixture
def store() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def uow(store: FakeDatabase) -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory(store)


async def test_what_a_unit_of_work_commits_the_next_one_reads(
    store: FakeDatabase, uow: FakeUnitOfWorkFactory
) -> None:
    tenant = _tenant(store)
    async with uow(write=True) as work:
        await work.tenant(tenant.id).audit().record("me", "did", "it", {}, NOW)
        await work.commit()
    async with uow() as work:
        assert await work.tenant(tenant.id).audit().recorded_since("did", "it", NOW)
    assert [unit.committed for unit in uow.units] == [True, False] and uow.commits == 1


async def test_what_a_unit_of_work_does_not_commit_is_dropped(
    store: FakeDatabase, uow: FakeUnitOfWorkFactory
) -> None:
    tenant = _tenant(store)
    async with uow(write=True) as work:
        await work.tenant(tenant.id).audit().record("me", "did", "it", {}, NOW)
    with pytest.raises(RuntimeError):
        async with uow(write=True) as work:
            await work.tenant(tenant.id).audit().record("me", "did", "again", {}, NOW)
            raise RuntimeError("boom")
    assert store.audit == [] and uow.commits == 0


async def test_a_commit_leaves_the_working_copy_apart_from_the_shared_store(
    store: FakeDatabase, uow: FakeUnitOfWorkFactory
) -> None:
    tenant = _tenant(store)
    async with uow(write=True) as work:
        audit = work.tenant(tenant.id).audit()
        await audit.record("me", "did", "it", {}, NOW)
        await work.commit()
        await audit.record("me", "did", "more", {}, NOW)
    assert [row.subject for row in store.audit] == ["it"]


async def test_units_of_work_do_not_nest(uow: FakeUnitOfWorkFactory) -> None:
    async with uow():
        with pytest.raises(RuntimeError, match="do not nest"):
            async with uow():
                pass


async def test_a_read_unit_of_work_refuses_writes_locks_and_commits(
    store: FakeDatabase, uow: FakeUnitOfWorkFactory
) -> None:
    tenant = _tenant(store)
    async with uow() as work:
        scope = work.tenant(tenant.id)
        with pytest.raises(ReadOnlyUnitOfWork):
            await scope.audit().record("me", "did", "it", {}, NOW)
        with pytest.raises(ReadOnlyUnitOfWork):
            await scope.subscriptions().get(for_update=True)
        with pytest.raises(ReadOnlyUnitOfWork):
            await work.commit()


async def test_a_commit_after_another_units_commit_is_refused_not_lost(
    store: FakeDatabase, uow: FakeUnitOfWorkFactory
) -> None:
    tenant = _tenant(store)
    first_open, second_done = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with uow(write=True) as work:
            await work.tenant(tenant.id).audit().record("me", "first", "x", {}, NOW)
            first_open.set()
            await second_done.wait()
            await work.commit()

    async def second() -> None:
        await first_open.wait()
        async with uow(write=True) as work:
            await work.tenant(tenant.id).audit().record("me", "second", "x", {}, NOW)
            await work.commit()
        second_done.set()

    results = await asyncio.gather(first(), second(), return_exceptions=True)
    assert isinstance(results[0], RuntimeError) and "one writer at a time" in str(results[0])
    assert [row.action for row in store.audit] == ["second"]


async def test_payment_records_are_kept_only_when_the_unit_of_work_that_handed_them_out_commits(
    store: FakeDatabase, uow: FakeUnitOfWorkFactory
) -> None:
    async with uow(write=True) as work:
        assert await work.payments().claim_event("evt", "invoice.paid", "paid", NOW)
        assert await work.payments().seen_event("evt")
        assert store.billing_events == {}
    async with uow(write=True) as work:
        assert not await work.payments().seen_event("evt")
        assert await work.payments().claim_event("evt", "invoice.paid", "paid", NOW)
        await work.commit()
    async with uow() as work:
        assert await work.payments().seen_event("evt")
    assert list(store.billing_events) == ["evt"]


async def test_payment_records_of_a_read_unit_of_work_refuse_to_write(uow: FakeUnitOfWorkFactory) -> None:
    async with uow() as work:
        with pytest.raises(ReadOnlyUnitOfWork):
            await work.payments().claim_event("evt", "invoice.paid", "paid", NOW)


async def test_a_commit_hands_the_changed_scopes_to_the_cache(store: FakeDatabase) -> None:
    cache = FakeGenerationCache()
    uow = FakeUnitOfWorkFactory(store, after_commit=cache.bump)
    tenant = _tenant(store)
    async with uow(write=True) as work:
        await work.tenant(tenant.id).seats().assign("p1", "me", NOW)
    assert cache.bumped == []
    async with uow(write=True) as work:
        await work.tenant(tenant.id).seats().assign("p1", "me", NOW)
        await work.commit()
    assert cache.bumped == [f"s:{tenant.subscription_id}"]


async def test_an_invoice_key_is_used_once(store: FakeDatabase, uow: FakeUnitOfWorkFactory) -> None:
    tenant = _tenant(store)
    async with uow(write=True) as work:
        invoices = work.tenant(tenant.id).invoices()
        assert await invoices.add(_invoice("i1"), kind="purchase", idempotency_key="k", at=NOW)
        assert not await invoices.add(_invoice("i2"), kind="purchase", idempotency_key="k", at=NOW)
        await work.commit()
    assert list(store.invoices) == ["i1"]


async def test_invoices_list_newest_first_a_page_at_a_time(
    store: FakeDatabase, uow: FakeUnitOfWorkFactory
) -> None:
    tenant = _tenant(store)
    async with uow(write=True) as work:
        invoices = work.tenant(tenant.id).invoices()
        for day, invoice_id in enumerate(["a", "b", "c"]):
            await invoices.add(_invoice(invoice_id), kind="p", idempotency_key=invoice_id,
                               at=NOW + timedelta(days=day))
        first = await invoices.list(limit=2)
        rest = await invoices.list(after=first[-1].cursor)
        with pytest.raises(ValidationFailed):
            await invoices.list(after="not a cursor")
    assert [i.invoice.id for i in first + rest] == ["c", "b", "a"]


async def test_a_tenant_sees_only_its_own_accounts_invoices(
    store: FakeDatabase, uow: FakeUnitOfWorkFactory
) -> None:
    mine, theirs = _tenant(store, "t1"), _tenant(store, "t2")
    async with uow(write=True) as work:
        await work.tenant(theirs.id).invoices().add(_invoice("i1"), kind="p", idempotency_key="k", at=NOW)
        assert await work.tenant(mine.id).invoices().get("i1") is None
        assert await work.tenant(mine.id).invoices().list() == []


async def test_a_value_longer_than_its_column_is_refused_as_postgresql_refuses_it(
    store: FakeDatabase, uow: FakeUnitOfWorkFactory
) -> None:
    tenant = _tenant(store)
    async with uow(write=True) as work:
        audit = work.tenant(tenant.id).audit()
        await audit.record("me", "did", "s" * 320, {}, NOW)
        with pytest.raises(FakeIntegrityError, match=r"audit_event.subject, a varchar\(320\)"):
            await audit.record("me", "did", "s" * 321, {}, NOW)


async def test_the_audit_log_lists_newest_first_by_tenant_and_action_prefix(
    store: FakeDatabase, uow: FakeUnitOfWorkFactory
) -> None:
    one, two = _tenant(store, "t1"), _tenant(store, "t2")
    async with uow(write=True) as work:
        await work.tenant(one.id).audit().record("me", "seat.assign", "a", {}, NOW)
        await work.tenant(one.id).audit().record("me", "seat.free", "b", {}, NOW + timedelta(minutes=1))
        await work.tenant(one.id).audit().record("me", "plan.change", "c", {}, NOW + timedelta(minutes=2))
        await work.tenant(two.id).audit().record("me", "seat.assign", "d", {}, NOW + timedelta(minutes=3))
        await work.commit()
    async with uow() as work:
        directory = work.directory
        assert [e["subject"] for e in await directory.audit_events()] == ["d", "c", "b", "a"]
        assert [e["subject"] for e in await directory.audit_events(tenant_id=one.id)] == ["c", "b", "a"]
        assert [e["subject"] for e in await directory.audit_events(action="Seat.%")] == ["d", "b", "a"]
        assert [e["subject"] for e in await directory.audit_events(tenant_id=one.id, limit=1)] == ["c"]
