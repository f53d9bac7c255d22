"""The second factor at the web edge: what keeps an operator, or a user whose tenant requires
a factor, to the enrolment routes until they have one; and the count of wrong codes (rate
limited like sign-ins)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from core.errors import AccessDenied
from core.services.second_factor import InvalidCode
from core.tenancy import Operator
from plugins.bootstrap import Stint

from .auth import TenantPrincipal
from .security import account_key, refuse_if_limited

__all__ = [
    "ENROLMENT_OPT",
    "USER_ENROLMENT_PAGE",
    "code_attempts_key",
    "counting_wrong_codes",
    "operator_may_proceed",
    "refuse_if_too_many_codes",
    "refuse_user_without_factor",
    "require_operator_second_factor",
    "user_may_proceed",
]

#: Route ``opt`` key: the route is part of enrolling, so an operator or a user without a factor
#: may use it where one is required.
ENROLMENT_OPT = "second_factor_enrolment"
_REQUIRED = (
    "Set up a second factor first: POST /api/v1/operator/me/second-factor, then confirm a code "
    "with POST /api/v1/operator/me/second-factor/confirm."
)

#: Where the pages send a user whose tenant requires a factor they have not set up.
USER_ENROLMENT_PAGE = "/settings/security"
_USER_REQUIRED = (
    "Your organisation requires a second factor: set one up first (POST /api/v1/me/second-factor, "
    "then POST /api/v1/me/second-factor/confirm with a code), or on the Security settings page."
)


def user_may_proceed(principal: TenantPrincipal) -> bool:
    """Whether the caller may go past enrolment: they have a factor, their tenant does not
    require one, or they came with a personal access token (a second credential already:
    it can only be created after signing in, and is shown once)."""
    return (
        principal.user.second_factor
        or not principal.tenant.require_second_factor
        or principal.personal_token_id is not None
    )


def refuse_user_without_factor(principal: TenantPrincipal, handler: BaseRouteHandler) -> None:
    """403 ``second_factor_required`` on every tenant route but the caller's own enrolment."""
    if not handler.opt.get(ENROLMENT_OPT) and not user_may_proceed(principal):
        raise AccessDenied("second_factor_required", _USER_REQUIRED)


def operator_may_proceed(stint: Stint, operator: Operator) -> bool:
    """Whether ``operator`` may go past enrolment (has a factor, or none is required)."""
    return operator.second_factor or not stint.settings.operator_2fa_required


async def require_operator_second_factor(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard of the operator API: 403 ``second_factor_required`` everywhere but enrolment."""
    if handler.opt.get("exclude_from_auth") or handler.opt.get(ENROLMENT_OPT):
        return
    if connection.scope.get("method") == "OPTIONS":
        return
    stint: Stint = connection.app.state.stint
    if not operator_may_proceed(stint, connection.user.operator):
        raise AccessDenied("second_factor_required", _REQUIRED)


def code_attempts_key(owner_id: str) -> str:
    return account_key("second-factor", owner_id)


async def refuse_if_too_many_codes(stint: Stint, owner_id: str) -> None:
    """429 after as many wrong codes per minute as failed sign-ins are allowed."""
    limit = stint.settings.rate_limit_login
    refuse_if_limited(await stint.limiter.peek(code_attempts_key(owner_id), limit), "wrong codes")


@asynccontextmanager
async def counting_wrong_codes(stint: Stint, owner_id: str) -> AsyncIterator[None]:
    """Around a use of a code: 429 once too many were wrong, and a wrong one inside counts."""
    await refuse_if_too_many_codes(stint, owner_id)
    try:
        yield
    except InvalidCode:
        await stint.limiter.hit(code_attempts_key(owner_id), stint.settings.rate_limit_login)
        raise
