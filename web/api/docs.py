"""``/docs``: the API reference, Swagger UI rendered by Litestar's OpenAPI render plugin.

Swagger UI's scripts and styles come from the ``swagger-ui-bundle-v2`` package and are served
by Stint itself at ``/docs/assets/`` (no CDN, nothing copied into the repository), so the page
works on an air-gapped server too. Its one inline script and style carry the request's CSP
nonce (web/security.py), so the Content-Security-Policy stays as strict as on every page.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.response import Response
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from ..security import csp_nonce

__all__ = ["ASSETS", "StintSwaggerUI", "docs_assets_router", "docs_page"]

#: Where Stint serves the packaged Swagger UI files.
ASSETS = "/docs/assets"


class StintSwaggerUI(SwaggerRenderPlugin):
    """Swagger UI from Stint's own origin, its inline script and style under the CSP nonce."""

    def __init__(self, path: str = "/swagger") -> None:
        super().__init__(
            js_url=f"{ASSETS}/swagger-ui-bundle.js",
            css_url=f"{ASSETS}/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
            favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
            path=path,
        )

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        page = super().render(request, openapi_schema)
        nonce = f" nonce='{csp_nonce(request.scope)}'".encode()
        return page.replace(b"<script type='text/javascript'>", b"<script" + nonce + b">").replace(
            b"<style>", b"<style" + nonce + b">"
        )


def docs_assets_router() -> Router:
    return create_static_files_router(
        path=ASSETS, directories=[swagger_ui_path], name="docs-assets", include_in_schema=False
    )


@get("/docs", include_in_schema=False, sync_to_thread=False)
def docs_page(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The render plugin's page, at the address the README and the pages link to."""
    config = request.app.openapi_config
    plugins = config.render_plugins if config is not None else []
    ui = next(p for p in plugins if isinstance(p, StintSwaggerUI))
    schema = request.app.openapi_schema.to_schema()
    return Response(ui.render(request, schema), media_type="text/html")
