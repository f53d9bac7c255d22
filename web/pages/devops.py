"""``/settings/devops``: the tenant's DevOps connection — which connector the work-item job
uses (standalone, or Azure DevOps with its organisation, project and personal access token).
The use cases are the API's (``core.services.devops``); the token is write-only here too."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from core.licensing.access import Action
from core.services.devops import DevOpsConnectionChange
from plugins.i18n import gettext

from .render import Page, open_page, render, stint_of

__all__ = ["DevOpsPageController"]

_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)


class DevOpsForm(msgspec.Struct):
    kind: Literal["standalone", "azure_devops"]
    organization_url: Annotated[str, msgspec.Meta(max_length=2048)] = ""
    project: Annotated[str, msgspec.Meta(max_length=256)] = ""
    #: Left empty: keep the stored token (for the same organisation).
    pat: Annotated[str, msgspec.Meta(max_length=2048)] = ""


async def _context(request: Request[Any, Any, Any], page: Page, **extra: Any) -> dict[str, Any]:
    stint = stint_of(request)
    view = await stint.devops.view(page.principal.tenant)
    return page.context(connection=view, **extra)


class DevOpsPageController(Controller):
    path = "/settings/devops"
    include_in_schema = False

    @get("/", name="devops")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.MANAGE_SETTINGS)
        return render(request, "settings/devops.html", "settings/_devops.html", await _context(request, page))

    @post("/", status_code=200)
    async def save(
        self, request: Request[Any, Any, Any], data: Annotated[DevOpsForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, Action.MANAGE_SETTINGS)
        azure = data.kind == "azure_devops"
        await stint_of(request).devops.save(
            tenant=page.principal.tenant, actor=page.principal.user,
            change=DevOpsConnectionChange(
                data.kind,
                data.organization_url.strip() or None if azure else None,
                data.project.strip() or None if azure else None,
                data.pat or None if azure else None,
            ),
        )
        done = (gettext("Connected to Azure DevOps.") if azure
                else gettext("Work items are kept in Stint (standalone)."))
        context = await _context(request, page, done=done)
        return render(request, "settings/devops.html", "settings/_devops.html", context)

    @post("/test", status_code=200)
    async def test(self, request: Request[Any, Any, Any]) -> Template:
        """"Test connection": the saved connection asked a real question, answered in one line."""
        page = await open_page(request, Action.MANAGE_SETTINGS)
        check = await stint_of(request).devops.test(page.principal.tenant)
        result = {"done": check.message} if check.ok else {"refused": check.message}
        context = await _context(request, page, **result)
        return render(request, "settings/devops.html", "settings/_devops.html", context)
