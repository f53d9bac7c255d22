"""Fixtures and builders for the use-case tests: a fake store seeded directly, its unit-of-work
factory, a fixed clock, and the fake rails. No database, no network, no sleeping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.activities import DEFAULT_CATALOGUE as ACTIVITY_DEFAULTS
from core.activities import default_catalogue
from core.clock import FixedClock
from core.ids import new_id
from core.licensing.catalogue import DEFAULT_CATALOGUE
from core.licensing.lifecycle import cancel, payment_failed, purchase, start_trial
from core.licensing.plan_dicts import plan_to_dict
from core.licensing.subscription import Subscription
from core.periods import Interval
from core.proration.credit import CreditEntry
from core.proration.invoice import Invoice, InvoiceLine, InvoiceStatus
from core.tenancy import Deployment, Enterprise, LicensingMode, Operator, Person, Tenant, User
from tests.fakes import (
    AuditRow,
    FakeBilling,
    FakeDatabase,
    FakePasswordHasher,
    FakeUnitOfWorkFactory,
    InvoiceRow,
    StoredOperator,
    StoredSeat,
    StoredSubscription,
    StoredUser,
)

#: The tests' "now": a Tuesday morning, mid-month, so periods and weeks are unremarkable.
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
PASSWORD = "correct horse battery"


def trial(ends_on: date = TODAY + timedelta(days=14)) -> Subscription:
    return start_trial(ends_on - timedelta(days=28), trial_days=28)


def active(
    plan_id: str = "team", seats: int = 10, interval: Interval = Interval.ANNUAL, start: date = TODAY,
    deployment: Deployment = Deployment.CLOUD,
) -> Subscription:
    bought = start - timedelta(days=1)
    return purchase(start_trial(bought), DEFAULT_CATALOGUE.get(plan_id), interval, seats, start,
                    deployment=deployment)


def cancelled(start: date = TODAY) -> Subscription:
    return cancel(active(start=start))


def past_due(since: date = TODAY, start: date = TODAY - timedelta(days=20)) -> Subscription:
    return payment_failed(active(start=start), since)


def due_invoice(amount: int = 14_400, *, issued_on: date = TODAY, status: InvoiceStatus = "due") -> Invoice:
    """An invoice of one purchase line, nothing paid from credit."""
    line = InvoiceLine("purchase", "Team annual: 1 seat", amount, issued_on, issued_on + timedelta(days=365))
    return Invoice(new_id(), issued_on, (line,), amount, 0, amount, status, "USD")


class Seed:
    """Writes rows straight into the store, the way a test database would be prepared."""

    def __init__(self, store: FakeDatabase, hasher: FakePasswordHasher) -> None:
        self.store = store
        self.hasher = hasher

    def work_items(self, tenant: Tenant, *ids: int | str) -> list[int]:
        """Items ``ids`` in the tenant's mirror (worklogs and timers name only those)."""
        from tests.fakes.work_items import mirror_items

        return mirror_items(self.store, tenant.id, *ids)

    def tenant(
        self,
        slug: str = "acme",
        *,
        subscription: Subscription | None = None,
        deployment: Deployment = Deployment.CLOUD,
        time_zone: str = "UTC",
        enterprise_id: str | None = None,
        sharing: Tenant | None = None,
        seat_price: int | None = None,
        currency: str = "USD",
        scope: str = "tenant",
        licensing_mode: LicensingMode = LicensingMode.AUTOMATIC,
        default_role: str = "team",
        uninstalled_at: datetime | None = None,
        created_at: datetime = NOW - timedelta(days=30),
    ) -> Tenant:
        """A tenant with its own subscription (a trial unless given), or ``sharing`` another's."""
        if sharing is not None:
            enterprise_id, sub_id = sharing.enterprise_id, sharing.subscription_id
        else:
            if enterprise_id is None:
                enterprise_id = new_id()
                self.store.enterprises[enterprise_id] = Enterprise(enterprise_id, slug.title(), created_at)
            sub_id = new_id()
            self.store.subscriptions[sub_id] = StoredSubscription(
                subscription or trial(), enterprise_id, scope=scope, seat_price=seat_price,
                currency=currency, created_at=created_at, updated_at=created_at,
            )
        tenant = Tenant(
            id=new_id(), slug=slug, name=slug.title(), deployment=deployment, enterprise_id=enterprise_id,
            subscription_id=sub_id, time_zone=time_zone, default_role=default_role,
            licensing_mode=licensing_mode, uninstalled_at=uninstalled_at, created_at=created_at,
        )
        self.store.tenants[tenant.id] = tenant
        # Every tenant starts with the default activity types, as signup gives them.
        self.store.activity_types[tenant.id] = {
            entry.id: entry for entry in default_catalogue(new_id() for _ in ACTIVITY_DEFAULTS)
        }
        return tenant

    def person(self, email: str) -> Person:
        found = next((p for p in self.store.persons.values() if p.email == email), None)
        if found is None:
            found = Person(new_id(), email, email.split("@")[0].title())
            self.store.persons[found.id] = found
        return found

    def user(
        self,
        tenant: Tenant,
        email: str = "ann@acme.test",
        *,
        role: str | None = None,
        collection_admin: bool = False,
        approval_manager: bool = False,
        password: str | None = PASSWORD,
        last_used_at: datetime | None = None,
        licensed: bool = False,
    ) -> User:
        person = self.person(email)
        user = User(
            id=new_id(), tenant_id=tenant.id, person_id=person.id, email=person.email, name=person.name,
            role=role, collection_admin=collection_admin, approval_manager=approval_manager,
            last_used_at=last_used_at,
        )
        password_hash = self.hasher.hash(password) if password else None
        self.store.users.setdefault(tenant.id, {})[user.id] = StoredUser(user, password_hash, NOW)
        if licensed:
            self.license(tenant, user)
        return user

    def admin(self, tenant: Tenant, email: str = "boss@acme.test", *, licensed: bool = False) -> User:
        """A collection admin with the administrator role."""
        return self.user(tenant, email, role="administrator", collection_admin=True, licensed=licensed)

    def license(self, tenant: Tenant, user: User) -> None:
        pool = self.store.seats.setdefault(self.store.subscription_of(tenant.id), {})
        pool[user.person_id] = StoredSeat(user.person_id, NOW - timedelta(days=1), "seed")

    def catalogue(self) -> None:
        """The default plans as stored rows, as an installation seeds them."""
        for plan in DEFAULT_CATALOGUE:
            self.store.plans[plan.id] = plan_to_dict(plan)

    def operator(self, email: str = "op@vendor.test", password: str = PASSWORD) -> Operator:
        operator = Operator(new_id(), email, email.split("@")[0])
        self.store.operators[operator.id] = StoredOperator(operator, self.hasher.hash(password), NOW)
        return operator

    def invoice(
        self, tenant: Tenant, invoice: Invoice | None = None, *, kind: str = "purchase",
        created_at: datetime = NOW,
    ) -> Invoice:
        invoice = invoice or due_invoice()
        self.store.invoices[invoice.id] = InvoiceRow(
            invoice, tenant.subscription_id, tenant.id, kind, f"{kind}:{invoice.id}", created_at,
            paid_at=created_at if invoice.status == "paid" else None,
        )
        return invoice

    def credit(self, tenant: Tenant, amount: int, *, on: date = TODAY) -> None:
        entries = self.store.credit.setdefault(tenant.subscription_id, [])
        entries.append(CreditEntry(amount, "seeded credit", "seed", on))

    # Reading back -------------------------------------------------------------------

    def subscription(self, tenant: Tenant) -> Subscription:
        return self.store.subscriptions[self.store.subscription_of(tenant.id)].subscription

    def stored(self, tenant: Tenant) -> StoredSubscription:
        return self.store.subscriptions[self.store.subscription_of(tenant.id)]

    def holders(self, tenant: Tenant) -> set[str]:
        return set(self.store.seats.get(self.store.subscription_of(tenant.id), {}))

    def audit(self, action: str | None = None) -> list[AuditRow]:
        return [row for row in self.store.audit if action is None or row.action == action]

    def actions(self) -> list[str]:
        return [row.action for row in self.store.audit]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def store() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def uow(store: FakeDatabase) -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory(store)


@pytest.fixture
def hasher() -> FakePasswordHasher:
    return FakePasswordHasher()


@pytest.fixture
def billing() -> FakeBilling:
    return FakeBilling()


@pytest.fixture
def seed(store: FakeDatabase, hasher: FakePasswordHasher) -> Seed:
    return Seed(store, hasher)
