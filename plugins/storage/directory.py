"""Cross-tenant lookups: sign-in, signup, the operator console (see core.licensing.ports.Directory)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from typing import Any

from piccolo.engine.base import Engine

from core.audit import AuditQuery, AuditRecord
from core.ids import new_id
from core.licensing.ports import OperatorLogin
from core.licensing.subscription import Subscription
from core.tenancy import Enterprise, Operator, Person, Tenant

from .audit_repo import audit_page
from .catalogue_repo import CatalogueRepo
from .changes import note_change, tenant_scope
from .mapping import subscription_to_row, tenant_from_row, tenant_to_row
from .plain_sql import Sql, fetch
from .second_factor_repo import SecondFactors
from .tables import AuditEvent, OperatorAccount
from .tables import Enterprise as EnterpriseRow
from .tables import Person as PersonRow
from .tables import Subscription as SubscriptionRow
from .tables import Tenant as TenantRow

# Plain SQL for what every payment webhook runs (Piccolo's builder cost more than the query).
_TENANT_BY_ID = Sql("SELECT * FROM tenant WHERE id = {}")
_AUDIT = Sql(
    "INSERT INTO audit_event (id, tenant_id, actor, action, subject, detail, at, address) "
    "VALUES ({}, {}, {}, {}, {}, {}, {}, {})"
)


def _operator(row: dict[str, Any]) -> Operator:
    return Operator(
        id=row["id"], email=row["email"], name=row["name"],
        second_factor=row["totp_confirmed_at"] is not None,
    )


class PiccoloDirectory:
    def __init__(self, engine: Engine[Any]) -> None:
        self._engine = engine
        self.catalogue = CatalogueRepo()

    async def repoint_enterprise(self, enterprise_id: str, sub_id: str) -> list[str]:
        """Every tenant of the enterprise onto ``sub_id`` (an enterprise-wide plan); their ids."""
        await TenantRow.update({TenantRow.subscription_id: sub_id}).where(
            TenantRow.enterprise_id == enterprise_id
        )
        rows = await TenantRow.select(TenantRow.id).where(TenantRow.enterprise_id == enterprise_id)
        ids = [row["id"] for row in rows]
        for tenant_id in ids:
            # Each tenant's pool (and so its users' licences) just changed.
            note_change(tenant_scope(tenant_id))
        return ids

    async def tenant_by_slug(self, slug: str) -> Tenant | None:
        row = await TenantRow.select().where(TenantRow.slug == slug).first()
        return tenant_from_row(row) if row else None

    async def tenant_by_id(self, tenant_id: str) -> Tenant | None:
        rows = await fetch(TenantRow, _TENANT_BY_ID, tenant_id)
        return tenant_from_row(rows[0]) if rows else None

    async def tenants(self, *, search: str = "", after: str = "", limit: int = 50) -> list[Tenant]:
        query = TenantRow.select().order_by(TenantRow.slug).limit(limit)
        if search:
            # Slugs are lower-case [a-z0-9-], so a plain LIKE is a case-insensitive search on
            # both engines (SQLite has no ILIKE); anything else typed cannot match anyway.
            cleaned = re.sub(r"[^a-z0-9-]", "", search.lower())
            query = query.where(TenantRow.slug.like(f"%{cleaned}%"))
        if after:
            query = query.where(TenantRow.slug > after)
        return [tenant_from_row(row) for row in await query]

    async def tenants_of_enterprise(self, enterprise_id: str) -> list[Tenant]:
        rows = await TenantRow.select().where(TenantRow.enterprise_id == enterprise_id)
        return [tenant_from_row(row) for row in rows]

    async def tenants_with_due_subscriptions(
        self, today: date, *, grace_days: int, limit: int = 500
    ) -> list[Tenant]:
        """One tenant per subscription that has a renewal or an expiry due by ``today``.

        Served by the (status, period_end) index; a day of slack covers billing time
        zones ahead of UTC, and the use case re-checks each one under its lock.
        """
        horizon = today + timedelta(days=1)
        due = SubscriptionRow.select(SubscriptionRow.id).where(
            (
                (SubscriptionRow.status.is_in(["active", "cancelled"]))
                & (SubscriptionRow.period_end <= horizon)
            )
            | ((SubscriptionRow.status == "trialing") & (SubscriptionRow.trial_ends_on <= horizon))
            | (
                (SubscriptionRow.status == "past_due")
                & (SubscriptionRow.past_due_since <= horizon - timedelta(days=grace_days))
            )
        ).limit(limit)
        ids = [row["id"] for row in await due]
        if not ids:
            return []
        rows = (
            await TenantRow.select()
            .where(TenantRow.subscription_id.is_in(ids))
            .order_by(TenantRow.created_at)
        )
        chosen: dict[str, Tenant] = {}
        for row in rows:
            chosen.setdefault(row["subscription_id"], tenant_from_row(row))
        return list(chosen.values())

    async def add_enterprise(self, enterprise: Enterprise) -> None:
        await EnterpriseRow.insert(
            EnterpriseRow(id=enterprise.id, name=enterprise.name, created_at=enterprise.created_at)
        )

    async def add_subscription(
        self, sub_id: str, enterprise_id: str, scope: str, sub: Subscription, at: datetime
    ) -> None:
        await SubscriptionRow.insert(
            SubscriptionRow(
                id=sub_id,
                enterprise_id=enterprise_id,
                scope=scope,
                created_at=at,
                updated_at=at,
                **subscription_to_row(sub),
            )
        )

    async def add_tenant(self, tenant: Tenant) -> None:
        await TenantRow.insert(TenantRow(**tenant_to_row(tenant)))

    async def save_tenant(self, tenant: Tenant) -> None:
        note_change(tenant_scope(tenant.id))
        values = tenant_to_row(tenant)
        del values["id"]
        await TenantRow.update(values).where(TenantRow.id == tenant.id)  # type: ignore[arg-type]

    async def person_by_email(self, email: str) -> Person | None:
        row = await PersonRow.select().where(PersonRow.email == email).first()
        return Person(id=row["id"], email=row["email"], name=row["name"]) if row else None

    async def add_person(self, person: Person, created_at: datetime) -> None:
        await PersonRow.insert(
            PersonRow(id=person.id, email=person.email, name=person.name, created_at=created_at)
        )

    async def operator_by_email(self, email: str) -> OperatorLogin | None:
        row = await OperatorAccount.select().where(OperatorAccount.email == email).first()
        if not row:
            return None
        return OperatorLogin(_operator(row), row["password_hash"])

    async def operator_by_id(self, operator_id: str) -> Operator | None:
        row = await OperatorAccount.select().where(OperatorAccount.id == operator_id).first()
        return _operator(row) if row else None

    def operator_second_factors(self) -> SecondFactors:
        return SecondFactors()

    async def add_operator(self, operator: Operator, password_hash: str, at: datetime) -> None:
        await OperatorAccount.insert(
            OperatorAccount(
                id=operator.id,
                email=operator.email,
                name=operator.name,
                password_hash=password_hash,
                created_at=at,
            )
        )

    async def audit(
        self,
        tenant_id: str | None,
        actor: str,
        action: str,
        subject: str,
        detail: dict[str, Any],
        at: datetime,
        *,
        address: str | None = None,
    ) -> None:
        detail_json = json.dumps(detail, sort_keys=True, default=str)
        await fetch(
            AuditEvent, _AUDIT, new_id(), tenant_id, actor, action, subject, detail_json, at,
            address[:64] if address else None,
        )

    async def audit_page(self, query: AuditQuery) -> list[AuditRecord]:
        """Every tenant's trail and the installation's, for operators (``query.tenant_id``)."""
        return await audit_page(query)

    async def billing_events(self, *, limit: int = 100) -> list[dict[str, Any]] | None:
        """Payment-provider events received, newest first; None when this build has no such table.

        Run it in a unit of work of its own: on PostgreSQL a missing table aborts the transaction.
        """
        try:
            rows = await AuditEvent.raw(
                "SELECT id, type, outcome, received_at FROM billing_event ORDER BY received_at DESC LIMIT {}",
                limit,
            )
        except Exception:  # the table is another module's; its absence is an answer, not an error
            return None
        return list(rows)
