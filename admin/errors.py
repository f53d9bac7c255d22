"""Console errors as console pages (or a message in ``#flash`` for htmx requests)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.response import Redirect, Template

from web.pages.errors import page_exception_handlers
from web.pages.render import is_htmx

__all__ = ["ConsoleSignInRequired", "SecondFactorEnrolmentRequired", "console_exception_handlers"]


class ConsoleSignInRequired(Exception):
    """No operator session."""


class SecondFactorEnrolmentRequired(Exception):
    """A signed-in operator without the second factor that this installation requires."""


def _enrol(request: Request[Any, Any, Any], exc: SecondFactorEnrolmentRequired) -> Response[Any]:
    if is_htmx(request):
        return Response(None, status_code=200, headers={"HX-Redirect": "/admin/second-factor"})
    return Redirect("/admin/second-factor", status_code=303)


def _sign_in(request: Request[Any, Any, Any], exc: ConsoleSignInRequired) -> Response[Any] | Template:
    if is_htmx(request):
        return Response(None, status_code=200, headers={"HX-Redirect": "/admin"})
    return Redirect("/admin", status_code=303)


# The tenant pages' handlers render "error.html" etc.; the console shares them (they need
# no tenant context) and adds its own sign-in redirect.
console_exception_handlers: dict[Any, Any] = {
    **page_exception_handlers, ConsoleSignInRequired: _sign_in, SecondFactorEnrolmentRequired: _enrol,
}
