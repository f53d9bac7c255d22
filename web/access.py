"""The one guard: every tenant route names the action it performs, and this asks the
access decision (``core.services.access``) whether the caller may do it now.

A refusal becomes problem+json through ``web/problems.py``: 402 for payment reasons,
403 for the others, 404 where the Time tab must not exist (role None in the cloud).
The tenant's second-factor requirement is enforced here too, once for every route.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from core.licensing.access import Action
from core.services.access import AccessOutcome, ensure_access

from .auth import TenantPrincipal
from .second_factor import refuse_user_without_factor

__all__ = ["ACCESS_OPT", "access_outcome", "requires"]

#: Route ``opt`` key holding the action a route performs (the isolation test reads it).
ACCESS_OPT = "stint_action"


def requires(action: Action) -> Guard:
    """A guard for routes that perform ``action``."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if connection.scope.get("method") == "OPTIONS":
            # Litestar's own OPTIONS answer (CORS preflight, "Allow") is not authenticated and
            # performs nothing; a guard set on a whole controller must not turn it into a 500.
            return
        principal: TenantPrincipal = connection.user
        # Before the decision: a tenant that requires a second factor lets a user without
        # one do nothing else until they set it up.
        refuse_user_without_factor(principal, handler)
        stint = connection.app.state.stint
        outcome = await ensure_access(
            stint.uow,
            stint.clock,
            tenant=principal.tenant,
            user=principal.user,
            action=action,
            grace_days=stint.settings.grace_days,
            clock_tolerance=stint.settings.clock_tolerance,
            cache=principal.cache or stint.access_cache,
        )
        connection.scope.setdefault("state", {})["access"] = outcome

    guard.__name__ = f"requires_{action.value}"
    guard.__qualname__ = guard.__name__
    setattr(guard, ACCESS_OPT, action)
    return guard


def access_outcome(connection: ASGIConnection[Any, Any, Any, Any]) -> AccessOutcome | None:
    """What the guard decided for this request (None on routes without a guard)."""
    return connection.scope.get("state", {}).get("access")
