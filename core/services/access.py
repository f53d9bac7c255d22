"""The access decision as a use case: load the facts, decide, license on first use.

Every API route and every page asks :func:`check_access` through one guard, so
pages and the API always agree (SPEC §6).

On-premises, the facts include what the server remembers about time
(:mod:`core.activation.trusted_time`), and a decision that believed the clock moves the
tenant's latest trusted time forward when it lags by a minute or more — a write a minute
at most, on decisions that were not cached. A cached decision is served only while the
clock reads no earlier than when it was made; a clock set back since is decided afresh.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.activation.trusted_time import DEFAULT_TOLERANCE, clock_set_back, mark_due
from core.clock import Clock
from core.errors import AccessDenied
from core.licensing.access import AccessContext, Action, Decision, DenialReason, decide
from core.licensing.deployment import Deployment
from core.licensing.ports import GenerationCache
from core.licensing.roles import Role
from core.licensing.seats import FirstUseOutcome, SeatPool, licence_on_first_use
from core.licensing.subscription import DEFAULT_GRACE_DAYS, Subscription
from core.licensing.trial_banner import Banner, banner
from core.tenancy import Tenant, User
from core.unit_of_work import TenantScope, UnitOfWorkFactory

__all__ = ["DECISION_TTL_SECONDS", "AccessOutcome", "access_scopes", "check_access", "ensure_access"]

#: How stale "last used" may get before a request refreshes it. Trial conversion keeps
#: the users of the last 30 days, so a day's precision is plenty and saves a write per request.
_TOUCH_EVERY = timedelta(hours=1)
#: How often a refused user's "no licence available" reaches the admins.
_NOTIFY_EVERY = timedelta(days=1)
#: How long a cached decision may be kept. Every change that can alter one moves a
#: generation (see :func:`access_scopes`), so this only bounds memory and a lost bump.
DECISION_TTL_SECONDS = 120


@dataclass(frozen=True, slots=True)
class AccessOutcome:
    decision: Decision
    banner: Banner
    licensed: bool


async def _context(scope: TenantScope, tenant: Tenant, user: User, clock: Clock, grace_days: int,
                   tolerance: timedelta, subscription: Subscription | None = None) -> AccessContext:
    if subscription is None:
        subscription = (await scope.subscriptions().get()).subscription
    # The cloud's clock is the vendor's own; an on-premises server's is the customer's.
    onprem = tenant.deployment is Deployment.ONPREM
    return AccessContext(
        deployment=tenant.deployment,
        subscription=subscription,
        now=clock.now(),
        role=Role(user.effective_role(tenant.default_role)),
        licensed=await scope.seats().is_licensed(user.person_id),
        collection_admin=user.collection_admin,
        approval_manager=user.approval_manager,
        tenant_uninstalled=tenant.uninstalled,
        grace_days=grace_days,
        time_zone=ZoneInfo(tenant.time_zone),
        trusted_time=await scope.activation().trusted_time() if onprem else None,
        clock_tolerance=tolerance,
    )


async def _license_on_first_use(
    uow: UnitOfWorkFactory, tenant: Tenant, user: User, clock: Clock, grace_days: int,
    tolerance: timedelta, action: Action,
) -> AccessContext:
    """Take a seat for ``user`` if one is free, under the subscription's lock."""
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        subscription = (await scope.subscriptions().get(for_update=True)).subscription
        ctx = await _context(scope, tenant, user, clock, grace_days, tolerance, subscription)
        if ctx.licensed:
            return ctx
        pool = SeatPool(seats=subscription.seats, licensed=await scope.seats().taken())
        outcome = licence_on_first_use(pool, tenant.licensing_mode, already_licensed=False)
        now = clock.now()
        if outcome.outcome is FirstUseOutcome.LICENSED:
            await scope.seats().assign(user.person_id, "first-use", now)
            await scope.audit().record(
                f"user:{user.id}", "seat.assigned", user.email, {"how": "first use"}, now
            )
            await work.commit()
            return dataclasses.replace(ctx, licensed=True)
        # No seat: the user is told, and the admins find it in the audit log — once a day
        # per user, so a user refreshing a refused page does not flood the log.
        if not await scope.audit().recorded_since("seat.unavailable", user.email, now - _NOTIFY_EVERY):
            detail = {"action": action.value}
            await scope.audit().record(f"user:{user.id}", "seat.unavailable", user.email, detail, now)
            await work.commit()
        return ctx


def access_scopes(tenant: Tenant) -> tuple[str, ...]:
    """What a decision for ``tenant`` is computed from, as cache scopes.

    ``t:<tenant id>`` moves when a user's role or flags or the tenant's settings change,
    ``s:<subscription id>`` when the subscription or its seats change (shared by every
    tenant of an enterprise-wide plan), ``*`` when something every tenant uses changes
    (the plan catalogue).
    """
    return (f"t:{tenant.id}", f"s:{tenant.subscription_id}", "*")


def _cache_key(tenant: Tenant, user: User, action: Action, grace_days: int, clock: Clock) -> str:
    # Everything the decision reads from the tenant and the user (both fresh from the
    # request's authentication) is in the key, and so is the day in the tenant's zone:
    # every expiry and the banner's countdown turn over at the tenant's midnight.
    day = clock.now().astimezone(ZoneInfo(tenant.time_zone)).date().isoformat()
    return ":".join((
        "access", tenant.id, user.id, action.value, day, str(grace_days), tenant.subscription_id,
        tenant.deployment.value, tenant.default_role, tenant.licensing_mode.value,
        "u" if tenant.uninstalled else "i", user.role or "-",
        "c" if user.collection_admin else "-", "a" if user.approval_manager else "-",
    ))


def _to_dict(outcome: AccessOutcome, decided_at: datetime) -> dict[str, Any]:
    d, b = outcome.decision, outcome.banner
    return {
        "allowed": d.allowed, "reason": d.reason.value if d.reason else None, "hidden": d.hidden,
        "detail": d.detail, "banner": b.visible, "days_left": b.days_left, "licensed": outcome.licensed,
        "at": decided_at.isoformat(),
    }


def _from_dict(value: dict[str, Any], now: datetime) -> AccessOutcome | None:
    """The cached outcome, or None when it cannot be served now: made at a later clock
    reading than ``now`` (the clock went back since), or cached before that was recorded."""
    made = value.get("at")
    if not isinstance(made, str) or now < datetime.fromisoformat(made):
        return None
    reason = DenialReason(value["reason"]) if value["reason"] else None
    return AccessOutcome(
        decision=Decision(bool(value["allowed"]), reason, bool(value["hidden"]), value.get("detail")),
        banner=Banner(bool(value["banner"]), value["days_left"]),
        licensed=bool(value["licensed"]),
    )


async def _touch_if_due(uow: UnitOfWorkFactory, clock: Clock, user: User, decision: Decision) -> None:
    if decision.allowed and (user.last_used_at is None or clock.now() - user.last_used_at > _TOUCH_EVERY):
        async with uow(write=True) as work:
            await work.tenant(user.tenant_id).users().touch(user.id, clock.now())
            await work.commit()


async def _decide_now(
    uow: UnitOfWorkFactory, clock: Clock, tenant: Tenant, user: User, action: Action, grace_days: int,
    tolerance: timedelta,
) -> AccessOutcome:
    async with uow() as work:
        scope = work.tenant(tenant.id)
        ctx = await _context(scope, tenant, user, clock, grace_days, tolerance)
    decision = decide(ctx, action)
    if decision.reason is DenialReason.NO_SEAT:
        ctx = await _license_on_first_use(uow, tenant, user, clock, grace_days, tolerance, action)
        decision = decide(ctx, action)
    await _trust_if_due(uow, tenant, ctx)
    return AccessOutcome(decision=decision, banner=banner(ctx), licensed=ctx.licensed)


async def _trust_if_due(uow: UnitOfWorkFactory, tenant: Tenant, ctx: AccessContext) -> None:
    """Store the clock reading the decision believed as the latest trusted time, when due."""
    trusted = ctx.trusted_time
    if trusted is None or not mark_due(ctx.now, trusted):
        return
    if clock_set_back(ctx.now, trusted, ctx.clock_tolerance) is not None:
        return
    async with uow(write=True) as work:
        await work.tenant(tenant.id).activation().advance_trusted_time(ctx.now)
        await work.commit()


async def check_access(
    uow: UnitOfWorkFactory,
    clock: Clock,
    *,
    tenant: Tenant,
    user: User,
    action: Action,
    grace_days: int = DEFAULT_GRACE_DAYS,
    cache: GenerationCache | None,
    clock_tolerance: timedelta = DEFAULT_TOLERANCE,
) -> AccessOutcome:
    """The decision for ``user`` doing ``action`` now; ``cache`` (None: decide every time)
    keeps it until a change. ``clock_tolerance``: how far an on-premises clock may fall
    behind the latest time it was trusted at before it is refused.

    With a cache, the scopes' generations are read *before* the facts, so a decision
    computed from facts older than a change is stored under the old generation and
    never served after the change's bump.
    """
    if cache is None:
        outcome = await _decide_now(uow, clock, tenant, user, action, grace_days, clock_tolerance)
    else:
        key = _cache_key(tenant, user, action, grace_days, clock)
        cached = await cache.get(key, access_scopes(tenant))
        now = clock.now()
        found = None if cached.value is None else _from_dict(cached.value, now)
        if found is not None:
            outcome = found
        else:
            outcome = await _decide_now(uow, clock, tenant, user, action, grace_days, clock_tolerance)
            # A set-back clock is refused afresh each time, so correcting it works at once.
            if outcome.decision.reason is not DenialReason.CLOCK_SET_BACK:
                await cache.put(key, cached.stamp, _to_dict(outcome, now), DECISION_TTL_SECONDS)
    await _touch_if_due(uow, clock, user, outcome.decision)
    return outcome


async def ensure_access(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, user: User, action: Action,
    grace_days: int = DEFAULT_GRACE_DAYS, cache: GenerationCache | None,
    clock_tolerance: timedelta = DEFAULT_TOLERANCE,
) -> AccessOutcome:
    """:func:`check_access`, raising :class:`AccessDenied` (with ``hidden``) when refused."""
    outcome = await check_access(
        uow, clock, tenant=tenant, user=user, action=action, grace_days=grace_days, cache=cache,
        clock_tolerance=clock_tolerance,
    )
    decision = outcome.decision
    if not decision.allowed:
        assert decision.reason is not None
        raise AccessDenied(
            decision.reason.value, decision.message or decision.reason.value, hidden=decision.hidden
        )
    return outcome
