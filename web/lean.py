"""Lean routes: the plain happy path of the hottest routes, answered at the edge in pure ASGI.

A lean route is the twin of a Litestar route that stays registered (routing, OpenAPI, every
error answer): for ``(method, path)`` in the app's table, the edge (``web/edge.py``) calls
the lean handler before Litestar. It does the same work as the Litestar route — the same
authentication (``web/auth.py``: token, caches, realm, revocation, rate-limit count), the
same guard and the same use case — and writes the same body and headers. Anything else it
leaves to Litestar by answering False without sending anything: another query or root path,
a cross-origin request (CORS headers are Litestar's), and every refusal or error.

What it already did is not done twice on the way through Litestar: the outcome of
authentication, a principal or the refusal it raised, is handed on in the scope's state
(:data:`AUTHENTICATED`), and ``TenantAuth`` takes it instead of authenticating again (one
rate-limit count per request, whichever path answers). So a refused token gets exactly the
401 problem+json Litestar makes of that same exception.

Why: ``GET /api/v1/me/access`` is asked on every page of the Time tab, and through
Litestar its per-route machinery (routing, guards copying the handler, response layering,
two levels of exception handling) cost more than the authentication and the decision
together (docs/benchmarks.md, issue #23).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar.types import HTTPScope, Send

__all__ = ["AUTHENTICATED", "JSON_HEADERS", "LeanHandler", "LeanRoutes", "answer_json", "plain"]

#: ``scope["state"]`` key: what a lean handler's authentication gave (a principal, or the
#: exception it raised) for ``TenantAuth`` when the request falls through to Litestar.
AUTHENTICATED = "stint_authenticated"

#: A lean handler: answers the request through ``send`` and returns True, or sends nothing
#: and returns False (Litestar answers).
LeanHandler = Callable[[HTTPScope, Send], Awaitable[bool]]
#: The table: (method, path) → handler.
LeanRoutes = Mapping[tuple[str, str], LeanHandler]

#: What Litestar's JSON response starts with: its media type and the body's length follow.
JSON_HEADERS = (b"content-type", b"application/json")


def plain(scope: HTTPScope) -> bool:
    """Whether the request is one a lean handler may answer: no query, no root path, and not
    cross-origin (an ``Origin`` header: CORS, when configured, adds its headers in Litestar)."""
    if scope["query_string"] or scope.get("root_path"):
        return False
    return all(name != b"origin" for name, _ in scope["headers"])


async def answer_json(send: Send, body: bytes, status: int = 200) -> None:
    """The two messages Litestar sends for a JSON body (headers in its order)."""
    start: Any = {
        "type": "http.response.start",
        "status": status,
        "headers": [JSON_HEADERS, (b"content-length", str(len(body)).encode())],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
