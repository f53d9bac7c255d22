"""Security: the schemes a caller authenticates with, and which of them each operation accepts.

An operation's security follows its realm: ``accessToken`` or ``personalAccessToken`` (with
the route's scope) on ``/api/v1``, ``reportingBasic`` too on the Reporting API,
``operatorToken`` on ``/api/v1/operator``, none on public routes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SECURITY_SCHEMES", "scope_of", "security_of"]

#: Security scheme name → (HTTP auth scheme, bearer format, description).
SECURITY_SCHEMES: dict[str, tuple[str, str | None, str]] = {
    "accessToken": ("bearer", "JWT", "A tenant user's access token from `signIn` or `refreshToken`."),
    "personalAccessToken": ("bearer", "opaque", "A personal access token from `createAccessToken`."),
    "operatorToken": ("bearer", "JWT", "An operator's access token from `operatorSignIn`."),
    "reportingBasic": ("basic", None, "HTTP Basic with an e-mail and a personal access token, for reporting "
                                      "tools (Excel, Power BI) that cannot send a bearer token."),
}


def security_of(path: str, handler: Any) -> list[dict[str, list[str]]]:
    if handler.opt.get("exclude_from_auth") or not path.startswith("/api/"):
        return []
    if path.startswith("/api/v1/operator/"):
        return [{"operatorToken": []}]
    # A personal access token needs the route's scope (OAS 3.1 lets a non-OAuth scheme list
    # the roles it requires); a sign-in's access token has every scope.
    scope = scope_of(path, handler)
    needed = [scope] if scope else []
    if path.startswith("/api/odata/"):
        return [{"accessToken": []}, {"personalAccessToken": needed}, {"reportingBasic": needed}]
    return [{"accessToken": []}, {"personalAccessToken": needed}]


def scope_of(path: str, handler: Any) -> str | None:
    from web.access import declared_scope

    found = declared_scope(handler, path)
    return found.value if found is not None else None

