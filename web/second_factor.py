"""Operators' second factor at the web edge: the guard that keeps an operator without one
to the enrolment routes, and the count of wrong codes (rate limited like sign-ins)."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from core.errors import AccessDenied
from core.tenancy import Operator
from plugins.bootstrap import Stint

from .security import account_key, refuse_if_limited

__all__ = [
    "ENROLMENT_OPT",
    "code_attempts_key",
    "operator_may_proceed",
    "refuse_if_too_many_codes",
    "require_operator_second_factor",
]

#: Route ``opt`` key: the route is part of enrolling, so an operator without a factor may use it.
ENROLMENT_OPT = "second_factor_enrolment"
_REQUIRED = (
    "Set up a second factor first: POST /api/v1/operator/me/second-factor, then confirm a code "
    "with POST /api/v1/operator/me/second-factor/confirm."
)


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
