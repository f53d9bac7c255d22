"""Licensing's ports in memory: the catalogue, the cross-tenant directory, a tenant's
subscription and seats, and the access-decision cache (as ``plugins/storage`` and
``plugins/cache`` behave)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.audit import AuditQuery, AuditRecord
from core.ids import new_id
from core.licensing.catalogue import DEFAULT_CATALOGUE, PlanCatalogue
from core.licensing.plan_dicts import plan_from_dict, plan_to_dict
from core.licensing.plans import Plan
from core.licensing.ports import CachedValue, HeldSubscription, OperatorLogin, SubscriptionTerms
from core.licensing.seats import LastUse
from core.licensing.subscription import Subscription, SubscriptionStatus
from core.tenancy import Enterprise, Operator, Person, Tenant

from .rows import AuditRow, FakeIntegrityError, StoredOperator, StoredSeat, StoredSubscription, fits
from .unit_of_work import FakeDatabase

if TYPE_CHECKING:
    from .identity import FakeSecondFactorStore

__all__ = [
    "FakeCatalogue",
    "FakeDirectory",
    "FakeGenerationCache",
    "FakeSeatRepository",
    "FakeSubscriptionRepository",
    "audit_row",
]

_S = SubscriptionStatus


def audit_row(
    tenant_id: str | None, actor: str, action: str, subject: str, detail: dict[str, Any], at: datetime,
    address: str | None = None,
) -> AuditRow:
    """An audit row as the database gives it back: the detail went through JSON (dates as text)."""
    fits("audit_event.actor", actor, 320)
    fits("audit_event.action", action, 64)
    fits("audit_event.subject", subject, 320)
    if address is not None:
        fits("audit_event.address", address, 64)
    stored = json.loads(json.dumps(detail, sort_keys=True, default=str))
    return AuditRow(tenant_id, actor, action, subject, stored, at, address, new_id())


def audit_matches(row: AuditRow, query: AuditQuery) -> bool:
    """The storage's filters (``plugins/storage/audit_repo.py``), over the fake's rows."""
    if query.tenant_id is None and row.tenant_id is not None:
        return False
    if query.tenant_id and row.tenant_id != query.tenant_id:
        return False
    if query.action and not (row.action == query.action or row.action.startswith(query.action + ".")):
        return False
    if query.actor_kind and not row.actor.startswith(query.actor_kind + ":"):
        return False
    if query.actor and not (row.actor == query.actor or (query.subject and row.subject == query.subject)):
        return False
    after = query.after
    return after is None or (row.at, row.id) < (after.at, after.id)


def audit_records(rows: list[AuditRow], query: AuditQuery) -> list[AuditRecord]:
    chosen = sorted((r for r in rows if audit_matches(r, query)), key=lambda r: (r.at, r.id), reverse=True)
    return [
        AuditRecord(r.id, r.tenant_id, r.at, r.actor, r.action, r.subject, r.detail, r.address)
        for r in chosen[: query.limit]
    ]


class FakeCatalogue:
    """The plans as stored data: plans round-trip through their dict form, as the table's JSON does."""

    def __init__(self, store: FakeDatabase) -> None:
        self._store = store

    async def load(self) -> PlanCatalogue:
        if not self._store.plans:
            return DEFAULT_CATALOGUE
        return PlanCatalogue.of(plan_from_dict(data) for data in self._store.plans.values())

    async def plan_of(self, subscription_id: str) -> Plan:
        sub = self._store.subscription_by_id(subscription_id)
        if sub is None:
            raise LookupError(f"no subscription {subscription_id}")
        data = self._store.plans.get(sub.plan_id)
        if data is None:
            # As the adapter: not stored means never seeded (the defaults) or no longer there.
            return (await self.load()).get(sub.plan_id)
        return plan_from_dict(data)

    async def seed(self, at: datetime) -> int:
        self._store.check_write("seed the catalogue")
        added = 0
        for plan in DEFAULT_CATALOGUE:
            if plan.id not in self._store.plans:
                self._store.plans[plan.id] = plan_to_dict(plan)
                added += 1
        return added

    async def save(self, plan: Plan, at: datetime) -> None:
        self._store.check_write("save a plan")
        # Replacing keeps a plan's position; a new plan goes last, as the table's position does.
        self._store.plans[plan.id] = plan_to_dict(plan)


def _is_due(stored: StoredSubscription, horizon: date, grace_days: int) -> bool:
    sub = stored.subscription
    if sub.status in (_S.ACTIVE, _S.CANCELLED):
        return sub.period is not None and sub.period.end <= horizon
    if sub.status is _S.TRIALING:
        return sub.trial_ends_on is not None and sub.trial_ends_on <= horizon
    if sub.status is _S.PAST_DUE:
        return sub.past_due_since is not None and sub.past_due_since <= horizon - timedelta(days=grace_days)
    return False


def _check_tenant(tenant: Tenant) -> None:
    fits("tenant.slug", tenant.slug, 64)
    fits("tenant.name", tenant.name, 200)
    fits("tenant.time_zone", tenant.time_zone, 64)
    fits("tenant.default_role", tenant.default_role, 16)


class FakeDirectory:
    """The lookups that cross tenants, on one store."""

    def __init__(self, store: FakeDatabase) -> None:
        self._store = store

    @property
    def catalogue(self) -> FakeCatalogue:
        return FakeCatalogue(self._store)

    async def repoint_enterprise(self, enterprise_id: str, sub_id: str) -> list[str]:
        self._store.check_write("repoint an enterprise's tenants")
        ids = []
        for tenant in list(self._store.tenants.values()):
            if tenant.enterprise_id == enterprise_id:
                self._store.tenants[tenant.id] = replace(tenant, subscription_id=sub_id)
                self._store.note_change(f"t:{tenant.id}")
                ids.append(tenant.id)
        return ids

    async def tenants_with_due_subscriptions(
        self, today: date, *, grace_days: int, limit: int = 500
    ) -> list[Tenant]:
        # A day of slack, as the real query has, for billing time zones ahead of UTC.
        horizon = today + timedelta(days=1)
        due = [
            sub_id for sub_id, stored in self._store.subscriptions.items()
            if _is_due(stored, horizon, grace_days)
        ][:limit]
        chosen: dict[str, Tenant] = {}
        for tenant in sorted(self._store.tenants.values(), key=lambda t: t.created_at):
            if tenant.subscription_id in due:
                chosen.setdefault(tenant.subscription_id, tenant)
        return list(chosen.values())

    async def tenant_by_slug(self, slug: str) -> Tenant | None:
        return next((t for t in self._store.tenants.values() if t.slug == slug), None)

    async def tenant_by_id(self, tenant_id: str) -> Tenant | None:
        return self._store.tenants.get(tenant_id)

    async def tenants(self, *, search: str = "", after: str = "", limit: int = 50) -> list[Tenant]:
        found = sorted(self._store.tenants.values(), key=lambda t: t.slug)
        if search:
            # Slugs are [a-z0-9-]: anything else typed cannot match, as in the real query.
            cleaned = re.sub(r"[^a-z0-9-]", "", search.lower())
            found = [t for t in found if cleaned in t.slug]
        if after:
            found = [t for t in found if t.slug > after]
        return found[:limit]

    async def tenants_of_enterprise(self, enterprise_id: str) -> list[Tenant]:
        return [t for t in self._store.tenants.values() if t.enterprise_id == enterprise_id]

    async def add_enterprise(self, enterprise: Enterprise) -> None:
        self._store.check_write("add an enterprise")
        fits("enterprise.name", enterprise.name, 200)
        if enterprise.id in self._store.enterprises:
            raise FakeIntegrityError(f"enterprise {enterprise.id} exists")
        self._store.enterprises[enterprise.id] = enterprise

    async def add_subscription(
        self, sub_id: str, enterprise_id: str, scope: str, sub: Subscription, at: datetime
    ) -> None:
        self._store.check_write("add a subscription")
        if sub_id in self._store.subscriptions:
            raise FakeIntegrityError(f"subscription {sub_id} exists")
        self._store.subscriptions[sub_id] = StoredSubscription(
            sub, enterprise_id, scope=scope, created_at=at, updated_at=at
        )

    async def add_tenant(self, tenant: Tenant) -> None:
        self._store.check_write("add a tenant")
        _check_tenant(tenant)
        if tenant.id in self._store.tenants:
            raise FakeIntegrityError(f"tenant {tenant.id} exists")
        if any(t.slug == tenant.slug for t in self._store.tenants.values()):
            raise FakeIntegrityError(f"tenant slug {tenant.slug!r} is taken")
        self._store.tenants[tenant.id] = tenant

    async def save_tenant(self, tenant: Tenant) -> None:
        self._store.check_write("save a tenant")
        _check_tenant(tenant)
        self._store.note_change(f"t:{tenant.id}")
        if tenant.id in self._store.tenants:
            self._store.tenants[tenant.id] = tenant

    async def person_by_email(self, email: str) -> Person | None:
        return next((p for p in self._store.persons.values() if p.email == email), None)

    async def add_person(self, person: Person, created_at: datetime) -> None:
        self._store.check_write("add a person")
        fits("person.email", person.email, 320)
        fits("person.name", person.name, 320)
        if person.id in self._store.persons or await self.person_by_email(person.email):
            raise FakeIntegrityError(f"person {person.email} exists")
        self._store.persons[person.id] = person

    def _operator(self, operator: Operator) -> Operator:
        held = self._store.second_factors.get(operator.id)
        return replace(operator, second_factor=held is not None and held.confirmed_at is not None)

    async def operator_by_email(self, email: str) -> OperatorLogin | None:
        found = next((o for o in self._store.operators.values() if o.operator.email == email), None)
        return OperatorLogin(self._operator(found.operator), found.password_hash) if found else None

    async def operator_by_id(self, operator_id: str) -> Operator | None:
        found = self._store.operators.get(operator_id)
        return self._operator(found.operator) if found else None

    async def add_operator(self, operator: Operator, password_hash: str, at: datetime) -> None:
        self._store.check_write("add an operator")
        fits("operator_account.email", operator.email, 320)
        fits("operator_account.name", operator.name, 200)
        if operator.id in self._store.operators or await self.operator_by_email(operator.email):
            raise FakeIntegrityError(f"operator {operator.email} exists")
        self._store.operators[operator.id] = StoredOperator(operator, password_hash, at)

    def operator_second_factors(self) -> FakeSecondFactorStore:
        from .identity import FakeSecondFactorStore

        return FakeSecondFactorStore(self._store)

    async def audit(
        self, tenant_id: str | None, actor: str, action: str, subject: str, detail: dict[str, Any],
        at: datetime, *, address: str | None = None,
    ) -> None:
        self._store.check_write("write the audit log")
        self._store.audit.append(audit_row(tenant_id, actor, action, subject, detail, at, address))

    async def audit_page(self, query: AuditQuery) -> list[AuditRecord]:
        return audit_records(self._store.audit, query)

    async def audit_events(
        self, *, tenant_id: str | None = None, action: str = "", limit: int = 100
    ) -> list[dict[str, Any]]:
        # The action is a prefix, cleaned of what an action never holds, as in the real query.
        prefix = re.sub(r"[^a-z0-9._-]", "", action.lower())
        rows = [
            row for row in self._store.audit
            if (tenant_id is None or row.tenant_id == tenant_id) and row.action.startswith(prefix)
        ]
        rows.sort(key=lambda row: row.at, reverse=True)
        return [
            {"tenant_id": row.tenant_id, "actor": row.actor, "action": row.action, "subject": row.subject,
             "detail": row.detail, "at": row.at}
            for row in rows[:limit]
        ]

    async def billing_events(self, *, limit: int = 100) -> list[dict[str, Any]] | None:
        events = sorted(self._store.billing_events.values(), key=lambda e: e.received_at, reverse=True)
        return [
            {"id": e.id, "type": e.type, "outcome": e.outcome, "received_at": e.received_at}
            for e in events[:limit]
        ]


class FakeSubscriptionRepository:
    """A tenant's subscription, reached through the tenant's row as the real one is.

    ``get(for_update=True)`` locks nothing (there is one writer at a time in memory) but is
    refused in a read unit of work, where PostgreSQL refuses ``FOR UPDATE``.
    """

    def __init__(self, store: FakeDatabase, tenant_id: str) -> None:
        self._store = store
        self.tenant_id = tenant_id

    def _row(self) -> tuple[str, StoredSubscription]:
        sub_id = self._store.subscription_of(self.tenant_id)
        stored = self._store.subscriptions.get(sub_id)
        if stored is None:
            raise LookupError(f"no subscription {sub_id}")
        return sub_id, stored

    async def id(self) -> str:
        return self._store.subscription_of(self.tenant_id)

    async def get(self, *, for_update: bool = False) -> HeldSubscription:
        if for_update:
            self._store.check_write("lock the subscription")
        sub_id, stored = self._row()
        return HeldSubscription(sub_id, stored.subscription)

    async def save(
        self, sub_id: str, sub: Subscription, at: datetime, *, seat_price: int | None = None,
        scope: str | None = None,
    ) -> None:
        self._store.check_write("save the subscription")
        self._store.note_change(f"s:{sub_id}")
        stored = self._store.subscriptions.get(sub_id)
        if stored is None:
            return  # an UPDATE of no row changes nothing
        stored.subscription = sub
        stored.updated_at = at
        stored.version += 1
        if seat_price is not None:
            stored.seat_price = seat_price
        if scope is not None:
            stored.scope = scope

    async def terms(self) -> SubscriptionTerms:
        _, stored = self._row()
        return SubscriptionTerms(stored.seat_price, stored.currency, stored.scope)


class FakeSeatRepository:
    """The seats of the tenant's subscription pool: one per person, however many tenants share it."""

    def __init__(self, store: FakeDatabase, tenant_id: str) -> None:
        self._store = store
        self.tenant_id = tenant_id

    def _pool(self) -> tuple[str, dict[str, StoredSeat]]:
        sub_id = self._store.subscription_of(self.tenant_id)
        return sub_id, self._store.seats.get(sub_id, {})

    async def is_licensed(self, person_id: str) -> bool:
        return person_id in self._pool()[1]

    async def taken(self) -> int:
        return len(self._pool()[1])

    async def holders(self) -> set[str]:
        return set(self._pool()[1])

    async def holders_last_use(self) -> list[LastUse]:
        sub_id, pool = self._pool()
        last: dict[str, date | None] = dict.fromkeys(pool)
        tenants = [t.id for t in self._store.tenants.values() if t.subscription_id == sub_id]
        for tenant_id in tenants:
            for row in self._store.users.get(tenant_id, {}).values():
                user = row.user
                if user.person_id not in last or user.last_used_at is None:
                    continue
                used, seen = user.last_used_at.date(), last[user.person_id]
                if seen is None or used > seen:
                    last[user.person_id] = used
        return [LastUse(person, on) for person, on in sorted(last.items())]

    async def assign(self, person_id: str, by: str, at: datetime) -> None:
        self._store.check_write("assign a seat")
        sub_id, _ = self._pool()
        self._store.note_change(f"s:{sub_id}")
        pool = self._store.seats.setdefault(sub_id, {})
        if person_id in pool:
            raise FakeIntegrityError(f"{person_id} holds a seat of {sub_id} already")
        fits("seat.assigned_by", by, 64)
        pool[person_id] = StoredSeat(person_id, at, by)

    async def release(self, person_id: str) -> bool:
        self._store.check_write("release a seat")
        sub_id, _ = self._pool()
        self._store.note_change(f"s:{sub_id}")
        return self._store.seats.get(sub_id, {}).pop(person_id, None) is not None


class FakeGenerationCache:
    """Values under the generations of their scopes, as ``MemoryGenerationCache`` keeps them.

    Entries do not expire (a test's clock does not move the cache's); ``hits`` and ``puts``
    count what was served and stored.
    """

    def __init__(self) -> None:
        self._generations: dict[str, str] = {}
        self._values: dict[str, tuple[str, dict[str, Any]]] = {}
        self.hits = 0
        self.puts = 0
        self.bumped: list[str] = []

    def _stamp(self, scopes: tuple[str, ...]) -> str:
        return ".".join(self._generations.get(scope, "0") for scope in scopes)

    async def get(self, key: str, scopes: tuple[str, ...]) -> CachedValue:
        stamp = self._stamp(scopes)
        found = self._values.get(key)
        if found is None or found[0] != stamp:
            return CachedValue(None, stamp)
        self.hits += 1
        return CachedValue(found[1], stamp)

    async def put(self, key: str, stamp: str, value: dict[str, Any], ttl_seconds: int) -> None:
        self.puts += 1
        self._values[key] = (stamp, value)

    async def bump(self, scopes: Iterable[str]) -> None:
        for scope in scopes:
            self.bumped.append(scope)
            self._generations[scope] = new_id()
