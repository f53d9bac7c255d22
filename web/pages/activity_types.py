"""``/settings/activity-types``: the tenant's activity type catalogue, for its Administrators —
add, rename, colour, billable default, hourly rate, activate and deactivate. The use cases are
the API's (``core.services.activity_types``); every form works without JavaScript (htmx swaps
the section in place when it is there)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from core.activities import ActivityTypeChanges
from core.errors import ValidationFailed
from core.licensing.access import Action
from core.money import Money, format_minor
from core.services.activity_types import create_activity_type, list_activity_types, update_activity_type
from plugins.i18n import gettext

from .render import Page, open_page, render, stint_of

__all__ = ["ActivityTypesPageController", "parse_rate", "rate_text"]

_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)


def parse_rate(amount: str, currency: str, field: str = "hourly_rate") -> Money | None:
    """A rate typed on a page ("90", "90.5", "1,250.00") in a two-decimal currency; empty: none."""
    text = amount.strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(f"{amount!r} is not an amount; type e.g. 90.00", field=field) from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise ValidationFailed("a rate has at most two decimals", field=field)
    code = currency.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValidationFailed("a currency is three letters, e.g. EUR", field="currency")
    return Money(int(value * 100), code)


def rate_text(rate: Money | None) -> str:
    return "" if rate is None else format_minor(rate.amount).replace(",", "")


class NewTypeForm(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(max_length=200)]
    color: Annotated[str, msgspec.Meta(max_length=7)] = "#607D8B"
    billable_by_default: Literal["", "on"] = ""
    rate: Annotated[str, msgspec.Meta(max_length=20)] = ""
    currency: Annotated[str, msgspec.Meta(max_length=3)] = ""


class TypeForm(NewTypeForm):
    """One row's form: every field is sent, so an unchecked box means "not billable"."""


class ActiveForm(msgspec.Struct):
    active: Literal["on", "off"]


async def _context(request: Request[Any, Any, Any], page: Page, **extra: Any) -> dict[str, Any]:
    stint = stint_of(request)
    entries = await list_activity_types(stint.uow, tenant=page.principal.tenant, include_inactive=True)
    async with stint.uow() as work:
        currency = await work.tenant(page.principal.tenant.id).rates().currency()
    return page.context(entries=entries, currency=currency or "", rate_text=rate_text, **extra)


def _show(request: Request[Any, Any, Any], context: dict[str, Any]) -> Template:
    return render(request, "settings/activity_types.html", "settings/_activity_types.html", context)


class ActivityTypesPageController(Controller):
    path = "/settings/activity-types"
    include_in_schema = False

    @get("/", name="activity_types")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.MANAGE_SETTINGS)
        return _show(request, await _context(request, page))

    @post("/", status_code=200)
    async def add(
        self, request: Request[Any, Any, Any], data: Annotated[NewTypeForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, Action.MANAGE_SETTINGS)
        entry = await create_activity_type(
            stint_of(request).uow, tenant=page.principal.tenant, name=data.name, color=data.color,
            billable_by_default=data.billable_by_default == "on",
            hourly_rate=parse_rate(data.rate, data.currency),
        )
        return _show(request, await _context(request, page, done=gettext("Added %(name)s.", name=entry.name)))

    @post("/{activity_type_id:str}", status_code=200)
    async def change(
        self, request: Request[Any, Any, Any], activity_type_id: FromPath[str],
        data: Annotated[TypeForm, _URL_ENCODED],
    ) -> Template:
        page = await open_page(request, Action.MANAGE_SETTINGS)
        entry = await update_activity_type(
            stint_of(request).uow, tenant=page.principal.tenant, activity_type_id=activity_type_id,
            changes=ActivityTypeChanges(
                name=data.name, color=data.color, billable_by_default=data.billable_by_default == "on",
                hourly_rate=parse_rate(data.rate, data.currency),
            ),
        )
        return _show(request, await _context(request, page, done=gettext("Saved %(name)s.", name=entry.name)))

    @post("/{activity_type_id:str}/active", status_code=200)
    async def activate(
        self, request: Request[Any, Any, Any], activity_type_id: FromPath[str],
        data: Annotated[ActiveForm, _URL_ENCODED],
    ) -> Template:
        page = await open_page(request, Action.MANAGE_SETTINGS)
        entry = await update_activity_type(
            stint_of(request).uow, tenant=page.principal.tenant, activity_type_id=activity_type_id,
            changes=ActivityTypeChanges(active=data.active == "on"),
        )
        done = (gettext("%(name)s is active.", name=entry.name) if entry.active else
                gettext("%(name)s is inactive: kept on past worklogs, offered no more.", name=entry.name))
        return _show(request, await _context(request, page, done=done))
