"""A tenant's security settings (issue #15): whether every user must have a second factor.

Administrators turn the requirement on; from then on a user without a factor can only set
one up (the web layer's one guard enforces it). The administrator turning it on must have a
factor already, so that the change cannot lock out the very person making it.
"""

from __future__ import annotations

from dataclasses import replace

from core.clock import Clock
from core.errors import Conflict, NotFound
from core.tenancy import Tenant, User
from core.unit_of_work import UnitOfWorkFactory

from .audit import actor_of

__all__ = ["EnrolFirst", "require_second_factor"]


class EnrolFirst(Conflict):
    """Requiring a second factor of everyone needs one set up by whoever requires it."""

    code = "enrol_first"


async def require_second_factor(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, required: bool,
    address: str | None = None,
) -> Tenant:
    """Turn the tenant's requirement on or off; the tenant as saved."""
    async with uow(write=True) as work:
        # Read again: the caller's rows may be a cached copy from before a change.
        current = await work.directory.tenant_by_id(tenant.id)
        me = await work.tenant(tenant.id).users().get(actor.id)
        if current is None or me is None:
            raise NotFound("no such tenant or user")
        if required and not me.second_factor:
            raise EnrolFirst(
                "set up your own second factor first (Security settings, or POST "
                "/api/v1/me/second-factor), so that requiring one cannot lock you out"
            )
        if current.require_second_factor == required:
            return current
        saved = replace(current, require_second_factor=required)
        await work.directory.save_tenant(saved)
        await work.directory.audit(
            tenant.id, actor_of(actor), "settings.second_factor_required", tenant.slug,
            {"required": required}, clock.now(), address=address,
        )
        await work.commit()
    return saved
