"""Whose worklogs a caller of the API or the pages may see, and whether it is an
Administrator (who may import and batch-edit for others)."""

from __future__ import annotations

from typing import Any

from core.licensing.access import Action
from core.licensing.roles import Role
from core.services.access import ensure_access
from core.services.approvals import deciders

from ..auth import TenantPrincipal, TenantRequest

__all__ = ["ensure_may_see", "is_admin", "principal_may_see"]



def is_admin(principal: TenantPrincipal) -> bool:
    return principal.user.effective_role(principal.tenant.default_role) == Role.ADMINISTRATOR.value


async def ensure_may_see(request: TenantRequest, stint: Any, user_id: str) -> None:
    """Someone else's worklogs: global approval managers, the user's approvers, or roles
    that may see everyone's."""
    await principal_may_see(request.user, stint, user_id)


async def principal_may_see(principal: TenantPrincipal, stint: Any, user_id: str) -> None:
    """:func:`ensure_may_see` for a caller of the API or the pages."""
    if user_id == principal.user.id or principal.user.approval_manager:
        return
    if user_id in (await deciders(stint.uow, tenant=principal.tenant, actor=principal.user) or ()):
        return
    await ensure_access(
        stint.uow, stint.clock, tenant=principal.tenant, user=principal.user,
        action=Action.VIEW_ALL_WORKLOGS, grace_days=stint.settings.grace_days,
        clock_tolerance=stint.settings.clock_tolerance, cache=principal.cache or stint.access_cache,
    )
