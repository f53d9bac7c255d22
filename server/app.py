"""The Litestar app factory: the composition root above ``web/`` and ``admin/``.

Routers are vertical slices (``web/api/*``, listed by :mod:`web.routes`), the tenant pages
and the operator console; this module only assembles them, installs error handling and
logging, and opens/closes the adapters built by :mod:`plugins.bootstrap`.
"""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import OpenAPI

from admin import CONSOLE_TEMPLATES, console_router
from core.clock import Clock
from core.origin import Source
from plugins import bootstrap
from plugins.settings import Settings, load_settings
from web import routes
from web.api.docs import StintSwaggerUI, docs_assets_router, docs_page
from web.api.health import health, live, ready
from web.api.odata.answers import odata_aware
from web.auth import OperatorAuth, TenantAuth
from web.deps import provide_stint
from web.edge import install_edge
from web.idempotency import IdempotencyMiddleware, document_idempotency
from web.lifecycle import drain_on_signals, on_drain
from web.logs import configure_logging
from web.metrics import metrics_endpoint
from web.openapi import StrictBodies, document_links, document_operations
from web.pages import browser_aware, pages_router, static_router, template_config
from web.problems import document_problems, exception_handlers
from web.proxies import ForwardedMiddleware, parse_networks
from web.request import StintRequest
from web.request_lines import batch_per_loop_turn
from web.request_lines import flush as flush_request_lines
from web.routes import BuiltOnce
from web.second_factor import require_operator_second_factor
from web.security import cors_config

from .threads import switch_threads_promptly

__all__ = ["create_app", "serve_app"]

#: Largest request body accepted; imports of big timesheets are the reason it is not smaller.
MAX_BODY_BYTES = 5 * 1024 * 1024


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, migrate: bool = False,
    run_jobs: bool = False, serving: bool = False,
) -> Litestar:
    """Build the app. ``migrate=True`` upgrades the schema at start (tests; ``stint serve``
    checks it before, ``stint db upgrade`` does it); ``run_jobs=True`` (``stint serve``) runs
    the background jobs in-process when there is no Redis; ``serving=True`` (``stint serve``)
    drains on SIGTERM (``web/lifecycle.py``)."""

    async def on_startup(app: Litestar) -> None:
        if serving:
            drain_on_signals()
            switch_threads_promptly()
            batch_per_loop_turn()
        app.state.stint = await bootstrap.start(settings, clock=clock, migrate=migrate)
        if serving:
            # Open event streams end as soon as the process drains, not at their next look.
            app.state.forget_drain = on_drain(app.state.stint.feed.fanout.wake_all)
        # ``stint serve`` without Redis runs the background jobs itself (the embedded mode).
        if run_jobs and not app.state.stint.settings.redis_url:
            from plugins.jobs.embedded import EmbeddedScheduler

            app.state.jobs = EmbeddedScheduler(app.state.stint)
            app.state.jobs.start()

    async def on_shutdown(app: Litestar) -> None:
        flush_request_lines()
        forget = getattr(app.state, "forget_drain", None)
        if forget is not None:
            forget()
        jobs = getattr(app.state, "jobs", None)
        if jobs is not None:
            await jobs.stop()
        stint = getattr(app.state, "stint", None)
        if stint is not None:
            await bootstrap.stop(stint)

    tenant_api = BuiltOnce(
        path="/api/v1",
        route_handlers=routes.tenant_routes(),
        # Authentication first: a key belongs to the signed-in user of a tenant. TenantAuth
        # also sets the requests' origin (the API), around itself and everything inside.
        middleware=[
            DefineMiddleware(TenantAuth, exclude_from_auth_key="exclude_from_auth", source=Source.API),
            DefineMiddleware(IdempotencyMiddleware, max_body_bytes=MAX_BODY_BYTES),
        ],
    )
    operator_api = BuiltOnce(
        path="/api/v1/operator",
        route_handlers=routes.operator_routes(),
        middleware=[DefineMiddleware(OperatorAuth, exclude_from_auth_key="exclude_from_auth")],
        guards=[require_operator_second_factor],
    )
    configure_logging()
    settings_now = settings or load_settings()

    app = Litestar(
        route_handlers=[
            health, live, ready, metrics_endpoint, docs_page, docs_assets_router(), tenant_api, operator_api,
            pages_router(settings_now), console_router(settings_now), static_router(),
            *routes.webhook_routes(), *routes.reporting_routes(),
        ],
        template_config=template_config(CONSOLE_TEMPLATES),
        dependencies={"stint": Provide(provide_stint, sync_to_thread=False)},
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        exception_handlers=odata_aware(browser_aware(exception_handlers)),
        # The proxies' headers first: every later reader sees the client's address and scheme.
        # Without trusted proxies there is nothing to resolve, and no layer is added. The
        # request id, security headers, request log and latency are the edge's (below).
        middleware=[
            *([DefineMiddleware(ForwardedMiddleware, networks=parse_networks(settings_now.trusted_proxies))]
              if settings_now.trusted_proxies else []),
        ],
        cors_config=cors_config(settings_now),
        request_max_body_size=MAX_BODY_BYTES,
        request_class=StintRequest,
        plugins=[StrictBodies()],
        openapi_config=OpenAPIConfig(
            title="Stint",
            version="1.0.0",
            path="/schema",
            render_plugins=[JsonRenderPlugin(path="/openapi.json"), StintSwaggerUI()],
        ),
        debug=False,
    )
    # Around the whole app (404s and errors included), one pure-ASGI layer: web/edge.py. It
    # answers the hottest routes' plain happy path itself (web/lean.py), except behind trusted
    # proxies, whose headers only ForwardedMiddleware (inside the app) resolves.
    install_edge(app, settings_now, lean={} if settings_now.trusted_proxies else routes.lean_routes())
    _document_on_first_use(app)
    return app


def serve_app() -> Litestar:
    """The app of one of ``stint serve --workers N``'s processes (uvicorn's factory): the
    schema was checked by the command; the jobs run on Celery (several processes need Redis)."""
    return create_app(serving=True)


def _document_on_first_use(app: Litestar) -> None:
    """Finish the OpenAPI document when it is first asked for, not here.

    Building the document is over half of building the app (hundreds of operations, their
    schemas and examples); a process that never serves ``/schema`` (a worker, most test
    apps) should not pay for it. The app's one OpenAPI plugin becomes the subclass below,
    which has the same layout (no slots of its own), so everything that finds the plugin
    by its type still finds it.
    """
    from litestar._openapi.plugin import OpenAPIPlugin

    app.plugins.get(OpenAPIPlugin).__class__ = _DocumentedOpenAPIPlugin


def _finishing_steps() -> tuple[Callable[[Litestar], None], ...]:
    return (document_problems, document_idempotency, document_operations, document_links)


from litestar._openapi.plugin import OpenAPIPlugin  # noqa: E402  (private: the class to extend)


class _DocumentedOpenAPIPlugin(OpenAPIPlugin):
    __slots__ = ()

    def provide_openapi(self) -> OpenAPI:
        if self._openapi is None:
            # Kept before the steps run: each of them asks for the document too.
            self._openapi = self._build_openapi()
            for step in _finishing_steps():
                step(self.app)
        return self._openapi
