"""RFC 9457 problem+json for every error, with a stable ``code``.

Domain errors map to statuses here and only here; nothing else in the web layer
decides what status an error gets.

Why not Litestar's own ``litestar.plugins.problem_details`` (checked on Litestar 2.25): it
turns an exception into a ``ProblemDetailsException`` and that into a body, and nothing
more, so every piece below would stay ours and only gain a layer. What it lacks:

- a stable ``code``: its bodies have none, and ``enable_for_all_http_exceptions`` puts an
  exception's message in ``title`` and the status phrase in ``detail``;
- validation errors that name the fields: a bad body stays a 400 whose ``extra`` is
  Litestar's raw list (``key``/``message``/``source``), where ours is a 422 with
  ``errors[].field`` and the fields named in ``detail``;
- standard members that extras cannot override: it ``update``s the body with the extras,
  so an error carrying a subscription's ``status`` would replace the HTTP status (ours
  moves such members under ``context``);
- the request in its converters (``exception_to_problem_detail_map`` gets the exception
  alone), so a 500 could not name its request id, and unhandled exceptions are not
  converted at all (they stay ``application/json``);
- OpenAPI: the schema still documents errors as ``application/json`` with
  ``status_code``/``detail``/``extra``; ``document_problems`` below rewrites them as problems.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from core import errors, work_items
from core.activation.claims import ActivationRefused
from core.activation.ports import LicenceServiceRefused, LicenceServiceUnreachable
from core.billing import PaymentProviderUnavailable
from core.idempotency import IdempotencyKeyReused
from core.tracking.errors import WorklogLimitReached

from .idempotency import not_performed

__all__ = ["ACCESS_STATUS", "exception_handlers", "problem"]

log = logging.getLogger("stint.web")

PROBLEM_JSON = "application/problem+json"

#: The access decision's reasons as HTTP (SPEC §6): 402 for payment, 403 otherwise.
ACCESS_STATUS = {
    "expired": 402,
    "trial_expired": 402,
    "role_none": 403,
    "no_seat": 403,
    "not_permitted": 403,
    "tenant_uninstalled": 403,
    "second_factor_required": 403,
    "clock_set_back": 403,
}

_STATUS: dict[type[errors.StintError], int] = {
    errors.ValidationFailed: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.InvalidCredentials: 401,
    errors.PlanNotAvailable: 422,
    errors.SeatLimit: 409,
    errors.PayoutRefused: 409,
    errors.WeekLocked: 423,
    # The payment provider was unreachable: nothing changed, the sender retries (Stripe does).
    PaymentProviderUnavailable: 503,
    # A plan limit, lifted by buying a bigger plan: "payment required", like expiry.
    WorklogLimitReached: 402,
    # Activation (SPEC §7): a refused file is bad input with a reason; a licence service
    # that cannot be reached is "unavailable" (the last entitlement still holds).
    ActivationRefused: 422,
    LicenceServiceRefused: 422,
    LicenceServiceUnreachable: 503,
    # The key was first sent with another request: input the client must change (Stripe: 400;
    # here bad input is 422 throughout, with its own code).
    IdempotencyKeyReused: 422,
    # Work items (their base classes give the same; named so the mapping reads in one place).
    work_items.UnknownWorkItem: 422,
    work_items.UnknownParent: 422,
    work_items.WorkItemCycle: 422,
    work_items.UnknownIteration: 422,
    work_items.WorkItemNotFound: 404,
    work_items.ManagedByDevOps: 409,
}

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    402: "Payment required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    423: "Locked",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}

_HTTP_CODES = {
    # Litestar answers 400 only for a body it cannot read (broken JSON, a bad multipart form).
    400: "invalid_body",
    401: "invalid_token",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
    **members: Any,
) -> Response[dict[str, Any]]:
    """An RFC 9457 answer. Extra members never override the standard ones: an error that
    carries, say, ``status`` of a subscription gets it under ``context`` instead."""
    body: dict[str, Any] = {
        "type": f"https://stint.dev/problems/{code.replace('_', '-')}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    for key, value in {**(extra or {}), **members}.items():
        if key in body:
            body.setdefault("context", {})[key] = value
        else:
            body[key] = value
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_of(exc: errors.StintError) -> int:
    if isinstance(exc, errors.AccessDenied):
        if exc.extra.get("hidden"):
            return 404
        return ACCESS_STATUS.get(exc.reason, 403)
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 400


def _domain(request: Request[Any, Any, Any], exc: errors.StintError) -> Response[dict[str, Any]]:
    status = status_of(exc)
    if isinstance(exc, errors.AccessDenied | errors.ValidationFailed):
        # Refused before the operation ran: an idempotency key keeps no answer for it.
        not_performed(request.scope)
    extra = {k: v for k, v in exc.extra.items() if k != "hidden"}
    if isinstance(exc, errors.AccessDenied) and status == 404:
        # A hidden tab must look exactly like a route that does not exist.
        return problem(404, "not_found", "Nothing is here.")
    if isinstance(exc, ActivationRefused):
        extra["reason"] = exc.reason.value
    if isinstance(exc, errors.ValidationFailed) and exc.field:
        extra.setdefault("errors", [{"field": exc.field, "message": exc.detail}])
    return problem(status, exc.code, exc.detail, extra=extra)


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    not_performed(request.scope)
    found: list[dict[str, Any]] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            found.append(
                {
                    "field": item.get("key") or "body",
                    "message": str(item.get("message", "invalid")),
                    "source": item.get("source", "body"),
                }
            )
    if found:
        names = ", ".join(str(e["field"]) for e in found)
        detail = f"invalid value for {names}: {found[0]['message']}"
    else:
        detail = exc.detail or "the request is not valid"
    return problem(422, "validation_error", detail, errors=found)


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status >= 500:
        log.error("server error", extra={"detail": exc.detail})
    else:
        # The framework's refusals (unreadable body, not allowed, not found, rate limited)
        # come before the operation; the domain's own answers are StintErrors.
        not_performed(request.scope)
    detail = exc.detail if status < 500 else "Something went wrong on our side."
    headers = dict(exc.headers or {})
    # An exception may name a finer code than its status's (401 ``token_revoked``, web/auth.py).
    code = getattr(exc, "code", None)
    if not isinstance(code, str):
        code = _HTTP_CODES.get(status, "error")
    return problem(status, code, detail, headers=headers or None)


#: What a body nested past the decoder's depth limit is told.
TOO_DEEP = "the request body nests too deeply to be read"


def _too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Response[dict[str, Any]]:
    # Nothing in Stint recurses on its own data: a RecursionError comes from decoding input
    # (msgspec and json stop at their depth limit), so it is the sender's mistake, not ours.
    log.warning("request nested too deeply", extra={"detail": str(exc)})
    return problem(400, "invalid_body", TOO_DEEP)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error")
    request_id = request.scope.get("state", {}).get("request_id", "")
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal_error",
        f"Something went wrong on our side (request {request_id}). Nothing was changed.",
    )


exception_handlers: dict[Any, Any] = {
    errors.StintError: _domain,
    ValidationException: _validation,
    HTTPException: _http,
    RecursionError: _too_deep,
    Exception: _unexpected,
}



# The schema says what the handlers above do: every error is problem+json --------------------

_PROBLEM_SCHEMA_NAME = "Problem"


def _problem_schema() -> Any:
    from litestar.openapi.spec import OpenAPIType, Schema

    text = Schema(type=OpenAPIType.STRING)
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["type", "title", "status", "detail", "code"],
        properties={
            "type": text,
            "title": text,
            "status": Schema(type=OpenAPIType.INTEGER),
            "detail": text,
            "code": text,
            "errors": Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.OBJECT)),
        },
        description="RFC 9457 problem details with a stable snake_case code.",
    )


def document_problems(app: Any) -> None:
    """Make the OpenAPI schema say what the error handlers do.

    Litestar documents its own validation-error body as ``application/json``; every error
    Stint answers is ``application/problem+json`` (and bad input is 422, not 400). The
    schema is built here, once, from the routes registered so far, and each 4xx/5xx
    response in it rewritten.
    """
    from litestar._openapi.plugin import OpenAPIPlugin
    from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Reference

    plugin = app.plugins.get(OpenAPIPlugin)
    problem_ref = Reference(ref=f"#/components/schemas/{_PROBLEM_SCHEMA_NAME}")

    def problem_response(description: str) -> OpenAPIResponse:
        return OpenAPIResponse(
            description=description, content={PROBLEM_JSON: OpenAPIMediaType(schema=problem_ref)}
        )

    openapi = plugin.provide_openapi()
    openapi.components.schemas[_PROBLEM_SCHEMA_NAME] = _problem_schema()
    for item in (openapi.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            responses = operation.responses or {}
            for status in [s for s in responses if s[:1] in ("4", "5")]:
                old = responses[status]
                responses[status] = problem_response(getattr(old, "description", None) or "Error")
            if operation.parameters or operation.request_body is not None:
                responses.setdefault("422", problem_response("Invalid input"))
            operation.responses = responses
