"""``Idempotency-Key`` on the tenant API: a pure-ASGI middleware inside authentication.

It sits on the ``/api/v1`` router after :class:`~web.auth.TenantAuth`, so it knows the
caller, and before the route's own exception handling, so it sees every answer the route
gives, errors included. For a POST, PUT, PATCH or DELETE carrying the header it reads the
body, claims the key (``core.services.idempotency``), runs the route with the answer held
back, keeps the answer when it is worth keeping (``core.idempotency.worth_keeping``) and
only then sends it: once a client can see an answer, a retry gets that same answer.

Not covered: routes without a signed-in caller (sign-in, refresh, logout, signup, the
licence service) — a key there would have no owner — and routes whose answer shows a
secret once (``opt={IDEMPOTENCY_OPT: False}``: creating a personal access token), whose
answer is never stored. On those the header is ignored, as on GET.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.types import ASGIApp, HTTPScope, Message, Receive, ReceiveMessage, Scope, Send

from core.idempotency import Answer, KeyScope, check_key, fingerprint, worth_keeping
from core.services.idempotency import (
    Claimed,
    Replay,
    claim_key,
    keep_answer,
    keep_claim_alive,
    release_key,
)
from plugins.bootstrap import Stint

from .auth import TenantPrincipal

__all__ = [
    "IDEMPOTENCY_OPT",
    "REPLAYED_HEADER",
    "IdempotencyMiddleware",
    "covers",
    "document_idempotency",
    "not_performed",
]

log = logging.getLogger("stint.web")

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
#: Route ``opt`` key; ``False`` where the answer must never be stored.
IDEMPOTENCY_OPT = "idempotency"
#: What a replay needs besides status and body; the outer layers add the rest again
#: (request id, security headers, ``Cache-Control``).
_KEPT_HEADERS = frozenset({"content-type", "content-length", "location"})
_NOT_PERFORMED = "stint_not_performed"
_HEADER_NAME = HEADER.lower().encode("latin-1")


def not_performed(scope: Scope) -> None:
    """Mark this request's answer as given before its operation ran (nothing to keep).

    Called by the error handlers (``web/problems.py``) for input that could not be read
    or broke a rule, the access decision's refusals and the framework's own 4xx.
    """
    scope.setdefault("state", {})[_NOT_PERFORMED] = True


def covers(handler: BaseRouteHandler, method: str) -> bool:
    """Whether requests to ``handler`` with ``method`` honour an Idempotency-Key."""
    opt = handler.opt or {}
    return method in MUTATING and not opt.get("exclude_from_auth") and opt.get(IDEMPOTENCY_OPT, True)


def _fingerprint_secret(secret_key: str) -> bytes:
    # A key of its own, derived from the server's secret, for the body digests.
    return hashlib.sha256(b"stint idempotency\x00" + secret_key.encode("utf-8")).digest()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, list[ReceiveMessage], bool]:
    """The body (as far as read), the messages received, and whether it was read whole."""
    messages: list[ReceiveMessage] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return b"", messages, False  # the client left
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"", messages, False  # too large: the route refuses it (413)
        if not message.get("more_body", False):
            return b"".join(chunks), messages, True


def _replaying(messages: list[ReceiveMessage], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> ReceiveMessage:
        return pending.pop(0) if pending else await receive()

    return replay


class _HeldAnswer:
    """The route's answer, held back until it is kept (or the key let go)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.complete = False
        self.storable = True

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body.append(message.get("body", b""))
            if not message.get("more_body", False):
                self.complete = True
        else:  # a file or trailers: nothing a replay could repeat
            self.storable = False

    def answer(self) -> Answer:
        headers = tuple(
            (name.decode("latin-1").lower(), value.decode("latin-1"))
            for name, value in self.headers
            if name.decode("latin-1").lower() in _KEPT_HEADERS
        )
        return Answer(status=self.status, headers=headers, body=b"".join(self.body))

    async def forward(self, send: Send) -> None:
        for message in self.messages:
            await send(message)


async def _send_answer(send: Send, answer: Answer) -> None:
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers]
    headers.append((REPLAYED_HEADER.lower().encode("latin-1"), b"true"))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body, "more_body": False})


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope.get("method") not in MUTATING:
            await self.app(scope, receive, send)
            return
        await self._keyed(scope, receive, send)

    async def _keyed(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        raw = _header(scope, _HEADER_NAME)
        principal = scope.get("user")
        handler = scope.get("route_handler")
        if (
            raw is None or not isinstance(principal, TenantPrincipal) or handler is None
            or not covers(handler, scope["method"])
        ):
            await self.app(scope, receive, send)
            return
        key = check_key(raw)
        # As far as the route itself takes: the worklog import accepts more than the app's limit.
        limit = handler.resolve_request_max_body_size() if isinstance(handler, HTTPRouteHandler) else None
        body, received, whole = await _read_body(receive, limit or self.max_body_bytes)
        receive = _replaying(received, receive)
        if not whole:
            await self.app(scope, receive, send)
            return
        stint: Stint = scope["app"].state.stint
        query = scope.get("query_string", b"").decode("latin-1")
        request = fingerprint(
            _fingerprint_secret(stint.settings.secret_key), scope["method"],
            scope["path"] + (f"?{query}" if query else ""), body,
            _header(scope, b"content-type") or "",
        )
        key_scope = KeyScope(tenant_id=principal.tenant.id, user_id=principal.user.id, key=key)
        outcome = await claim_key(stint.uow, stint.idempotency, stint.clock, key_scope, request)
        if isinstance(outcome, Replay):
            await _send_answer(send, outcome.answer)
            return
        await self._perform(stint, scope, receive, send, key_scope, outcome)

    async def _perform(
        self, stint: Stint, scope: Scope, receive: Receive, send: Send, key_scope: KeyScope, claimed: Claimed
    ) -> None:
        held = _HeldAnswer()
        alive = asyncio.create_task(
            keep_claim_alive(stint.uow, stint.idempotency, stint.clock, key_scope, claimed)
        )
        try:
            await self.app(scope, receive, held.send)
        except BaseException:
            await _stop(alive)
            await _let_go(stint, key_scope, claimed)
            raise
        await _stop(alive)
        performed = not scope.get("state", {}).get(_NOT_PERFORMED, False)
        if held.complete and held.storable and worth_keeping(held.status, performed=performed):
            try:
                kept = await keep_answer(stint.uow, stint.idempotency, stint.clock, key_scope, claimed,
                                         held.answer())
            except Exception:
                # The work is done; the claim goes stale and a retry after that does it again.
                log.exception("could not keep an idempotent answer")
            else:
                if not kept:
                    log.warning("an idempotency claim was taken over before its answer was kept")
        else:
            await _let_go(stint, key_scope, claimed)
        await held.forward(send)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    # Unlike ``await task``, this raises neither the task's error nor its cancellation.
    await asyncio.wait([task])
    if not task.cancelled() and task.exception() is not None:
        # A renewal that failed only risks a retry taking the claim over after a minute.
        log.warning("could not renew an idempotency claim", exc_info=task.exception())


async def _let_go(stint: Stint, key_scope: KeyScope, claimed: Claimed) -> None:
    try:
        await release_key(stint.uow, stint.idempotency, key_scope, claimed)
    except Exception:
        # Left claimed, the key goes stale and the next retry takes it over.
        log.exception("could not release an idempotency key")


# The schema says which operations honour the header ------------------------------------------

_HEADER_DOC = (
    "Makes a retry safe: the first answer to this key is kept for 24 hours and sent again "
    f"(with `{REPLAYED_HEADER}: true`) to the same request with the same key, without doing the "
    "work twice. 1–255 printable ASCII characters, e.g. a UUID; a new key for each new request. "
    "Keys are per user of a tenant."
)
_REUSE_DOC = (
    "Invalid input (`validation_error`), a malformed Idempotency-Key (`invalid_idempotency_key`) "
    "or a key first used with another request (`idempotency_key_reused`)"
)


def _is_ours(handler: BaseRouteHandler) -> bool:
    for middleware in handler.resolve_middleware():
        if getattr(middleware, "middleware", middleware) is IdempotencyMiddleware:
            return True
    return False


def document_idempotency(app: Any) -> None:
    """Add the ``Idempotency-Key`` header, the replay header and the 422 codes to the schema
    of every operation the middleware covers. Run after ``document_problems``."""
    from litestar._openapi.plugin import OpenAPIPlugin
    from litestar.openapi.spec import OpenAPIHeader, OpenAPIResponse, OpenAPIType, Parameter, Schema
    from litestar.routes import HTTPRoute

    openapi = app.plugins.get(OpenAPIPlugin).provide_openapi()
    paths = openapi.paths or {}
    header = Parameter(
        name=HEADER, param_in="header", required=False, description=_HEADER_DOC,
        schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=255, pattern="^[\\x20-\\x7e]+$"),
    )
    replayed = OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING, enum=["true"]),
        description="Present when this answer is the one kept for the request's Idempotency-Key.",
    )
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or (route.path_format or "/") not in paths:
            continue
        item = paths[route.path_format or "/"]
        for handler in route.route_handlers:
            if not handler.include_in_schema or not _is_ours(handler):
                continue
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None)
                if operation is None or not covers(handler, method):
                    continue
                operation.parameters = [*(operation.parameters or []), header]
                responses = operation.responses or {}
                for status, response in responses.items():
                    if status.startswith("2") and isinstance(response, OpenAPIResponse):
                        response.headers = {**(response.headers or {}), REPLAYED_HEADER: replayed}
                invalid = responses.get("422")
                if isinstance(invalid, OpenAPIResponse):
                    invalid.description = _REUSE_DOC
                operation.responses = responses
