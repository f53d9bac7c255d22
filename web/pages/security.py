"""``/settings/security``: the signed-in user's second factor (set up, confirm, switch off)
and, for Administrators, the tenant's "require a second factor for everyone" setting.

The same use cases as ``/api/v1/me/second-factor`` and ``/api/v1/settings/security``. This
page opens for a user whose tenant requires a factor they lack: every other page sends
them here (``open_page``)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Template

from core.licensing.access import Action
from core.services.second_factor import (
    Holder,
    InvalidCode,
    confirm_enrolment,
    disable_second_factor,
    start_enrolment,
)
from core.services.security_settings import require_second_factor

from ..second_factor import counting_wrong_codes
from ..security import client_address
from .render import Page, local_path, open_page, render, stint_of

__all__ = ["SecurityPageController"]

_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)
_FULL, _PARTIAL = "settings/security.html", "settings/_security.html"


class StartForm(msgspec.Struct):
    #: Where "Continue" leads after enrolment (the page that sent the user here).
    next: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class CodeForm(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(max_length=64)] = ""
    next: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class DisableForm(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(max_length=64)] = ""
    password: Annotated[str, msgspec.Meta(max_length=1024)] = ""


class RequireForm(msgspec.Struct):
    #: A checkbox: "on" when ticked, absent otherwise.
    require: Annotated[str, msgspec.Meta(max_length=8)] = ""


def _context(page: Page, **extra: Any) -> dict[str, Any]:
    shared = {
        "active": "security", "administrator": page.nav.get("devops", False),
        "required": page.principal.tenant.require_second_factor, "next": "",
    }
    return page.context(**{**shared, **extra})


class SecurityPageController(Controller):
    path = "/settings/security"
    include_in_schema = False

    @get("/", name="security")
    async def show(
        self, request: Request[Any, Any, Any], next: Annotated[str, QueryParameter(max_length=2000)] = ""
    ) -> Template:
        page = await open_page(request, None, enrolling=True)
        return render(request, _FULL, _PARTIAL, _context(page, next=local_path(next, "")))

    @post("/second-factor", status_code=200)
    async def start(
        self, request: Request[Any, Any, Any], data: Annotated[StartForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, None, enrolling=True)
        stint = stint_of(request)
        enrolment = await start_enrolment(stint.uow, stint.codes, Holder.of(page.principal.user))
        context = _context(page, enrolment=enrolment, next=local_path(data.next, ""))
        return render(request, _FULL, _PARTIAL, context)

    @post("/second-factor/confirm", status_code=200)
    async def confirm(
        self, request: Request[Any, Any, Any], data: Annotated[CodeForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, None, enrolling=True)
        stint = stint_of(request)
        user = page.principal.user
        try:
            async with counting_wrong_codes(stint, user.id):
                recovery = await confirm_enrolment(
                    stint.uow, stint.codes, stint.clock, Holder.of(user), code=data.code,
                    address=client_address(request),
                )
        except InvalidCode as exc:
            context = _context(page, error=exc.detail, next=local_path(data.next, ""))
            return render(request, _FULL, _PARTIAL, context, status_code=422)
        context = _context(page, recovery=recovery, next=local_path(data.next, ""))
        return render(request, _FULL, _PARTIAL, context)

    @post("/second-factor/disable", status_code=200)
    async def disable(
        self, request: Request[Any, Any, Any], data: Annotated[DisableForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, None, enrolling=True)
        stint = stint_of(request)
        user = page.principal.user
        try:
            async with counting_wrong_codes(stint, user.id):
                await disable_second_factor(
                    stint.uow, stint.codes, stint.hasher, stint.clock, Holder.of(user),
                    code=data.code, password=data.password,
                    required=page.principal.tenant.require_second_factor, address=client_address(request),
                )
        except InvalidCode as exc:
            return render(request, _FULL, _PARTIAL, _context(page, error=exc.detail), status_code=422)
        return render(request, _FULL, _PARTIAL, _context(page, disabled=True))

    @post("/require", status_code=200)
    async def require(
        self, request: Request[Any, Any, Any], data: Annotated[RequireForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, Action.MANAGE_SETTINGS)
        stint = stint_of(request)
        tenant = await require_second_factor(
            stint.uow, stint.clock, tenant=page.principal.tenant, actor=page.principal.user,
            required=data.require == "on", address=client_address(request),
        )
        context = _context(page, required=tenant.require_second_factor, saved=True)
        return render(request, _FULL, _PARTIAL, context)
