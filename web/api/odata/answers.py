"""The Reporting API's answers: JSON with ``OData-Version: 4.0`` and the ``@odata.context``
URL, and every error in OData's shape (``{"error": {"code", "message"}}``), on the router and,
under its prefix, at the app's level."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from core.errors import AccessDenied, StintError
from core.reporting import EntitySet, Query, QueryRefused

from ...access import InsufficientScope
from ...problems import status_of
from .auth import CHALLENGE

__all__ = [
    "ODATA_PREFIX",
    "VERSION_HEADER",
    "answer",
    "context_url",
    "odata_aware",
    "odata_error",
    "on_error",
]

log = logging.getLogger("stint.reporting")

ODATA_PREFIX = "/api/odata/v1"
VERSION_HEADER = {"OData-Version": "4.0"}
_JSON = "application/json;odata.metadata=minimal;odata.streaming=true"
_ENCODER = msgspec.json.Encoder(decimal_format="number")


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(
        _ENCODER.encode(body), status_code=status, media_type=_JSON,
        headers={**VERSION_HEADER, **(headers or {})},
    )


def odata_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response[bytes]:
    return answer({"error": {"code": code, "message": message}}, status, headers)


def on_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    if isinstance(exc, QueryRefused):
        return odata_error(exc.status, exc.code_, exc.detail)
    if isinstance(exc, InsufficientScope):
        # The token lacks reporting:read: OData's shape, with RFC 6750's challenge kept.
        return odata_error(403, "insufficient_scope", str(exc.detail), dict(exc.headers or {}))
    if isinstance(exc, AccessDenied):
        status = status_of(exc)
        if status == 404:
            return odata_error(404, "not_found", "Nothing is here.")
        return odata_error(status, str(exc.extra.get("reason") or exc.code), exc.detail)
    if isinstance(exc, StintError):
        return odata_error(status_of(exc), exc.code, exc.detail)
    if isinstance(exc, ValidationException):
        return odata_error(400, "bad_request", str(exc.detail))
    if isinstance(exc, HTTPException):
        headers = dict(exc.headers or {})
        if exc.status_code == 401:
            headers.update(CHALLENGE)
        code = {
            401: "unauthorized",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            429: "too_many_requests",
        }.get(exc.status_code, "error")
        return odata_error(exc.status_code, code, str(exc.detail), headers)
    if isinstance(exc, RecursionError):
        return odata_error(400, "bad_request", "the query is nested too deeply")
    log.exception("reporting request failed", exc_info=exc)
    return odata_error(500, "internal_error", "Something went wrong on our side.")


def odata_aware(handlers: dict[Any, Any]) -> dict[Any, Any]:
    """The app's exception handlers, answering OData's way under the Reporting API's prefix:
    what fails before a route is found (404, 405) is handled at the app's level, not the
    router's."""

    def wrap(handler: Any) -> Any:
        def handle(request: Request[Any, Any, Any], exc: Exception) -> Any:
            if request.scope.get("path", "").startswith(ODATA_PREFIX):
                return on_error(request, exc)
            return handler(request, exc)

        return handle

    return {cls: wrap(handler) for cls, handler in handlers.items()}


def context_url(
    request: Request[Any, Any, Any], entity_set: EntitySet, query: Query, *, entity: bool = False
) -> str:
    base = f"{str(request.base_url).rstrip('/')}{ODATA_PREFIX}/$metadata#{entity_set.name}"
    if entity:
        return f"{base}/$entity"
    if query.select:
        return f"{base}({','.join(p.text for p in query.select)})"
    return base
