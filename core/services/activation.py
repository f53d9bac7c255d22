"""On-premises activation as use cases (SPEC §7), on the server's side: online by
subscription id, offline by file, the refresh job and what the Subscription page shows.
What an entitlement means locally is :mod:`core.activation.entitlements`; the licence
service's side is :mod:`core.services.licence_service`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from core.activation.claims import (
    ActivationRefused,
    RefusalReason,
    accept,
)
from core.activation.entitlements import (
    activation_warnings,
    entitlement_from_claims,
    holds_until,
    normalised_subscription_id,
    subscription_for,
)
from core.activation.ports import (
    ActivationDirectory,
    ActivationFileReader,
    ActivationRecord,
    Entitlement,
    LicenceClient,
    LicenceServiceRefused,
    LicenceServiceUnreachable,
)
from core.activation.trusted_time import DEFAULT_TOLERANCE, clock_set_back
from core.clock import Clock, today_in
from core.errors import Conflict
from core.ids import new_id
from core.licensing.deployment import Deployment
from core.licensing.seats import keep_most_recent
from core.licensing.subscription import Subscription
from core.tenancy import Tenant, User
from core.unit_of_work import TenantScope, UnitOfWorkFactory

__all__ = [
    "ActivationView",
    "RefreshReport",
    "activate_online",
    "activation_view",
    "install_activation_file",
    "installation_server_id",
    "new_server_id",
    "refresh_online_entitlements",
    "refresh_tenant",
]



async def _apply(
    scope: TenantScope, entitlement: Entitlement, today: date, now: datetime, actor: str
) -> Subscription:
    """Write the entitlement's subscription and keep licensed users within its seats."""
    held = await scope.subscriptions().get(for_update=True)
    sub_id, current = held.id, held.subscription
    target = subscription_for(entitlement, today)
    if target != current:
        await scope.subscriptions().save(sub_id, target, now)
        await scope.audit().record(
            actor,
            "subscription.entitled",
            sub_id,
            {
                "source": entitlement.source,
                "plan": entitlement.plan_id,
                "seats": entitlement.seats,
                "expires_on": entitlement.expires_on.isoformat(),
                "status": target.status.value,
            },
            now,
        )
    people = await scope.seats().holders_last_use()
    if len(people) > entitlement.seats:
        # Fewer seats than licensed users: the most recent users keep theirs, as on renewal.
        _, released = keep_most_recent(people, entitlement.seats)
        for person_id in released:
            await scope.seats().release(person_id)
            await scope.audit().record(
                actor, "seat.released", person_id, {"why": "entitlement has fewer seats"}, now
            )
    return target


# Server id ------------------------------------------------------------------------------


def new_server_id() -> str:
    """A fresh server id, easy to read out to support: ``SRV-`` and 16 hex digits in groups."""
    raw = new_id()[:16].upper()
    return "SRV-" + "-".join(raw[i : i + 4] for i in range(0, 16, 4))


async def installation_server_id(uow: UnitOfWorkFactory, directory: ActivationDirectory, clock: Clock) -> str:
    """This installation's stable server id, generated and stored the first time."""
    async with uow(write=True) as work:
        server_id = await directory.server_id(new_server_id(), clock.now())
        await work.commit()
    return server_id


def _require_onprem(tenant: Tenant) -> None:
    if tenant.deployment is not Deployment.ONPREM:
        raise Conflict(
            "Activation is for on-premises servers; a cloud organisation gets its licence from its "
            "subscription directly."
        )


# Offline: activation files -----------------------------------------------------------------


async def install_activation_file(
    uow: UnitOfWorkFactory,
    directory: ActivationDirectory,
    reader: ActivationFileReader,
    clock: Clock,
    *,
    tenant: Tenant,
    actor: User,
    text: str,
) -> Subscription:
    """Verify ``text`` offline and install it, or raise :class:`ActivationRefused` saying why.

    A refusal changes nothing (the unit of work is not committed).
    """
    _require_onprem(tenant)
    claims = reader.decode(text)
    server_id = await installation_server_id(uow, directory, clock)
    now = clock.now()
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        repo = scope.activation()
        record = await repo.load()
        if claims.server_id == server_id and claims.tenant != tenant.slug:
            raise ActivationRefused(
                RefusalReason.OTHER_SERVER,
                f"This activation file was issued for tenant {claims.tenant} on this server, "
                f"not for this tenant ({tenant.slug}).",
            )
        state = accept(claims, record.file_state, server_id, now)
        entitlement = entitlement_from_claims(claims)
        await repo.save(
            replace(record, mode="file", entitlement=entitlement, file_state=state, refresh_error=None), now
        )
        if claims != record.file_state.installed:
            # A file newer than any verified is the vendor's word that its issue time has come:
            # the trusted time restarts from it, back if need be (core.activation.trusted_time).
            # The file already installed, sent again, proves nothing new.
            await repo.reset_trusted_time(max(claims.issued_at, now))
        else:
            await repo.advance_trusted_time(now)
        sub = await _apply(scope, entitlement, today_in(clock, tenant.time_zone), now, f"user:{actor.id}")
        await scope.audit().record(
            f"user:{actor.id}",
            "activation.file_installed",
            claims.file_id,
            {"issued_at": claims.issued_at.isoformat(), "key_id": claims.key_id},
            now,
        )
        await work.commit()
    return sub


# Online: by subscription id ---------------------------------------------------------------


async def activate_online(
    uow: UnitOfWorkFactory,
    directory: ActivationDirectory,
    client: LicenceClient,
    clock: Clock,
    *,
    tenant: Tenant,
    actor: User,
    subscription_id: str,
) -> Subscription:
    """Register with the licence service and install the entitlement it answers with."""
    _require_onprem(tenant)
    sub_id = normalised_subscription_id(subscription_id)
    server_id = await installation_server_id(uow, directory, clock)
    # Network first, outside any transaction: a slow service never holds a database lock.
    entitlement = await client.entitlement(sub_id, server_id, tenant.slug)
    now = clock.now()
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        repo = scope.activation()
        record = await repo.load()
        await repo.save(
            replace(
                record,
                mode="online",
                entitlement=entitlement,
                subscription_id=sub_id,
                refreshed_at=now,
                attempted_at=now,
                refresh_error=None,
            ),
            now,
        )
        await repo.advance_trusted_time(now)
        sub = await _apply(scope, entitlement, today_in(clock, tenant.time_zone), now, f"user:{actor.id}")
        await scope.audit().record(
            f"user:{actor.id}", "activation.online", sub_id, {"server_id": server_id}, now
        )
        await work.commit()
    return sub


@dataclass(frozen=True, slots=True)
class RefreshReport:
    refreshed: int = 0
    failed: int = 0


async def refresh_tenant(
    uow: UnitOfWorkFactory,
    directory: ActivationDirectory,
    client: LicenceClient,
    clock: Clock,
    *,
    tenant: Tenant,
) -> str | None:
    """Ask the licence service again; None when refreshed, else why not (recorded for admins).

    On failure the last entitlement stays, and is applied again so that it ends on time
    (expiry + grace) even if nothing else runs.
    """
    async with uow() as work:
        record = await work.tenant(tenant.id).activation().load()
    if record.mode != "online" or record.subscription_id is None:
        raise Conflict("This tenant is not activated online; enter its subscription id first.")
    server_id = await installation_server_id(uow, directory, clock)
    error: str | None = None
    entitlement: Entitlement | None = None
    try:
        entitlement = await client.entitlement(record.subscription_id, server_id, tenant.slug)
    except (LicenceServiceUnreachable, LicenceServiceRefused) as failure:
        error = failure.detail
    now = clock.now()
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        repo = scope.activation()
        record = await repo.load()
        if record.mode != "online":
            return None  # Switched to a file meanwhile: nothing to refresh.
        if entitlement is not None:
            record = replace(
                record, entitlement=entitlement, refreshed_at=now, attempted_at=now, refresh_error=None
            )
        else:
            if record.refresh_error is None:
                await scope.audit().record(
                    "system:activation", "activation.refresh_failed", tenant.slug, {"error": error}, now
                )
            record = replace(record, attempted_at=now, refresh_error=error)
        await repo.save(record, now)
        # The job runs whether or not anyone signs in: it keeps the trusted time current too.
        await repo.advance_trusted_time(now)
        if record.entitlement is not None:
            today = today_in(clock, tenant.time_zone)
            await _apply(scope, record.entitlement, today, now, "system:activation")
        await work.commit()
    return error


async def refresh_online_entitlements(
    uow: UnitOfWorkFactory,
    directory: ActivationDirectory,
    client: LicenceClient,
    clock: Clock,
) -> RefreshReport:
    """The scheduled job: refresh every tenant activated online. Idempotent; safe to run twice."""
    async with uow() as work:
        tenant_ids = await directory.online_tenants()
        tenants = [await work.directory.tenant_by_id(tenant_id) for tenant_id in tenant_ids]
    refreshed = failed = 0
    for tenant in tenants:
        if tenant is None:
            continue
        error = await refresh_tenant(uow, directory, client, clock, tenant=tenant)
        if error is None:
            refreshed += 1
        else:
            failed += 1
    return RefreshReport(refreshed=refreshed, failed=failed)


# What the admin sees --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActivationView:
    server_id: str
    record: ActivationRecord
    holds_until: date | None
    warnings: tuple[str, ...]


async def activation_view(
    uow: UnitOfWorkFactory, directory: ActivationDirectory, clock: Clock, *, tenant: Tenant,
    clock_tolerance: timedelta = DEFAULT_TOLERANCE,
) -> ActivationView:
    """The tenant's activation as its admin sees it; a set-back clock comes first among
    the warnings, with the times that give it away."""
    server_id = await installation_server_id(uow, directory, clock)
    async with uow() as work:
        repo = work.tenant(tenant.id).activation()
        record = await repo.load()
        trusted = await repo.trusted_time()
    now = clock.now()
    set_back = clock_set_back(now, trusted, clock_tolerance)
    return ActivationView(
        server_id=server_id,
        record=record,
        holds_until=holds_until(record.entitlement) if record.entitlement else None,
        warnings=activation_warnings(record, today_in(clock, tenant.time_zone), now, set_back),
    )


