"""What the installation recorded, read-only: the billing events received
(``/admin/billing-events``), the background jobs' last runs (``/admin/jobs``), and every
tenant's security events and the installation's (``/admin/audit``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Template

from core.services.security_history import installation_audit
from plugins.bootstrap import jobs_status
from web.pages.render import render

from .context import _ctx, _operator, _stint

__all__ = ["RecordsController"]


class RecordsController(Controller):
    """The installation's records."""

    path = "/"
    include_in_schema = False

    @get("/billing-events")
    async def billing_events(self, request: Request[Any, Any, Any]) -> Template:
        principal = await _operator(request)
        async with _stint(request).uow() as work:
            events = await work.directory.billing_events(limit=200)
        return render(request, "admin/billing_events.html", None, _ctx(principal, "billing", events=events))

    @get("/jobs")
    async def jobs(self, request: Request[Any, Any, Any]) -> Template:
        """The background jobs' last runs (with errors and the worker) and what waits: the
        details the public /health no longer shows."""
        principal = await _operator(request)
        status = await jobs_status(_stint(request))
        return render(request, "admin/jobs.html", None, _ctx(principal, "jobs", jobs=status))

    @get("/audit")
    async def audit(
        self,
        request: Request[Any, Any, Any],
        action: Annotated[str, QueryParameter(max_length=64)] = "",
        actors: Annotated[Literal["all", "operator", "user", "unknown"], QueryParameter()] = "all",
        tenant: Annotated[str, QueryParameter(max_length=64)] = "",
        cursor: Annotated[str, QueryParameter(max_length=200)] = "",
    ) -> Template:
        """Every tenant's security events and the installation's, each naming its tenant."""
        principal = await _operator(request)
        (events, next_cursor), slugs = await installation_audit(
            _stint(request).uow, tenant_slug=tenant.strip(), action=action,
            actor_kind="" if actors == "all" else actors, cursor=cursor, limit=100,
        )
        context = _ctx(
            principal, "audit", events=events, slugs=slugs, action=action, actors=actors, tenant=tenant,
            next_cursor=next_cursor, first_page=not cursor,
        )
        return render(request, "admin/audit.html", "admin/_audit.html", context)
