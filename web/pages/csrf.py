"""CSRF protection for pages and the operator console (not for /api/* or /webhooks/*).

Litestar's double-submit check: a signed token in the ``csrftoken`` cookie must come
back in the ``_csrf_token`` form field (plain forms) or the ``X-CSRFToken`` header
(htmx, from ``hx-headers`` on ``<body>``). The middleware sits on the page and console
routers only, so the bearer API and the Stripe webhook never see it.

A request carrying ``Authorization: Bearer`` is let through: a browser never attaches
that header on its own, so a forged cross-site request cannot carry it — the same
reason the API needs no CSRF token.

The token is signed with the current secret key and accepted when any key of the ring
signed it, so rotating the keys breaks no open form. A cookie no key verifies any more (its
key was removed) is dropped on the next page load and a fresh one set: otherwise the
browser would keep presenting it and every form would fail until the browser closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from secrets import compare_digest
from typing import Any

from litestar.config.csrf import CSRFConfig
from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, CSRFMiddleware, generate_csrf_hash
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from plugins.settings import Settings

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "csrf_middleware"]

CSRF_FIELD = "_csrf_token"
CSRF_HEADER = "X-CSRFToken"


class PageCSRFMiddleware(CSRFMiddleware):
    def __init__(self, app: ASGIApp, config: CSRFConfig) -> None:
        super().__init__(app, config)
        #: The app's key ring (``Stint.keys``), found on the first request.
        self._keys: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            for name, value in scope.get("headers", []):
                if name == b"authorization" and value[:7].lower() == b"bearer ":
                    await self.app(scope, receive, send)
                    return
            if self._keys is None:
                self._keys = scope["litestar_app"].state.stint.keys
            if scope["method"] in self.config.safe_methods:
                self._forget_unverifiable_cookie(scope)
        await super().__call__(scope, receive, send)

    def _secrets(self) -> Iterable[str]:
        if self._keys is None:
            return (self.config.secret,)
        return (key.secret for key in self._keys.all)

    def _decode_csrf_token(self, token: str) -> str | None:
        """The token's random part if any key of the ring signed it, else None."""
        if len(token) < CSRF_SECRET_LENGTH + 1:
            return None
        random_part, mac = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
        for secret in self._secrets():
            if compare_digest(mac, generate_csrf_hash(token=random_part, secret=secret)):
                return random_part
        return None

    def _forget_unverifiable_cookie(self, scope: Scope) -> None:
        """Hide a CSRF cookie no key verifies from this request, so that a fresh one is set."""
        request = scope["litestar_app"].request_class(scope=scope)
        cookies = request.cookies
        found = cookies.get(self.config.cookie_name)
        if found is not None and self._decode_csrf_token(found) is None:
            ScopeState.from_scope(scope).cookies = {
                name: value for name, value in cookies.items() if name != self.config.cookie_name
            }


def csrf_middleware(settings: Settings) -> DefineMiddleware:
    config = CSRFConfig(
        secret=settings.secret_key,
        cookie_secure=settings.base_url.startswith("https://"),
        cookie_httponly=True,
        cookie_samesite="lax",
        header_name=CSRF_HEADER.lower(),
    )
    return DefineMiddleware(PageCSRFMiddleware, config=config)
