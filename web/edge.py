"""The edge of every HTTP request: one pure-ASGI layer around the whole app.

It wraps Litestar's own handler (routing, the app's exception handling, CORS), so it sees
every answer: a route's, a 404 for no route, an error's. Per request it gives the request
its id (``X-Request-ID`` kept from a well-formed caller, else new; ``request_id_var`` for the
log), and at the response's start it adds the ``X-Request-ID`` header and the security
headers (``web/security.py``), and hands the request log line and the latency for
``/metrics`` to ``web/request_lines.py`` (written at once, or once per loop turn in
``stint serve``). A route in its lean table (``web/lean.py``) may answer its plain happy
path here, before Litestar, with the same headers and log line.

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

from .lean import LeanRoutes
from .logs import request_id_of, request_id_var, tenant_var
from .request_lines import response_started
from .security import SecurityHeaders

__all__ = ["EdgeMiddleware", "install_edge"]


class EdgeMiddleware:
    __slots__ = ("app", "lean", "security")

    def __init__(self, app: ASGIApp, settings: Settings, lean: LeanRoutes | None = None) -> None:
        self.app = app
        self.security = SecurityHeaders(settings)
        #: Routes whose plain happy path is answered here, before Litestar (``web/lean.py``).
        self.lean = dict(lean or {})

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
                response_started(http["method"], http["path"], message["status"],
                                 time.perf_counter() - started, http.get("path_template") or "unmatched")
            await send(message)

        lean = self.lean.get((http["method"], http["path"])) if self.lean else None
        token = request_id_var.set(rid)
        tenant_token = tenant_var.set("")
        try:
            if lean is None or not await lean(http, edge_send):
                await self.app(scope, receive, edge_send)
        finally:
            tenant_var.reset(tenant_token)
            request_id_var.reset(token)


def install_edge(app: Litestar, settings: Settings, lean: LeanRoutes | None = None) -> None:
    """Put the edge layer around ``app``'s ASGI handler (built once, in Litestar's __init__),
    with ``lean`` routes answered before it (``web/lean.py``)."""
    app.asgi_handler = EdgeMiddleware(app.asgi_handler, settings, lean)
