"""``/settings/notifications``: which notification mails the signed-in user gets and, for
Administrators, the tenant's defaults for users who have not chosen. The same use cases as
``/api/v1/me/notifications`` and ``/api/v1/settings/notifications``. Checkboxes: a kind
absent from the form is off."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from core.licensing.access import Action
from core.notifications import KINDS, LABELS
from core.services.notification_preferences import (
    my_notifications,
    set_my_notifications,
    set_tenant_notifications,
    tenant_notifications,
)

from ..security import client_address
from .render import Page, open_page, render, stint_of

__all__ = ["NotificationsPageController"]

_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)
_FULL, _PARTIAL = "settings/notifications.html", "settings/_notifications.html"
#: The form as sent: checkbox name → "on"; anything else (the CSRF field) is ignored.
Form = Annotated[dict[str, str], _URL_ENCODED]


def _ticked(data: dict[str, str]) -> dict[str, bool]:
    return {kind: data.get(kind) == "on" for kind in KINDS}


async def _context(request: Request[Any, Any, Any], page: Page, **extra: Any) -> dict[str, Any]:
    stint = stint_of(request)
    principal = page.principal
    administrator = principal.user.effective_role(principal.tenant.default_role) == "administrator"
    context: dict[str, Any] = {
        "active": "notifications", "kinds": [(kind, LABELS[kind]) for kind in KINDS],
        "administrator": administrator,
        "mine": await my_notifications(stint.uow, tenant=principal.tenant, user=principal.user),
        "defaults": await tenant_notifications(stint.uow, tenant=principal.tenant) if administrator else {},
    }
    return page.context(**{**context, **extra})


class NotificationsPageController(Controller):
    path = "/settings/notifications"
    include_in_schema = False

    @get("/", name="notifications")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, None)
        return render(request, _FULL, _PARTIAL, await _context(request, page))

    @post("/mine", status_code=200)
    async def save_mine(self, request: Request[Any, Any, Any], data: Form) -> Template:
        page = await open_page(request, None)
        principal = page.principal
        await set_my_notifications(stint_of(request).uow, tenant=principal.tenant, user=principal.user,
                                   kinds=_ticked(data))
        return render(request, _FULL, _PARTIAL, await _context(request, page, saved="mine"))

    @post("/defaults", status_code=200)
    async def save_defaults(self, request: Request[Any, Any, Any], data: Form) -> Template:
        page = await open_page(request, Action.MANAGE_SETTINGS)
        principal = page.principal
        stint = stint_of(request)
        await set_tenant_notifications(stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user,
                                       kinds=_ticked(data), address=client_address(request))
        return render(request, _FULL, _PARTIAL, await _context(request, page, saved="defaults"))
