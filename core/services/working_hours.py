"""Working hours (issue #19): a user reads and sets their own; Administrators read and set
anyone's in their tenant (the web guards who may). Changing someone else's is audited."""

from __future__ import annotations

from core.clock import Clock
from core.errors import UserNotFound
from core.tenancy import Tenant, User
from core.unit_of_work import UnitOfWorkFactory
from core.working_hours import DEFAULT_WORKING_HOURS, WorkingHours

from .audit import actor_of

__all__ = ["set_working_hours", "working_hours"]


async def working_hours(uow: UnitOfWorkFactory, *, tenant: Tenant, user_id: str) -> WorkingHours:
    """The user's working hours (the default when never set); 404 for a user not in ``tenant``."""
    async with uow() as work:
        scope = work.tenant(tenant.id)
        if await scope.users().get(user_id) is None:
            raise UserNotFound("no such user")
        return await scope.working_hours().get(user_id) or DEFAULT_WORKING_HOURS


async def set_working_hours(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, user_id: str, hours: WorkingHours,
    address: str | None = None,
) -> WorkingHours:
    """Store the user's working hours and days off (the whole list: what is sent is kept)."""
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        target = await scope.users().get(user_id)
        if target is None:
            raise UserNotFound("no such user")
        await scope.working_hours().save(user_id, hours)
        if user_id != actor.id:
            await scope.audit().record(
                actor_of(actor), "user.working_hours", target.email,
                {"weekly_minutes": hours.weekly_minutes, "days_off": len(hours.days_off)}, clock.now(),
                address=address,
            )
        await work.commit()
    return hours
