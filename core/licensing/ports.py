"""Licensing's ports: the plans catalogue, the cross-tenant directory, a tenant's
subscription and seats, and the cache of access decisions (SPEC §2, §3, §5, §6)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from core.audit import AuditQuery, AuditRecord
from core.identity.ports import SecondFactorStore
from core.licensing.catalogue import PlanCatalogue
from core.licensing.plans import Plan
from core.licensing.seats import LastUse
from core.licensing.subscription import Subscription
from core.tenancy import Enterprise, Operator, Person, Tenant

__all__ = [
    "CachedValue",
    "Catalogue",
    "Directory",
    "GenerationCache",
    "HeldSubscription",
    "OperatorLogin",
    "SeatRepository",
    "SubscriptionRepository",
    "SubscriptionTerms",
]


@dataclass(frozen=True, slots=True)
class OperatorLogin:
    """An operator and their password hash, for signing in."""

    operator: Operator
    password_hash: str


@dataclass(frozen=True, slots=True)
class CachedValue:
    """What the cache holds under a key (None: nothing current) and the stamp to store under."""

    value: dict[str, Any] | None
    stamp: str


@dataclass(frozen=True, slots=True)
class HeldSubscription:
    """A tenant's subscription with its id (an enterprise-wide one is shared by its tenants)."""

    id: str
    subscription: Subscription


@dataclass(frozen=True, slots=True)
class SubscriptionTerms:
    """The seat price in force (None: the plan's), the currency and the scope
    (``tenant`` or ``enterprise``) of a tenant's subscription."""

    seat_price: int | None
    currency: str
    scope: str


class Catalogue(Protocol):
    """The plans catalogue (SPEC §2): data, seeded with defaults, edited by operators."""

    async def load(self) -> PlanCatalogue: ...

    async def plan_of(self, subscription_id: str) -> Plan:
        """The plan a subscription is on, as the stored catalogue has it now (one read, where
        :meth:`load` reads every plan); ``PlanNotAvailable`` when the catalogue lacks it."""
        ...

    async def seed(self, at: datetime) -> int: ...

    async def save(self, plan: Plan, at: datetime) -> None: ...


class Directory(Protocol):
    """Lookups that cross tenants by design: sign-in, signup, the operator console."""

    @property
    def catalogue(self) -> Catalogue: ...

    async def repoint_enterprise(self, enterprise_id: str, sub_id: str) -> list[str]: ...

    async def tenants_with_due_subscriptions(
        self, today: date, *, grace_days: int, limit: int = 500
    ) -> list[Tenant]: ...

    async def tenant_by_slug(self, slug: str) -> Tenant | None: ...

    async def tenant_by_id(self, tenant_id: str) -> Tenant | None: ...

    async def tenants(self, *, search: str = "", after: str = "", limit: int = 50) -> list[Tenant]:
        ...

    async def tenants_of_enterprise(self, enterprise_id: str) -> list[Tenant]: ...

    async def add_enterprise(self, enterprise: Enterprise) -> None: ...

    async def add_subscription(
        self, sub_id: str, enterprise_id: str, scope: str, sub: Subscription, at: datetime
    ) -> None: ...

    async def add_tenant(self, tenant: Tenant) -> None: ...

    async def save_tenant(self, tenant: Tenant) -> None: ...

    async def person_by_email(self, email: str) -> Person | None: ...

    async def add_person(self, person: Person, created_at: datetime) -> None: ...

    async def operator_by_email(self, email: str) -> OperatorLogin | None: ...

    async def operator_by_id(self, operator_id: str) -> Operator | None: ...

    def operator_second_factors(self) -> SecondFactorStore:
        """Operators' second factors (their accounts are installation-wide)."""
        ...

    async def add_operator(self, operator: Operator, password_hash: str, at: datetime) -> None:
        ...

    async def audit(
        self, tenant_id: str | None, actor: str, action: str, subject: str, detail: dict[str, Any],
        at: datetime, *, address: str | None = None,
    ) -> None: ...

    async def audit_page(self, query: AuditQuery) -> list[AuditRecord]:
        """Every tenant's trail and the installation-wide one, for operators."""
        ...

    async def billing_events(self, *, limit: int = 100) -> list[dict[str, Any]] | None:
        """Payment-provider events received, newest first; None when none are kept."""
        ...


class SubscriptionRepository(Protocol):
    """One tenant's (possibly enterprise-wide) subscription."""

    async def id(self) -> str: ...

    async def get(self, *, for_update: bool = False) -> HeldSubscription:
        """The subscription; ``for_update`` locks it until the transaction ends."""
        ...

    async def save(
        self, sub_id: str, sub: Subscription, at: datetime, *, seat_price: int | None = None,
        scope: str | None = None,
    ) -> None: ...

    async def terms(self) -> SubscriptionTerms: ...


class SeatRepository(Protocol):
    """The named-user seats of a tenant's subscription pool (SPEC §5): on an enterprise-wide
    plan one person holds one seat however many of its tenants they use."""

    async def is_licensed(self, person_id: str) -> bool: ...

    async def taken(self) -> int: ...

    async def holders(self) -> set[str]:
        """The ids of the persons holding a seat."""
        ...

    async def holders_last_use(self) -> list[LastUse]:
        """Each seat holder with the day they last used any tenant of the pool."""
        ...

    async def assign(self, person_id: str, by: str, at: datetime) -> None: ...

    async def release(self, person_id: str) -> bool:
        """Free the person's seat; False when they held none."""
        ...


class GenerationCache(Protocol):
    """Values stored under the current generations of some scopes.

    A scope names what a value was computed from (``t:<tenant id>``, ``s:<subscription
    id>``, ``*`` for everything). :meth:`bump` moves a scope's generation, so every value
    stored under the old one is never returned again.
    """

    async def get(self, key: str, scopes: tuple[str, ...]) -> CachedValue:
        """The value under ``key`` if none of ``scopes`` moved since it was stored, and the
        stamp (the scopes' generations now) to :meth:`put` a freshly computed value with."""
        ...

    async def put(self, key: str, stamp: str, value: dict[str, Any], ttl_seconds: int) -> None: ...

    async def bump(self, scopes: Iterable[str]) -> None: ...
