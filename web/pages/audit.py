"""``/settings/audit``: the tenant's security history, for its Administrators (the same
rows, filters and pages as ``GET /api/v1/audit``)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Template

from core.licensing.access import Action
from core.services.security_history import tenant_audit

from .render import open_page, render, stint_of

__all__ = ["AuditPageController"]


class AuditPageController(Controller):
    path = "/settings/audit"
    include_in_schema = False

    @get("/", name="audit")
    async def show(
        self,
        request: Request[Any, Any, Any],
        action: Annotated[str, QueryParameter(max_length=64)] = "",
        user: Annotated[str, QueryParameter(max_length=64)] = "",
        cursor: Annotated[str, QueryParameter(max_length=200)] = "",
    ) -> Template:
        page = await open_page(request, Action.VIEW_AUDIT)
        rows, next_cursor = await tenant_audit(
            stint_of(request).uow, tenant=page.principal.tenant, action=action, user_id=user,
            cursor=cursor, limit=50,
        )
        context = page.context(
            events=rows, next_cursor=next_cursor, action=action, user=user, first_page=not cursor
        )
        return render(request, "settings/audit.html", "settings/_audit.html", context)
