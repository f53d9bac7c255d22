"""``/settings/work-item-automation``: how time tracking drives the work items' DevOps time
fields — on or off, which fields are written, how a new worklog changes Remaining Work.
The use cases are the API's (``core.services.work_item_automation``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from core.licensing.access import Action
from core.services.work_item_automation import save_work_item_automation, work_item_automation
from core.tracking.automation import automation_settings
from plugins.i18n import gettext

from .render import Page, open_page, render, stint_of

__all__ = ["WorkItemAutomationPageController"]

_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)
_FULL, _PART = "settings/work_item_automation.html", "settings/_work_item_automation.html"


class AutomationForm(msgspec.Struct):
    # Radio buttons rather than a checkbox: an unticked checkbox sends nothing at all.
    enabled: Literal["on", "off"]
    fields: Literal["both", "completed", "remaining", "none"]
    remaining: Literal["reduce", "leave", "per_worklog"]


async def _context(request: Request[Any, Any, Any], page: Page, **extra: Any) -> dict[str, Any]:
    settings = await work_item_automation(stint_of(request).uow, tenant=page.principal.tenant)
    return page.context(automation=settings, **extra)


class WorkItemAutomationPageController(Controller):
    path = "/settings/work-item-automation"
    include_in_schema = False

    @get("/", name="work_item_automation")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.MANAGE_SETTINGS)
        return render(request, _FULL, _PART, await _context(request, page))

    @post("/", status_code=200)
    async def save(
        self, request: Request[Any, Any, Any], data: Annotated[AutomationForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, Action.MANAGE_SETTINGS)
        stint = stint_of(request)
        settings = automation_settings(data.enabled == "on", data.fields, data.remaining)
        await save_work_item_automation(
            stint.uow, stint.clock, tenant=page.principal.tenant, actor=page.principal.user, settings=settings
        )
        done = gettext("Saved. The work item job uses these settings from its next run.")
        return render(request, _FULL, _PART, await _context(request, page, done=done))
