"""On-premises activation as use cases (SPEC §7): online by subscription id, offline by file.

Both paths end in one :class:`~core.activation.ports.Entitlement` (plan, seats, period, status) kept
in the tenant's activation record, and :func:`subscription_for` turns it into the
tenant's Subscription, so the access decision, seats and banner behave the same online
and offline.

The mapping, and why: the local subscription is ``cancelled`` — in SPEC §3 terms
"active until the period ends, will not renew" — because an on-premises server never
renews by itself: renewals arrive as new entitlements (a refresh, or a newer file). Its
period runs from the entitlement's start to its expiry **plus a grace of 7 days**, so
when the licence service cannot be reached the last entitlement holds until expiry + 7
days and is then refused by the ordinary decision (``expired``), with no job needed to
notice. An entitlement the service reports as expired takes effect at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Protocol

from core.activation.claims import (
    ActivationClaims,
    ActivationRefused,
    RefusalReason,
    accept,
)
from core.activation.ports import (
    ActivationDirectory,
    ActivationRecord,
    Entitlement,
    LicenceClient,
    LicenceRegistry,
    LicenceServiceRefused,
    LicenceServiceUnreachable,
)
from core.activation.trusted_time import DEFAULT_TOLERANCE, ClockSetBack, clock_set_back
from core.clock import Clock, today_in
from core.errors import Conflict, NotFound, ValidationFailed
from core.ids import new_id
from core.licensing import lifecycle
from core.licensing.deployment import Deployment
from core.licensing.seats import keep_most_recent
from core.licensing.subscription import ExpiryReason, Subscription, SubscriptionStatus, unusable_reason
from core.periods import Interval, Period
from core.tenancy import Tenant, User
from core.unit_of_work import TenantScope, UnitOfWorkFactory

__all__ = [
    "GRACE",
    "ActivationFileReader",
    "ActivationView",
    "NotPurchased",
    "RefreshReport",
    "TooManyServers",
    "UnknownSubscription",
    "activate_online",
    "activation_view",
    "entitlement_for_server",
    "entitlement_from_claims",
    "holds_until",
    "install_activation_file",
    "installation_server_id",
    "new_server_id",
    "refresh_online_entitlements",
    "refresh_tenant",
    "subscription_for",
]

#: How long the last entitlement holds past its expiry when it cannot be refreshed.
GRACE = timedelta(days=7)

_SUBSCRIPTION_ID = re.compile(r"^[0-9a-f]{32}$")
_SERVER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SERVICE_STATUSES = frozenset({"active", "cancelled", "past_due", "expired"})


class ActivationFileReader(Protocol):
    """Checks a file's signature with the trusted keys and returns its claims (or refuses)."""

    def decode(self, text: str) -> ActivationClaims: ...


# The mapping ----------------------------------------------------------------------------


def holds_until(entitlement: Entitlement) -> date:
    """The first day the entitlement no longer gives access: its expiry plus the grace."""
    return entitlement.expires_on + GRACE


def subscription_for(entitlement: Entitlement, today: date) -> Subscription:
    """The tenant's subscription under ``entitlement`` on ``today`` (see the module docstring)."""
    end = holds_until(entitlement)
    running = Subscription(
        entitlement.plan_id,
        SubscriptionStatus.ACTIVE,
        Interval(entitlement.interval),
        entitlement.seats,
        period=Period(entitlement.period_start, end, entitlement.period_start.day),
    )
    local = lifecycle.cancel(running)
    if today >= end:
        return lifecycle.expire(local, today)
    if entitlement.status == "expired":
        return replace(
            local,
            status=SubscriptionStatus.EXPIRED,
            expired_on=today,
            expiry_reason=ExpiryReason.PERIOD_ENDED,
        )
    return local


def entitlement_from_claims(claims: ActivationClaims) -> Entitlement:
    """A file grants its plan and seats for its period; it is billed annually if a year or longer."""
    days = (claims.expires_on - claims.period_start).days
    interval = Interval.ANNUAL if days >= 365 else Interval.MONTHLY
    return Entitlement(
        plan_id=claims.plan_id,
        seats=claims.seats,
        interval=interval.value,
        period_start=claims.period_start,
        expires_on=claims.expires_on,
        status="active",
        source="file",
    )


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


def _subscription_id(value: str) -> str:
    normalised = value.strip().lower().replace("-", "")
    if not _SUBSCRIPTION_ID.match(normalised):
        raise ValidationFailed(
            "a subscription id is 32 hexadecimal digits, as shown on the licence service's "
            "Subscription page",
            field="subscription_id",
        )
    return normalised


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
    sub_id = _subscription_id(subscription_id)
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


def _warnings(
    record: ActivationRecord, today: date, now: datetime, set_back: ClockSetBack | None
) -> tuple[str, ...]:
    found: list[str] = [set_back.message] if set_back is not None else []
    ent = record.entitlement
    if ent is None:
        return tuple(found)
    last_day = holds_until(ent) - timedelta(days=1)
    if record.mode == "online" and record.refresh_error:
        since = record.refreshed_at.strftime("%Y-%m-%d %H:%M UTC") if record.refreshed_at else "activation"
        found.append(
            f"Stint could not reach the licence service ({record.refresh_error}); the last successful "
            f"refresh was at {since}. The current licence stays valid up to and including "
            f"{last_day.isoformat()} (its expiry {ent.expires_on.isoformat()} plus 7 days of grace); "
            f"after that Stint is blocked until the licence service can be reached again."
        )
    if ent.expires_on <= today <= last_day:
        remedy = (
            "install a renewed activation file" if record.mode == "file" else "renew the subscription"
        )
        found.append(
            f"The licence expired on {ent.expires_on.isoformat()}. Stint keeps working up to and "
            f"including {last_day.isoformat()} (7 days of grace); {remedy} before then."
        )
    return tuple(found)


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
        warnings=_warnings(record, today_in(clock, tenant.time_zone), now, set_back),
    )


# The licence service's side --------------------------------------------------------------------


class UnknownSubscription(NotFound):
    """No subscription has the id a server presented."""

    code = "unknown_subscription"


class NotPurchased(Conflict):
    """The subscription cannot license a server (never bought, or a cloud-only plan)."""

    code = "not_activatable"


class TooManyServers(Conflict):
    code = "too_many_servers"


def _server_id(value: str) -> str:
    server_id = value.strip()
    if not _SERVER_ID.match(server_id):
        raise ValidationFailed(
            "a server id is 1–64 letters, digits, dots, dashes or underscores", field="server_id"
        )
    return server_id


async def entitlement_for_server(
    uow: UnitOfWorkFactory,
    registry: LicenceRegistry,
    clock: Clock,
    *,
    subscription_id: str,
    server_id: str,
    tenant: str,
    address: str | None,
    max_servers: int,
    grace_days: int,
) -> Entitlement:
    """What the subscription grants the calling server, recording the server's registration.

    The subscription id is the credential (32 random hex digits); each distinct server
    that presents it is recorded, and at most ``max_servers`` may, so one leaked id cannot
    license an unbounded number of servers.
    """
    sub_id = _subscription_id(subscription_id)
    server = _server_id(server_id)
    slug = tenant.strip()[:64] or "-"
    today = today_in(clock)
    now = clock.now()
    async with uow(write=True) as work:
        sub = await registry.subscription(sub_id)
        if sub is None:
            raise UnknownSubscription(
                "No subscription has this id. Copy it from the Subscription page of your Stint "
                "account, or ask support."
            )
        if sub.period is None or sub.interval is None or sub.seats is None:
            raise NotPurchased(
                "This subscription has not been bought yet; buy a plan before activating a server."
            )
        plan = (await work.directory.catalogue.load()).get(sub.plan_id)
        if Deployment.ONPREM not in plan.deployments:
            raise NotPurchased(
                f"The {plan.name} plan is for cloud organisations; it cannot activate an on-premises server."
            )
        registration = await registry.register(sub_id, server, slug, address, now)
        new, registered = registration.new, registration.servers
        if new and registered > max_servers:
            raise TooManyServers(
                f"This subscription already activates {max_servers} servers, the most allowed; "
                f"ask support to release one."
            )
        if new:
            await work.directory.audit(
                None, f"server:{server}", "licence.server_registered", sub_id,
                {"tenant": slug, "address": address, "servers": registered}, now,
            )
        status = sub.status.value
        if unusable_reason(sub, today, grace_days) is not None:
            status = "expired"
        await work.commit()
    if status not in _SERVICE_STATUSES:
        status = "active"
    return Entitlement(
        plan_id=sub.plan_id,
        seats=sub.seats,
        interval=sub.interval.value,
        period_start=sub.period.start,
        expires_on=sub.period.end,
        status=status,
        source="online",
    )
