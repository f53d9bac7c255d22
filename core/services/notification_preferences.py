"""Notification preferences (issue #19): each user's own choices per kind, and the tenant's
defaults that Administrators set for everyone who has not chosen.

Reads answer every kind (the effective setting); writes take only the kinds given, refuse an
unknown kind before storing anything, and leave the other kinds as they were. A change of
the tenant's defaults is audited; a user's own choice is theirs and is not.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.clock import Clock
from core.notifications import checked_kinds, resolve
from core.tenancy import Tenant, User
from core.unit_of_work import UnitOfWorkFactory

from .audit import actor_of

__all__ = [
    "my_notifications", "set_my_notifications", "set_tenant_notifications", "tenant_notifications",
    "unsubscribe",
]


async def my_notifications(uow: UnitOfWorkFactory, *, tenant: Tenant, user: User) -> dict[str, bool]:
    """The kinds ``user`` gets (their choice, else the tenant's default, else on)."""
    async with uow() as work:
        store = work.tenant(tenant.id).notifications()
        return resolve(await store.user_choices(user.id), await store.tenant_defaults())


async def set_my_notifications(
    uow: UnitOfWorkFactory, *, tenant: Tenant, user: User, kinds: Mapping[str, bool]
) -> dict[str, bool]:
    """Store ``user``'s choices for the kinds given; every kind's effective setting after."""
    choices = checked_kinds(kinds)
    async with uow(write=True) as work:
        store = work.tenant(tenant.id).notifications()
        await store.set_user_choices(user.id, choices)
        answer = resolve(await store.user_choices(user.id), await store.tenant_defaults())
        await work.commit()
    return answer


async def tenant_notifications(uow: UnitOfWorkFactory, *, tenant: Tenant) -> dict[str, bool]:
    """The tenant's default for every kind (on where none was set)."""
    async with uow() as work:
        return resolve({}, await work.tenant(tenant.id).notifications().tenant_defaults())


async def set_tenant_notifications(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, kinds: Mapping[str, bool],
    address: str | None = None,
) -> dict[str, bool]:
    """Store the tenant's defaults for the kinds given (Administrators; the web guards it)."""
    choices = checked_kinds(kinds)
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        await scope.notifications().set_tenant_defaults(choices)
        answer = resolve({}, await scope.notifications().tenant_defaults())
        await scope.audit().record(
            actor_of(actor), "settings.notifications", tenant.slug, {"kinds": choices}, clock.now(),
            address=address,
        )
        await work.commit()
    return answer


async def unsubscribe(uow: UnitOfWorkFactory, *, tenant_id: str, user_id: str, kind: str) -> bool:
    """Turn ``kind`` off for the user a signed unsubscribe link names; False when that user
    no longer exists (a removed user gets no mail anyway). Running it twice changes nothing."""
    choices = checked_kinds({kind: False})
    async with uow(write=True) as work:
        scope = work.tenant(tenant_id)
        if await scope.users().get(user_id) is None:
            return False
        await scope.notifications().set_user_choices(user_id, choices)
        await work.commit()
    return True
