"""Errors on pages are pages: the locked door, the blocked tenant, a 404 that looks like any
other, a message beside the form. The statuses are the API's (``web.problems.status_of``).

An htmx request gets its message in the ``#flash`` region (``HX-Retarget``) so the
part of the page it was about to replace stays as it was.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template

from core import errors

from ..problems import status_of
from ..second_factor import USER_ENROLMENT_PAGE
from .render import EnrolmentRequired, SignInRequired, current_page, is_htmx

__all__ = ["browser_aware", "page_exception_handlers"]

log = logging.getLogger("stint.pages")

_CSRF_MESSAGE = "This form has expired or did not come from Stint. Reload the page and try again."


def _context(request: Request[Any, Any, Any], **extra: Any) -> dict[str, Any]:
    page = current_page(request)
    return page.context(**extra) if page is not None else {"nav": {}, **extra}


def _flash_or_page(
    request: Request[Any, Any, Any], status: int, message: str, template: str = "error.html", **extra: Any
) -> Template:
    if is_htmx(request):
        return Template(
            template_name="_flash.html",
            context={"message": message, "level": "error"},
            status_code=status,
            headers={"HX-Retarget": "#flash", "HX-Reswap": "outerHTML"},
        )
    return Template(
        template_name=template,
        context=_context(request, message=message, status=status, **extra),
        status_code=status,
    )


def _sign_in(request: Request[Any, Any, Any], exc: SignInRequired) -> Response[Any]:
    if is_htmx(request):
        return Response(None, status_code=200, headers={"HX-Redirect": "/"})
    target = request.url.path
    if target.startswith(("/oauth/", "/device")) and request.url.query:
        # An app's authorisation request is all in its query: sign-in must lead back to it.
        return Redirect("/?" + urlencode({"next": f"{target}?{request.url.query}"}), status_code=303)
    query = f"?next={target}" if target not in ("/", "/signin") else ""
    return Redirect(f"/{query}", status_code=303)


def _enrol(request: Request[Any, Any, Any], exc: EnrolmentRequired) -> Response[Any]:
    if is_htmx(request):
        return Response(None, status_code=200, headers={"HX-Redirect": USER_ENROLMENT_PAGE})
    if request.method == "GET" and request.url.path not in ("/", USER_ENROLMENT_PAGE):
        # Where they were going (an app's authorisation request included, which lives in its
        # query) is where "Continue" leads once the factor is set up.
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"{USER_ENROLMENT_PAGE}?{urlencode({'next': target})}", status_code=303)
    return Redirect(USER_ENROLMENT_PAGE, status_code=303)


def _denied(request: Request[Any, Any, Any], exc: errors.AccessDenied) -> Template:
    status = status_of(exc)
    if status == 404:
        # The Time tab must look exactly like a page that does not exist.
        return _flash_or_page(request, 404, "Nothing is here.", "not_found.html")
    if exc.reason == "role_none":
        return _flash_or_page(request, status, exc.detail, "locked.html")
    if exc.reason in ("expired", "trial_expired"):
        return _flash_or_page(request, status, exc.detail, "blocked.html", reason=exc.reason)
    return _flash_or_page(request, status, exc.detail)


def _domain(request: Request[Any, Any, Any], exc: errors.StintError) -> Template:
    return _flash_or_page(request, status_of(exc), exc.detail)


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Template:
    found = [item for item in (exc.extra if isinstance(exc.extra, list) else []) if isinstance(item, dict)]
    names = ", ".join(str(item.get("key") or "form") for item in found)
    message = f"Please check {names}." if names else "Please check the form."
    return _flash_or_page(request, 422, message)


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Template:
    status = exc.status_code
    if isinstance(exc, PermissionDeniedException) and "CSRF" in (exc.detail or ""):
        return _flash_or_page(request, 403, _CSRF_MESSAGE)
    if isinstance(exc, NotAuthorizedException):
        return _flash_or_page(request, 401, exc.detail or "Sign in again.")
    if status == 404:
        return _flash_or_page(request, 404, "Nothing is here.", "not_found.html")
    if status >= 500:
        log.error("server error on a page", extra={"detail": exc.detail})
        return _flash_or_page(request, status, "Something went wrong on our side.")
    return _flash_or_page(request, status, exc.detail or "That did not work.")


def _too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Template:
    # Only decoding input recurses that far (see web.problems): the sender's mistake.
    log.warning("request nested too deeply on a page", extra={"detail": str(exc)})
    return _flash_or_page(request, 400, "That input nests too deeply to be read.")


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Template:
    log.exception("unhandled error on a page")
    return _flash_or_page(request, 500, "Something went wrong on our side. Nothing was changed.")


page_exception_handlers: dict[Any, Any] = {
    SignInRequired: _sign_in,
    EnrolmentRequired: _enrol,
    errors.AccessDenied: _denied,
    errors.StintError: _domain,
    ValidationException: _validation,
    HTTPException: _http,
    RecursionError: _too_deep,
    Exception: _unexpected,
}


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    """A browser's navigation: a GET outside the API whose ``Accept`` names HTML (browsers
    send ``text/html,…``; API clients send JSON or nothing, and keep problem+json)."""
    path = request.scope.get("path", "")
    return (
        request.method == "GET"
        and not path.startswith("/api/")
        and "text/html" in request.headers.get("accept", "")
    )


def browser_aware(handlers: dict[Any, Any]) -> dict[Any, Any]:
    """The app's exception handlers, with a browser's unknown URL answered by the HTML
    not-found page (issue #21: it showed raw problem+json). A route that does not exist
    fails before any router's handlers run, so this sits at the app's level."""
    fallback = handlers[HTTPException]

    def handle(request: Request[Any, Any, Any], exc: HTTPException) -> Any:
        if exc.status_code in (404, 405) and _wants_html(request):
            return Template(template_name="not_found.html", context={"nav": {}}, status_code=404)
        return fallback(request, exc)

    return {**handlers, HTTPException: handle}
