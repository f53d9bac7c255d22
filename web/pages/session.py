"""The page session: the API's own access/refresh token pair, kept in HttpOnly cookies.

A page request is authenticated exactly like an API request — the same JWT checks,
the same refresh-token rotation with reuse detection, the same user lookup — so a
page can never grant what the API would refuse. ``Authorization: Bearer`` (an access
token or a PAT, as a DevOps extension frame sends) is accepted first; otherwise the
access cookie; when that has expired the refresh cookie is traded for a new pair
and the new cookies ride on the response.

Two requests (two tabs polling the timer) may find the same expired access token at
once. Rotating the same refresh token twice would look like theft and revoke the
sign-in, so a successor is remembered for a short while and handed to the second
request too. That memory is per process: with several web processes a tab may be
signed out once in a blue moon, which is the safe side.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import InvalidCredentials
from core.services.tokens import REFRESH_LIFETIME, issue_refresh_token, rotate_refresh_token
from plugins.bootstrap import TENANT_AUDIENCE, Stint

from ..auth import TenantPrincipal, authenticate_tenant_token, bearer_token
from ..deps import provide_stint
from ..proxies import secure_cookies
from ..security import client_address, limit_tenant
from .locale import read_as

__all__ = [
    "ACCESS_COOKIE",
    "REFRESH_COOKIE",
    "SessionCookieMiddleware",
    "page_principal",
    "queue_cookie",
    "sign_in_cookies",
    "sign_out_cookies",
]

ACCESS_COOKIE = "stint_access"
REFRESH_COOKIE = "stint_refresh"
_STATE_KEY = "stint_page_cookies"
#: How long a rotated pair is handed to a concurrent request that presents the old refresh token.
_ROTATION_GRACE_S = 30.0


@dataclass(frozen=True, slots=True)
class _Rotated:
    at: float
    access: str
    refresh: str


_recent: dict[str, _Rotated] = {}


def _stint(connection: ASGIConnection[Any, Any, Any, Any]) -> Stint:
    return provide_stint(connection.app.state)


def _cookie(stint: Stint, key: str, value: str, max_age: int | None) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        path="/",
        httponly=True,
        samesite="lax",
        max_age=max_age,
        secure=secure_cookies(stint),
    )


def queue_cookie(connection: ASGIConnection[Any, Any, Any, Any], cookie: Cookie) -> None:
    """Have :class:`SessionCookieMiddleware` set ``cookie`` on whatever response this request gets."""
    connection.scope.setdefault("state", {}).setdefault(_STATE_KEY, []).append(cookie)


def _pair_cookies(stint: Stint, access: str, refresh: str) -> list[Cookie]:
    return [
        _cookie(stint, ACCESS_COOKIE, access, int(stint.tokens.access_lifetime.total_seconds())),
        _cookie(stint, REFRESH_COOKIE, refresh, int(REFRESH_LIFETIME.total_seconds())),
    ]


async def sign_in_cookies(stint: Stint, tenant_id: str, user_id: str) -> list[Cookie]:
    """A fresh sign-in: a new refresh-token family and its first access token."""
    grant = await issue_refresh_token(stint.uow, stint.clock, tenant_id=tenant_id, user_id=user_id)
    access, _ = stint.tokens.issue(
        subject=user_id, audience=TENANT_AUDIENCE, tenant_id=tenant_id, now=stint.clock.now(),
        session=grant.family_id,
    )
    return _pair_cookies(stint, access, grant.refresh_token)


def sign_out_cookies(stint: Stint) -> list[Cookie]:
    return [_cookie(stint, name, "", 0) for name in (ACCESS_COOKIE, REFRESH_COOKIE)]


async def _refreshed(stint: Stint, refresh: str, address: str) -> tuple[str, str] | None:
    key = hashlib.sha256(refresh.encode()).hexdigest()
    now = time.monotonic()
    for old in [k for k, v in _recent.items() if now - v.at > _ROTATION_GRACE_S]:
        _recent.pop(old, None)
    if key in _recent:
        hit = _recent[key]
        return hit.access, hit.refresh
    try:
        grant = await rotate_refresh_token(stint.uow, stint.clock, refresh, address=address)
    except InvalidCredentials:
        return None
    access, _ = stint.tokens.issue(
        subject=grant.user_id, audience=TENANT_AUDIENCE, tenant_id=grant.tenant_id, now=stint.clock.now(),
        session=grant.family_id,
    )
    _recent[key] = _Rotated(now, access, grant.refresh_token)
    return access, grant.refresh_token


async def page_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> TenantPrincipal | None:
    """Who is asking for a page, or None (not signed in, or the sign-in has ended)."""
    stint = _stint(connection)
    token = bearer_token(connection)
    principal: TenantPrincipal | None = None
    if token is not None:
        # An explicit bad token is an error, not "signed out": the frame must learn it.
        principal = await authenticate_tenant_token(stint, token)
    else:
        access = connection.cookies.get(ACCESS_COOKIE)
        if access:
            try:
                principal = await authenticate_tenant_token(stint, access)
            except NotAuthorizedException:
                principal = None
        refresh = connection.cookies.get(REFRESH_COOKIE)
        if principal is None and refresh:
            pair = await _refreshed(stint, refresh, client_address(connection))
            if pair is None:
                for cookie in sign_out_cookies(stint):
                    queue_cookie(connection, cookie)
                return None
            try:
                principal = await authenticate_tenant_token(stint, pair[0])
            except NotAuthorizedException:
                return None
            for cookie in _pair_cookies(stint, *pair):
                queue_cookie(connection, cookie)
    if principal is not None:
        await limit_tenant(stint.limiter, stint.settings, principal.tenant.id)
        user = principal.user
        read_as(user.locale, user.time_format, user.week_starts_on)
    return principal


class SessionCookieMiddleware:
    """Adds the cookies queued with :func:`queue_cookie` to the response, whatever it is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                queued: list[Cookie] = scope.get("state", {}).get(_STATE_KEY, [])
                if queued:
                    headers = list(message.get("headers", []))
                    for cookie in queued:
                        headers.append((b"set-cookie", cookie.to_header(header="").encode("latin-1")))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cookies)
