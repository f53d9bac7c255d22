"""CSRF protection for pages and the operator console (not for /api/* or /webhooks/*).

Litestar's double-submit check: a signed token in the ``csrftoken`` cookie must come
back in the ``_csrf_token`` form field (plain forms) or the ``X-CSRFToken`` header
(htmx, from ``hx-headers`` on ``<body>``). The middleware sits on the page and console
routers only, so the bearer API and the Stripe webhook never see it.

A request carrying ``Authorization: Bearer`` is let through: a browser never attaches
that header on its own, so a forged cross-site request cannot carry it — the same
reason the API needs no CSRF token.
"""

from __future__ import annotations

from litestar.config.csrf import CSRFConfig
from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import Receive, Scope, Send

from plugins.settings import Settings

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "csrf_middleware"]

CSRF_FIELD = "_csrf_token"
CSRF_HEADER = "X-CSRFToken"


class PageCSRFMiddleware(CSRFMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            for name, value in scope.get("headers", []):
                if name == b"authorization" and value[:7].lower() == b"bearer ":
                    await self.app(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)


def csrf_middleware(settings: Settings) -> DefineMiddleware:
    config = CSRFConfig(
        secret=settings.secret_key,
        cookie_secure=settings.base_url.startswith("https://"),
        cookie_httponly=True,
        cookie_samesite="lax",
        header_name=CSRF_HEADER.lower(),
    )
    return DefineMiddleware(PageCSRFMiddleware, config=config)
