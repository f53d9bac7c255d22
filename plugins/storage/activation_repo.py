"""Activation storage: each tenant's activation record, the installation's server id, and the
licence service's registrations. Tenant data is read and written only through
:class:`PiccoloActivationRepo`, which filters every query on its tenant id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.activation.claims import ActivationClaims, ActivationState
from core.activation.ports import ActivationRecord, Entitlement, Registration
from core.activation.trusted_time import TrustedTime
from core.ids import new_id
from core.licensing.subscription import Subscription

from .activation_tables import Installation, LicenceRegistration, TenantActivation
from .mapping import subscription_from_row
from .plain_sql import Sql, fetch
from .tables import Subscription as SubscriptionRow

__all__ = ["PiccoloActivationDirectory", "PiccoloActivationRepo", "PiccoloLicenceRegistry"]

_INSTALLATION = "server"


def _claims(row: dict[str, Any]) -> ActivationClaims | None:
    if row["file_id"] is None:
        return None
    return ActivationClaims(
        file_id=row["file_id"],
        tenant=row["file_tenant"],
        server_id=row["file_server_id"],
        plan_id=row["file_plan_id"],
        seats=row["file_seats"],
        period_start=row["file_period_start"],
        expires_on=row["file_expires_on"],
        issued_at=row["file_issued_at"],
        key_id=row["file_key_id"],
    )


def _record(row: dict[str, Any]) -> ActivationRecord:
    entitlement = None
    if row["plan_id"] is not None:
        entitlement = Entitlement(
            plan_id=row["plan_id"],
            seats=row["seats"],
            interval=row["interval"],
            period_start=row["period_start"],
            expires_on=row["expires_on"],
            status=row["service_status"],
            source=row["mode"],
        )
    return ActivationRecord(
        mode=row["mode"],
        entitlement=entitlement,
        file_state=ActivationState(installed=_claims(row), issued_at_high_water=row["issued_at_high_water"]),
        subscription_id=row["subscription_id"],
        refreshed_at=row["refreshed_at"],
        attempted_at=row["attempted_at"],
        refresh_error=row["refresh_error"],
    )


def _values(record: ActivationRecord) -> dict[str, Any]:
    ent, claims = record.entitlement, record.file_state.installed
    return {
        "mode": record.mode,
        "plan_id": ent.plan_id if ent else None,
        "seats": ent.seats if ent else None,
        "interval": ent.interval if ent else None,
        "period_start": ent.period_start if ent else None,
        "expires_on": ent.expires_on if ent else None,
        "service_status": ent.status if ent else None,
        "file_id": claims.file_id if claims else None,
        "file_tenant": claims.tenant if claims else None,
        "file_server_id": claims.server_id if claims else None,
        "file_plan_id": claims.plan_id if claims else None,
        "file_seats": claims.seats if claims else None,
        "file_period_start": claims.period_start if claims else None,
        "file_expires_on": claims.expires_on if claims else None,
        "file_issued_at": claims.issued_at if claims else None,
        "file_key_id": claims.key_id if claims else None,
        "issued_at_high_water": record.file_state.high_water,
        "subscription_id": record.subscription_id,
        "refreshed_at": record.refreshed_at,
        "attempted_at": record.attempted_at,
        "refresh_error": record.refresh_error,
    }


# The trusted time's writes are single statements, so that two processes moving it at once
# cannot lower it: the database compares. (On SQLite both sides are the text Piccolo stores,
# always "YYYY-MM-DD HH:MM:SS+00:00": seconds are whole, so text order is time order.)
_TRUSTED_TIME = Sql(
    "SELECT (SELECT trusted_at FROM trusted_time WHERE tenant_id = {}) AS trusted_at, "
    "a.issued_at_high_water, a.file_issued_at "
    "FROM (SELECT 1 AS one) AS k LEFT JOIN tenant_activation AS a ON a.tenant_id = {}"
)
_SET_TRUSTED_TIME = (
    "INSERT INTO trusted_time (tenant_id, trusted_at) VALUES ({}, {}) "
    "ON CONFLICT (tenant_id) DO UPDATE SET trusted_at = excluded.trusted_at"
)
_ADVANCE_TRUSTED_TIME = Sql(_SET_TRUSTED_TIME + " WHERE trusted_time.trusted_at < excluded.trusted_at")
_RESET_TRUSTED_TIME = Sql(_SET_TRUSTED_TIME)


def _whole(moment: datetime) -> datetime:
    """UTC, whole seconds (see above); down, so a stored mark never runs ahead of the clock."""
    return moment.astimezone(UTC).replace(microsecond=0)


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


class PiccoloActivationRepo:
    """One tenant's activation record."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    async def mode(self) -> str | None:
        row = (
            await TenantActivation.select(TenantActivation.mode)
            .where(TenantActivation.tenant_id == self.tenant_id)
            .first()
        )
        return row["mode"] if row else None

    async def load(self) -> ActivationRecord:
        row = await TenantActivation.select().where(TenantActivation.tenant_id == self.tenant_id).first()
        return _record(row) if row else ActivationRecord()

    async def save(self, record: ActivationRecord, at: datetime) -> None:
        values: dict[Any, Any] = {**_values(record), "updated_at": at}
        exists = await TenantActivation.exists().where(TenantActivation.tenant_id == self.tenant_id)
        if exists:
            await TenantActivation.update(values).where(TenantActivation.tenant_id == self.tenant_id)
        else:
            await TenantActivation.insert(TenantActivation(tenant_id=self.tenant_id, **values))

    async def trusted_time(self) -> TrustedTime:
        (row,) = await fetch(TenantActivation, _TRUSTED_TIME, self.tenant_id, self.tenant_id)
        issued = [m for m in (_moment(row["issued_at_high_water"]), _moment(row["file_issued_at"])) if m]
        return TrustedTime(latest=_moment(row["trusted_at"]), newest_issued_at=max(issued, default=None))

    async def advance_trusted_time(self, to: datetime) -> None:
        await fetch(TenantActivation, _ADVANCE_TRUSTED_TIME, self.tenant_id, _whole(to))

    async def reset_trusted_time(self, to: datetime) -> None:
        await fetch(TenantActivation, _RESET_TRUSTED_TIME, self.tenant_id, _whole(to))


class PiccoloActivationDirectory:
    """Installation-wide: the server id, and which tenants the refresh job visits."""

    async def server_id(self, candidate: str, at: datetime) -> str:
        query = Installation.select(Installation.server_id).where(Installation.id == _INSTALLATION)
        row = await query.first()
        if row is None:
            # ON CONFLICT DO NOTHING (SQLite and PostgreSQL): two first callers agree on one id.
            await Installation.insert(
                Installation(id=_INSTALLATION, server_id=candidate, created_at=at)
            ).on_conflict(action="DO NOTHING")
            row = await Installation.select(Installation.server_id).where(
                Installation.id == _INSTALLATION
            ).first()
            assert row is not None
        return str(row["server_id"])

    async def online_tenants(self) -> list[str]:
        rows = await TenantActivation.select(TenantActivation.tenant_id).where(
            TenantActivation.mode == "online"
        ).order_by(TenantActivation.tenant_id)
        return [row["tenant_id"] for row in rows]


class PiccoloLicenceRegistry:
    """The licence service's records: subscriptions by id, servers registered to each."""

    async def subscription(self, subscription_id: str) -> Subscription | None:
        row = await SubscriptionRow.select().where(SubscriptionRow.id == subscription_id).first()
        return subscription_from_row(row) if row else None

    async def register(
        self, subscription_id: str, server_id: str, tenant: str, address: str | None, at: datetime
    ) -> Registration:
        match = (LicenceRegistration.subscription_id == subscription_id) & (
            LicenceRegistration.server_id == server_id
        )
        found = await LicenceRegistration.exists().where(match)
        if found:
            await LicenceRegistration.update(
                {
                    LicenceRegistration.last_seen_at: at,
                    LicenceRegistration.last_address: address,
                    LicenceRegistration.tenant: tenant,
                }
            ).where(match)
        else:
            await LicenceRegistration.insert(
                LicenceRegistration(
                    id=new_id(),
                    subscription_id=subscription_id,
                    server_id=server_id,
                    tenant=tenant,
                    first_seen_at=at,
                    last_seen_at=at,
                    last_address=address,
                )
            ).on_conflict(action="DO NOTHING")
        count = await LicenceRegistration.count().where(
            LicenceRegistration.subscription_id == subscription_id
        )
        return Registration(new=not found, servers=int(count))
