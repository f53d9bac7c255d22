"""Operations: ``document_operations`` writes each operation's id and description (from
``OPERATIONS``), security, problem answers (OData's and OAuth's errors on their routes) and
examples into the schema; ``undocumented`` names the routes the table misses.
"""

from __future__ import annotations

import re
from typing import Any

from web.openapi.examples import add_examples
from web.openapi.oauth import OAUTH_PREFIXES, add_oauth_errors
from web.openapi.odata import ODATA_PREFIX, add_entity_path, document_odata
from web.openapi.operation_table import OPERATIONS
from web.openapi.problem_answers import add_problems, problem_statuses
from web.openapi.security import SECURITY_SCHEMES, scope_of, security_of

__all__ = ["document_operations", "undocumented"]


def _handlers(app: Any) -> dict[str, Any]:
    from litestar.routes import HTTPRoute

    found: dict[str, Any] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in handler.http_methods:
                    found[f"{method} {route.path_format}"] = handler
    return found


def document_operations(app: Any, operations: dict[str, tuple[str, str]] = OPERATIONS) -> None:
    """Ids, descriptions, security and problem answers for every operation (run after
    ``document_problems`` and before ``document_links``, which names operations by id)."""
    from litestar._openapi.plugin import OpenAPIPlugin
    from litestar.openapi.spec import Components, SecurityScheme

    openapi = app.plugins.get(OpenAPIPlugin).provide_openapi()
    openapi.components = openapi.components or Components()
    openapi.components.security_schemes = {
        name: SecurityScheme(type="http", scheme=scheme, bearer_format=bearer_format, description=description)
        for name, (scheme, bearer_format, description) in SECURITY_SCHEMES.items()
    }
    handlers = _handlers(app)
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            key = f"{method.upper()} {path}"
            if key not in handlers:
                continue  # a path added here (odata.py's entity path), documented already
            operation.operation_id, operation.description = operations.get(key) or _fallback(key, operation)
            handler = handlers[key]
            if path.startswith(OAUTH_PREFIXES):
                # OAuth's own endpoints answer OAuth's JSON errors, which its clients read.
                operation.security = []
                add_oauth_errors(operation, key)
                continue
            operation.security = security_of(path, handler)
            scope = scope_of(path, handler) if operation.security else None
            if scope and "Token scope:" not in (operation.description or ""):
                operation.description = f"{operation.description} Token scope: `{scope}`."
            has_path_params = "{" in path
            has_body = operation.request_body is not None
            secured = bool(operation.security)
            statuses = problem_statuses(key, handler, secured, has_path_params, has_body)
            if path.startswith(ODATA_PREFIX):
                document_odata(operation, statuses)
            else:
                add_problems(operation, statuses)
    add_entity_path(openapi, operations)
    add_examples(openapi)


def _fallback(key: str, operation: Any) -> tuple[str, str]:
    """A route not in the table yet still gets a camelCase id (``postWorklogsBatch``) and its
    summary as description; ``undocumented`` names it so a test asks for a real entry."""
    method, path = key.split(" ", 1)
    words = [w for w in re.split(r"[/{}_-]+", path.removeprefix("/api/v1")) if w]
    operation_id = method.lower() + "".join(w[:1].upper() + w[1:] for w in words)
    return operation_id, operation.description or operation.summary or operation_id


def undocumented(
    app: Any, operations: dict[str, tuple[str, str]] = OPERATIONS
) -> tuple[list[str], list[str]]:
    """(operations missing from ``operations``, entries naming no operation) for ``app``."""
    from litestar._openapi.plugin import OpenAPIPlugin

    paths = app.plugins.get(OpenAPIPlugin).provide_openapi().paths or {}
    served = {
        f"{method.upper()} {path}"
        for path, item in paths.items()
        for method in ("get", "put", "post", "delete", "patch")
        if getattr(item, method, None) is not None
    }
    return sorted(served - set(operations)), sorted(set(operations) - served)

