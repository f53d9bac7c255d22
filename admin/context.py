"""What every console handler starts from: the app's ``Stint``, the signed-in operator (or
the one still enrolling a second factor), the page's template context, and the
URL-encoded body its forms post."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.params import Body

from plugins.bootstrap import Stint
from web.auth import OperatorPrincipal
from web.deps import provide_stint
from web.second_factor import operator_may_proceed

from .errors import ConsoleSignInRequired, SecondFactorEnrolmentRequired
from .session import operator_principal

__all__: list[str] = []


_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)


def _stint(request: Request[Any, Any, Any]) -> Stint:
    return provide_stint(request.app.state)


async def _operator(request: Request[Any, Any, Any]) -> OperatorPrincipal:
    principal = await operator_principal(request)
    if principal is None:
        raise ConsoleSignInRequired
    if not operator_may_proceed(_stint(request), principal.operator):
        raise SecondFactorEnrolmentRequired
    return principal


async def _enrolling_operator(request: Request[Any, Any, Any]) -> OperatorPrincipal:
    """The signed-in operator, with or without a second factor (the enrolment pages)."""
    principal = await operator_principal(request)
    if principal is None:
        raise ConsoleSignInRequired
    return principal


def _ctx(principal: OperatorPrincipal, section: str, **extra: Any) -> dict[str, Any]:
    return {"operator": principal.operator, "section": section, "nav": {}, **extra}
