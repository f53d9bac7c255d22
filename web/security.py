"""Transport-level defences: security headers, CORS, rate limits.

- Every response (pages, API, errors) gets ``X-Content-Type-Options``, ``Referrer-Policy``
  and a Content-Security-Policy: everything from this origin only, scripts and styles
  from it or, on a page that made one, carrying the request's nonce (:func:`csp_nonce`; the
  templates have no inline script, their behaviour is ``/static/stint.js``), no plugins, no foreign
  ``<base>`` or form targets, and ``frame-ancestors`` from ``STINT_FRAME_ANCESTORS``
  (default ``'self'``: pages are embedded by the DevOps platform's extension frame only
  once its host is listed there); ``X-Frame-Options`` is sent only when it can say the
  same thing (``'self'`` → SAMEORIGIN, ``'none'`` → DENY). HSTS when ``STINT_BASE_URL``
  is https.
- ``Cache-Control: no-store`` on everything but ``/static/``: pages, the console and the
  API carry tenant data, tokens or CSRF tokens that no shared cache may keep.
- CORS is closed unless ``STINT_CORS_ORIGINS`` lists origins.
- Rate limits (fixed windows, Redis when configured): sign-in and token requests per
  client address, failed sign-ins per account, API requests per tenant. A refusal is
  429 problem+json with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from litestar.config.cors import CORSConfig
from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Scope

from plugins.bootstrap import Hit, RateLimiter
from plugins.settings import Settings

__all__ = [
    "SecurityHeaders",
    "account_key",
    "client_address",
    "cors_config",
    "csp_nonce",
    "limit_per_client",
    "limit_signups_per_client",
    "limit_tenant",
    "refuse_if_limited",
    "refuse_if_tenant_limited",
    "tenant_counter",
]

_WINDOW = 60


def cors_config(settings: Settings) -> CORSConfig | None:
    """None (no CORS headers at all: browsers refuse cross-origin calls) unless origins are set."""
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
        allow_credentials=False,
        expose_headers=["Idempotent-Replayed", "Location", "Retry-After", "X-Request-ID"],
        max_age=600,
    )


def _header_values(settings: Settings) -> list[tuple[bytes, bytes]]:
    ancestors = settings.frame_ancestors
    values = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
    ]
    if ancestors == "'self'":
        values.append((b"x-frame-options", b"SAMEORIGIN"))
    elif ancestors == "'none'":
        values.append((b"x-frame-options", b"DENY"))
    if settings.base_url.startswith("https://"):
        values.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return values


_NONCE = "csp_nonce"


def csp_nonce(scope: Scope) -> str:
    """This request's CSP nonce, made on first use: an inline ``<script>`` or ``<style>``
    runs only with ``nonce="…"`` set to it."""
    state = scope.setdefault("state", {})
    nonce = state.get(_NONCE)
    if nonce is None:
        nonce = state[_NONCE] = secrets.token_urlsafe(18)
    return str(nonce)


def _policy(settings: Settings, nonce: str | None) -> bytes:
    """The Content-Security-Policy; scripts and styles with ``nonce`` too, if one is given."""
    source = "'self'" if nonce is None else f"'self' 'nonce-{nonce}'"
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {source}",
            f"style-src {source}",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {settings.frame_ancestors}",
        ]
    ).encode()


_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
#: Static files (and Swagger UI's, from its package) may be cached; answers may not.
_CACHEABLE = ("/static/", "/docs/assets/")


class SecurityHeaders:
    """The headers above for every HTTP response, worked out once per settings.

    The edge layer (``web/edge.py``) calls :meth:`add` at each response's start. A response
    whose request made a nonce (:func:`csp_nonce`: a page with an inline script or style,
    such as ``/docs``) gets it joined into the policy's fixed parts; every other response
    gets the policy without nonces, made once: its scripts and styles come from this origin
    only, which is all a document without a nonce can use anyway (a nonce no element carries
    allows nothing), and no random value is made per response for nobody. A header the
    response set itself is left as it is.
    """

    __slots__ = ("fixed", "fixed_names", "plain_policy", "policy_parts", "settings", "with_hsts")

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.fixed = tuple(_header_values(settings))
        self.fixed_names = frozenset(name for name, _ in self.fixed)
        self.with_hsts = any(name == _HSTS[0] for name, _ in self.fixed)
        # The policy around its two nonces, cut once: the same text as _policy makes.
        self.policy_parts = _policy(settings, "\x00").split(b"\x00")
        self.plain_policy = (b"content-security-policy", _policy(settings, None))

    def policy(self, nonce: bytes) -> bytes:
        return nonce.join(self.policy_parts)

    def add(self, headers: list[tuple[bytes, bytes]], scope: Scope) -> None:
        """Append what ``headers`` (a response's, in place) lacks."""
        present = {name.lower() for name, _ in headers}
        if present.isdisjoint(self.fixed_names):
            headers.extend(self.fixed)
        else:
            headers.extend(h for h in self.fixed if h[0] not in present)
        if not self.with_hsts and scope.get("scheme") == "https" and _HSTS[0] not in present:
            # Reached over https (directly or through a trusted proxy) whatever STINT_BASE_URL says.
            headers.append(_HSTS)
        if b"content-security-policy" not in present:
            nonce = scope["state"].get(_NONCE)
            if nonce is None:
                headers.append(self.plain_policy)
            else:
                headers.append((b"content-security-policy", self.policy(nonce.encode())))
        if b"cache-control" not in present and not scope.get("path", "").startswith(_CACHEABLE):
            headers.append((b"cache-control", b"no-store"))


def refuse_if_limited(hit: Hit, what: str) -> None:
    if not hit.allowed:
        raise TooManyRequestsException(
            detail=f"Too many {what}; try again in {hit.retry_after} s.",
            headers={"Retry-After": str(hit.retry_after)},
        )


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The address a request came from: rate limits count it and the audit trail records it.

    The one place that reads it: behind trusted proxies (``STINT_TRUSTED_PROXIES``) it is
    the forwarded client's address, which ``web/proxies.py`` put in the scope.
    """
    client = connection.client
    return client.host if client else "unknown"


async def limit_per_client(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard for sign-in and token routes: requests per client address per minute."""
    stint = connection.app.state.stint
    key = f"client:{client_address(connection)}"
    hit = await stint.limiter.hit(key, stint.settings.rate_limit_client, _WINDOW)
    refuse_if_limited(hit, "sign-in or token requests from this address")


async def limit_signups_per_client(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard for signup: new tenants per client address per minute (``STINT_RATE_LIMIT_CLIENT``),
    counted apart from sign-ins so that signing up does not spend the sign-in allowance."""
    stint = connection.app.state.stint
    key = f"signup:{client_address(connection)}"
    hit = await stint.limiter.hit(key, stint.settings.rate_limit_client, _WINDOW)
    refuse_if_limited(hit, "signups from this address")


def tenant_counter(settings: Settings, tenant_id: str) -> tuple[str, int, int]:
    """The per-tenant API count: (key, limit, window in seconds)."""
    return f"api:{tenant_id}", settings.rate_limit_api, _WINDOW


def refuse_if_tenant_limited(hit: Hit) -> None:
    refuse_if_limited(hit, "requests for this tenant")


async def limit_tenant(limiter: RateLimiter, settings: Settings, tenant_id: str) -> None:
    """One tenant's API requests per minute; each tenant has its own window."""
    hit = await limiter.hit(*tenant_counter(settings, tenant_id))
    refuse_if_tenant_limited(hit)


def account_key(*parts: str) -> str:
    """A fixed-length counter key for an account (no e-mail addresses in Redis keys)."""
    text = "\x00".join(p.strip().lower() for p in parts)
    return "login:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
