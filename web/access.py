"""The one guard: every tenant route names the action it performs, and this asks the
access decision (``core.services.access``) whether the caller may do it now.

A refusal becomes problem+json through ``web/problems.py``: 402 for payment reasons,
403 for the others, 404 where the Time tab must not exist (role None in the cloud).
The tenant's second-factor requirement is enforced here too, once for every route.

Token scopes (``core.identity.scopes``) are part of the same guard: every authenticated API
route declares the one scope it needs — ``requires(action, scope)``, or ``requires_scope``
on a route that reports the decision rather than enforcing it, or ``opt={SCOPE_OPT: …}`` on
a route, controller or router — and a token without it gets 403 ``insufficient_scope``
with RFC 6750's ``WWW-Authenticate: Bearer error="insufficient_scope", scope="…"``. Routes
under ``/api/odata/`` need ``reporting:read`` without declaring it (``PREFIX_SCOPES``), as
long as they are guarded by ``requires``. A route that declares nothing needs ``admin``
(closed by default); ``tests/integration/test_scopes.py`` walks the app and fails on any.
A scope only narrows: the role is asked next, as for any caller.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from core.identity.scopes import Scope, grants
from core.licensing.access import Action
from core.services.access import AccessOutcome, ensure_access

from .auth import TenantPrincipal
from .second_factor import refuse_user_without_factor

__all__ = [
    "ACCESS_OPT",
    "PREFIX_SCOPES",
    "SCOPE_OPT",
    "InsufficientScope",
    "access_outcome",
    "declared_scope",
    "refuse_insufficient_scope",
    "requires",
    "requires_scope",
]

#: Route ``opt`` key holding the action a route performs (the isolation test reads it).
ACCESS_OPT = "stint_action"
#: Route ``opt`` key (and guard attribute) holding the scope a token needs for the route.
SCOPE_OPT = "stint_scope"
#: Scopes of whole path prefixes, for routes mounted without declaring one themselves.
PREFIX_SCOPES: tuple[tuple[str, Scope], ...] = (("/api/odata/", Scope.REPORTING_READ),)
#: What an undeclared route needs: the most powerful scope, so forgetting one fails closed.
_UNDECLARED = Scope.ADMIN


class InsufficientScope(PermissionDeniedException):
    """403 ``insufficient_scope`` (RFC 6750 §3.1), naming the scope the route needs."""

    code = "insufficient_scope"

    def __init__(self, needed: Scope) -> None:
        super().__init__(
            detail=f"This token's scopes do not include {needed.value!r}, which this request needs.",
            headers={"WWW-Authenticate":
                     f'Bearer realm="stint", error="insufficient_scope", scope="{needed.value}"'},
        )


def declared_scope(handler: BaseRouteHandler, path: str, guard_scope: Scope | None = None) -> Scope | None:
    """The scope a route declares: its guard's, its ``opt``'s, its path prefix's; None: none."""
    if guard_scope is not None:
        return guard_scope
    for guard in handler.resolve_guards():
        found = getattr(guard, SCOPE_OPT, None)
        if found is not None:
            return Scope(found)
    if handler.opt.get(SCOPE_OPT):
        return Scope(handler.opt[SCOPE_OPT])
    for prefix, scope in PREFIX_SCOPES:
        if path.startswith(prefix):
            return scope
    return None


def refuse_insufficient_scope(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler, declared: Scope | None = None
) -> None:
    """Refuse a token whose scopes lack what this route needs; unrestricted callers pass."""
    principal = connection.user
    held = getattr(principal, "scopes", None)
    if held is None:
        return
    needed = declared_scope(handler, connection.scope.get("path", ""), declared) or _UNDECLARED
    if not grants(held, needed):
        raise InsufficientScope(needed)


def requires_scope(scope: Scope) -> Guard:
    """A guard for an authenticated route that performs no action of the access decision
    (it reports one, say) but still needs ``scope`` of a token."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if connection.scope.get("method") != "OPTIONS":
            refuse_insufficient_scope(connection, handler, scope)

    guard.__name__ = f"requires_scope_{scope.value.replace(':', '_')}"
    guard.__qualname__ = guard.__name__
    setattr(guard, SCOPE_OPT, scope)
    return guard


def requires(action: Action, scope: Scope | None = None) -> Guard:
    """A guard for routes that perform ``action``; a token needs ``scope`` for them.

    ``scope`` None: the route's ``opt`` or path prefix names it (see the module's docstring).
    """

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if connection.scope.get("method") == "OPTIONS":
            # Litestar's own OPTIONS answer (CORS preflight, "Allow") is not authenticated and
            # performs nothing; a guard set on a whole controller must not turn it into a 500.
            return
        # The token first: what it may not be used for is refused whatever the role says.
        refuse_insufficient_scope(connection, handler, scope)
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
    if scope is not None:
        setattr(guard, SCOPE_OPT, scope)
    return guard


def access_outcome(connection: ASGIConnection[Any, Any, Any, Any]) -> AccessOutcome | None:
    """What the guard decided for this request (None on routes without a guard)."""
    return connection.scope.get("state", {}).get("access")
