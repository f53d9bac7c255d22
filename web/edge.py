"""The edge of every HTTP request: one pure-ASGI layer around the whole app.

It wraps Litestar's own handler (routing, the app's exception handling, CORS), so it sees
every answer: a route's, a 404 for no route, an error's. Per request it gives the request
its id (``X-Request-ID`` kept from a well-formed caller, else new; ``request_id_var`` for the
log), and at the response's start it adds the ``X-Request-ID`` header and the security
headers (``web/security.py``), writes the request log line (``web/logs.py``) and observes the
latency for ``/metrics`` (``web/metrics.py``).

Why one layer: this was a route-level middleware plus three ``before_send`` hooks, each an
awaited call per ASGI message, each building its header list again; on a trivial route
that stack cost more than the framework itself (docs/benchmarks.md, issue #23). Here the
headers are worked out once per settings and the send wrapper does one check per message.
"""

from __future__ import annotations

import time
from typing import Any, cast

from litestar import Litestar
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from plugins.settings import Settings

from .logs import log_request, request_id_of, request_id_var, tenant_var
from .metrics import observe_response
from .security import SecurityHeaders

__all__ = ["EdgeMiddleware", "install_edge"]


class EdgeMiddleware:
    __slots__ = ("app", "security")

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.security = SecurityHeaders(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]  # ScopeType is a str enum
            await self.app(scope, receive, send)
            return
        http = cast(HTTPScope, scope)
        rid = request_id_of(http["headers"])
        started = time.perf_counter()
        state: dict[str, Any] = http.setdefault("state", {})
        state["request_id"] = rid
        state["started"] = started
        security = self.security
        header = (b"x-request-id", rid.encode())

        async def edge_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), header]
                security.add(headers, http)
                message["headers"] = headers
                status = message["status"]
                seconds = time.perf_counter() - started
                log_request(http["method"], http["path"], status, round(seconds * 1000, 2))
                observe_response(http, status, seconds)
            await send(message)

        token = request_id_var.set(rid)
        tenant_token = tenant_var.set("")
        try:
            await self.app(scope, receive, edge_send)
        finally:
            tenant_var.reset(tenant_token)
            request_id_var.reset(token)


def install_edge(app: Litestar, settings: Settings) -> None:
    """Put the edge layer around ``app``'s ASGI handler (built once, in Litestar's __init__)."""
    app.asgi_handler = EdgeMiddleware(app.asgi_handler, settings)
