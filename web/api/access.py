"""``GET /api/v1/me/access``: the access decision for the Time tab, and the trial banner."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.types import HTTPScope, Send

from core.identity.scopes import Scope, grants
from core.licensing.access import Action
from core.origin import Origin, Source, acting
from core.services.access import AccessOutcome, check_access

from ..access import requires_scope
from ..auth import TenantPrincipal, authenticate_lean
from ..deps import provide_stint
from ..lean import answer_json, plain

__all__ = ["AccessController", "access_lean"]

#: The route's full path, as Litestar's routing names it (``/api/v1`` is the tenant API's).
PATH = "/api/v1/me/access"
#: ``scope["state"]`` key: the decision's exception, when the lean path (below) met one and
#: fell through; the Litestar handler raises it, so it is answered as it would have been.
_FAILED = "stint_access_failed"


class BannerOut(msgspec.Struct):
    visible: bool
    days_left: int | None


class AccessOut(msgspec.Struct):
    allowed: bool
    reason: str | None
    message: str | None
    hidden: bool
    licensed: bool
    banner: BannerOut


class AccessController(Controller):
    path = "/me/access"
    tags = ("me",)

    @get("/", summary="May I use the Time tab now? (and the trial banner)",
         guards=[requires_scope(Scope.TRACKING)])
    async def access(self, request: Request[TenantPrincipal, Any, Any]) -> AccessOut:
        # This route reports the decision instead of enforcing it, so its guard asks only for
        # the token's scope. The adapters straight from the app's state, not through the
        # ``stint`` dependency: the route is called on every page of the Time tab, and
        # resolving a dependency costs as much as the rest of its handler (issue #23).
        failed = request.scope["state"].pop(_FAILED, None)
        if failed is not None:
            raise failed
        return _answer(await _decide(request.app.state, request.user))


async def _decide(state: Any, principal: TenantPrincipal) -> AccessOutcome:
    stint = provide_stint(state)
    return await check_access(
        stint.uow,
        stint.clock,
        tenant=principal.tenant,
        user=principal.user,
        action=Action.USE_TIME_TAB,
        grace_days=stint.settings.grace_days,
        clock_tolerance=stint.settings.clock_tolerance,
        cache=principal.cache or stint.access_cache,
    )


def _answer(outcome: AccessOutcome) -> AccessOut:
    decision = outcome.decision
    return AccessOut(
        allowed=decision.allowed,
        reason=decision.reason.value if decision.reason else None,
        message=decision.message,
        hidden=decision.hidden,
        licensed=outcome.licensed,
        banner=BannerOut(visible=outcome.banner.visible, days_left=outcome.banner.days_left),
    )


_API = Origin(Source.API)
_encode = msgspec.json.Encoder().encode


async def access_lean(scope: HTTPScope, send: Send) -> bool:
    """``GET /api/v1/me/access``'s plain happy path at the edge (``web/lean.py``): the same
    authentication, the guard's scope check and the decision as the route above, and its
    body; anything else (no or a refused token, a token without the scope, an error) falls
    through to the route, with what was done so far handed on."""
    if not plain(scope):
        return False
    with acting(_API):  # as TenantAuth does for the tenant API
        principal = await authenticate_lean(scope)
        if principal is None or not grants(principal.scopes, Scope.TRACKING):
            return False
        try:
            outcome = await _decide(scope["app"].state, principal)
        except Exception as exc:
            scope["state"][_FAILED] = exc
            return False
    scope["path_template"] = PATH  # what routing would have set (the latency metric's label)
    await answer_json(send, _encode(_answer(outcome)))
    return True
