"""``/docs``: the API reference rendered on the server from the OpenAPI schema.

It needs no JavaScript and no CDN, so it works on an air-gapped server too.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request, get
from litestar.response import Response

from ..security import csp_nonce

__all__ = ["docs_page"]


@get("/docs", include_in_schema=False, sync_to_thread=False)
def docs_page(request: Request[Any, Any, Any]) -> Response[str]:
    schema = request.app.openapi_schema.to_schema()
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Stint API</title>",
        f"<style nonce='{csp_nonce(request.scope)}'>"
        "body{font:15px/1.5 system-ui;margin:2rem auto;max-width:60rem;padding:0 1rem}"
        "code{background:#f3f3f3;padding:0 .3em}h2{border-bottom:1px solid #ddd}"
        ".m{display:inline-block;min-width:4.5em;font-weight:600}</style></head><body>",
        f"<h1>{escape(schema['info']['title'])} API {escape(schema['info']['version'])}</h1>",
        "<p>The machine-readable schema is at <a href='/schema/openapi.json'>"
        "/schema/openapi.json</a>. Errors are <code>application/problem+json</code> "
        "with a stable <code>code</code>.</p>",
    ]
    by_tag: dict[str, list[str]] = {}
    for path, operations in sorted(schema.get("paths", {}).items()):
        for method, op in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            tag = (op.get("tags") or ["other"])[0]
            summary = escape(op.get("summary") or op.get("operationId") or "")
            by_tag.setdefault(tag, []).append(
                f"<li><span class='m'>{method.upper()}</span><code>{escape(path)}</code> {summary}</li>"
            )
    for tag, items in sorted(by_tag.items()):
        parts.append(f"<h2>{escape(tag)}</h2><ul>{''.join(items)}</ul>")
    parts.append("</body></html>")
    return Response("".join(parts), media_type="text/html")
