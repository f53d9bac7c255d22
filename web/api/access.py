"""``GET /api/v1/me/access``: the access decision for the Time tab, and the trial banner."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.access import check_access

from ..access import requires_scope
from ..auth import TenantPrincipal
from ..deps import provide_stint

__all__ = ["AccessController"]


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
        stint = provide_stint(request.app.state)
        principal = request.user
        outcome = await check_access(
            stint.uow,
            stint.clock,
            tenant=principal.tenant,
            user=principal.user,
            action=Action.USE_TIME_TAB,
            grace_days=stint.settings.grace_days,
            clock_tolerance=stint.settings.clock_tolerance,
            cache=principal.cache or stint.access_cache,
        )
        decision = outcome.decision
        return AccessOut(
            allowed=decision.allowed,
            reason=decision.reason.value if decision.reason else None,
            message=decision.message,
            hidden=decision.hidden,
            licensed=outcome.licensed,
            banner=BannerOut(visible=outcome.banner.visible, days_left=outcome.banner.days_left),
        )
