"""Deactivating a user (SPEC §5, ``DELETE /users/{id}``): their worklogs stay, their seat
is freed, their tokens are revoked; not yourself, not the last Administrator."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from core.clock import Clock
from core.errors import DeactivateSelf, NotFound
from core.tenancy import Tenant, User
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .audit import actor_of
from .user_roles import ensure_administrators_after

__all__ = ["deactivate_in_scope", "deactivate_user"]


async def deactivate_in_scope(
    directory: Any, scope: TenantScope, tenant: Tenant, actor: User, user: User, now: datetime,
    address: str | None,
) -> None:
    """Deactivate ``user``: their worklogs stay, their seat is freed, their tokens refused."""
    if user.id == actor.id:
        raise DeactivateSelf("you cannot deactivate yourself")
    default_role = (await directory.tenant_by_id(tenant.id) or tenant).default_role
    await ensure_administrators_after(scope, default_role, replace(user, active=False))
    who = actor_of(actor)
    await scope.users().set_active(user.id, False, now)
    # Refused while inactive anyway; revoked so that reactivating them revives no old token.
    revoked = await scope.tokens().revoke_user(user.id, now)
    if await scope.seats().is_licensed(user.person_id):
        await scope.seats().release(user.person_id)
        await scope.audit().record(who, "seat.released", user.email, {"how": "deactivated"}, now,
                                   address=address)
    await scope.audit().record(who, "user.deactivated", user.email, {"tokens_revoked": revoked}, now,
                               address=address)


async def deactivate_user(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, user_id: str,
    address: str | None = None,
) -> User:
    """``DELETE /users/{id}``: not yourself, not the last Administrator (409 both); a user
    deactivated already stays so (the answer is the same)."""
    now = clock.now()
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        user = await scope.users().get(user_id)
        if user is None:
            raise NotFound("no such user in this tenant")
        if not user.active:
            return user
        await deactivate_in_scope(work.directory, scope, tenant, actor, user, now, address)
        await work.commit()
    return replace(user, active=False)
