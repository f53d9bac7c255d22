"""The access decision as a use case: load the facts, decide, license on first use.

Every API route and every page asks :func:`check_access` through one guard, so
pages and the API always agree (SPEC §6).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from core.clock import Clock
from core.errors import AccessDenied
from core.licensing.access import AccessContext, Action, Decision, DenialReason, decide
from core.licensing.roles import Role
from core.licensing.seats import FirstUseOutcome, SeatPool, licence_on_first_use
from core.licensing.subscription import DEFAULT_GRACE_DAYS, Subscription
from core.licensing.trial_banner import Banner, banner
from core.ports import TenantScope, UnitOfWorkFactory
from core.tenancy import Tenant, User

__all__ = ["AccessOutcome", "check_access", "ensure_access"]

#: How stale "last used" may get before a request refreshes it. Trial conversion keeps
#: the users of the last 30 days, so a day's precision is plenty and saves a write per request.
_TOUCH_EVERY = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class AccessOutcome:
    decision: Decision
    banner: Banner
    licensed: bool


async def _context(scope: TenantScope, tenant: Tenant, user: User, clock: Clock, grace_days: int,
                   subscription: Subscription | None = None) -> AccessContext:
    if subscription is None:
        _, subscription = await scope.subscription()
    return AccessContext(
        deployment=tenant.deployment,
        subscription=subscription,
        now=clock.now(),
        role=Role(user.effective_role(tenant.default_role)),
        licensed=await scope.is_licensed(user.person_id),
        collection_admin=user.collection_admin,
        approval_manager=user.approval_manager,
        tenant_uninstalled=tenant.uninstalled,
        grace_days=grace_days,
        time_zone=ZoneInfo(tenant.time_zone),
    )


async def _license_on_first_use(
    uow: UnitOfWorkFactory, tenant: Tenant, user: User, clock: Clock, grace_days: int, action: Action
) -> AccessContext:
    """Take a seat for ``user`` if one is free, under the subscription's lock."""
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        _, subscription = await scope.subscription(for_update=True)
        ctx = await _context(scope, tenant, user, clock, grace_days, subscription)
        if ctx.licensed:
            return ctx
        pool = SeatPool(seats=subscription.seats, licensed=await scope.seats_taken())
        outcome = licence_on_first_use(pool, tenant.licensing_mode, already_licensed=False)
        now = clock.now()
        if outcome.outcome is FirstUseOutcome.LICENSED:
            await scope.assign_seat(user.person_id, "first-use", now)
            await scope.audit(f"user:{user.id}", "seat.assigned", user.email, {"how": "first use"}, now)
            await work.commit()
            return dataclasses.replace(ctx, licensed=True)
        # No seat: the user is told; the admins see it in the audit log.
        await scope.audit(f"user:{user.id}", "seat.unavailable", user.email, {"action": action.value}, now)
        await work.commit()
        return ctx


async def check_access(
    uow: UnitOfWorkFactory,
    clock: Clock,
    *,
    tenant: Tenant,
    user: User,
    action: Action,
    grace_days: int = DEFAULT_GRACE_DAYS,
) -> AccessOutcome:
    async with uow() as work:
        scope = work.tenant(tenant.id)
        ctx = await _context(scope, tenant, user, clock, grace_days)
    decision = decide(ctx, action)
    if decision.reason is DenialReason.NO_SEAT:
        ctx = await _license_on_first_use(uow, tenant, user, clock, grace_days, action)
        decision = decide(ctx, action)
    if decision.allowed and (user.last_used_at is None or clock.now() - user.last_used_at > _TOUCH_EVERY):
        async with uow(write=True) as work:
            await work.tenant(tenant.id).touch_user(user.id, clock.now())
            await work.commit()
    return AccessOutcome(decision=decision, banner=banner(ctx), licensed=ctx.licensed)


async def ensure_access(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, user: User, action: Action,
    grace_days: int = DEFAULT_GRACE_DAYS,
) -> AccessOutcome:
    """:func:`check_access`, raising :class:`AccessDenied` (with ``hidden``) when refused."""
    outcome = await check_access(uow, clock, tenant=tenant, user=user, action=action, grace_days=grace_days)
    decision = outcome.decision
    if not decision.allowed:
        assert decision.reason is not None
        raise AccessDenied(
            decision.reason.value, decision.message or decision.reason.value, hidden=decision.hidden
        )
    return outcome
