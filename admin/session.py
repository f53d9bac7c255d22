"""The console's session: an operator access token in its own HttpOnly cookie.

Operator tokens have no refresh token, so the cookie slides: a request in the second
half of the token's life gets a fresh one. An idle console signs out after
``STINT_ACCESS_TOKEN_MINUTES``.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from plugins.bootstrap import OPERATOR_AUDIENCE, Stint, TokenError
from web.auth import OperatorPrincipal, bearer_token
from web.pages.session import queue_cookie
from web.proxies import secure_cookies

__all__ = ["OPERATOR_COOKIE", "operator_cookie", "operator_principal", "signed_out_cookie"]

OPERATOR_COOKIE = "stint_operator"


def _cookie(stint: Stint, value: str, max_age: int) -> Cookie:
    # Path /admin: the tenant pages never even receive the operator's cookie.
    return Cookie(
        key=OPERATOR_COOKIE,
        value=value,
        path="/admin",
        httponly=True,
        samesite="strict",
        max_age=max_age,
        secure=secure_cookies(stint),
    )


def operator_cookie(stint: Stint, operator_id: str) -> Cookie:
    token, _ = stint.tokens.issue(
        subject=operator_id, audience=OPERATOR_AUDIENCE, tenant_id=None, now=stint.clock.now()
    )
    return _cookie(stint, token, int(stint.tokens.access_lifetime.total_seconds()))


def signed_out_cookie(stint: Stint) -> Cookie:
    return _cookie(stint, "", 0)


async def operator_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> OperatorPrincipal | None:
    stint: Stint = connection.app.state.stint
    from_cookie = bearer_token(connection) is None
    token = bearer_token(connection) or connection.cookies.get(OPERATOR_COOKIE)
    if not token:
        return None
    now = stint.clock.now()
    try:
        claims = stint.tokens.verify(token, audience=OPERATOR_AUDIENCE, now=now)
    except TokenError:
        return None
    async with stint.uow() as work:
        operator = await work.directory.operator_by_id(claims.subject)
    if operator is None:
        return None
    if from_cookie and claims.expires_at - now < stint.tokens.access_lifetime / 2:
        queue_cookie(connection, operator_cookie(stint, operator.id))
    return OperatorPrincipal(operator=operator, claims=claims)
