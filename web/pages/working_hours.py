"""``/settings/working-hours``: the signed-in user's expected hours per weekday and days off
and, for Administrators, anyone's in the tenant (``?user=<id>``, linked from the Users page).
The same use cases as ``/api/v1/me/working-hours`` and ``/api/v1/users/{id}/working-hours``
(changing someone else's is audited there). A plain form: it works without JavaScript, and
htmx swaps only the form's section when it is there."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Template

from core.errors import ValidationFailed
from core.licensing.access import Action
from core.services.budget_usage import user_names
from core.services.working_hours import set_working_hours, working_hours
from core.working_hours import WEEKDAYS, WorkingHours

from ..security import client_address
from .render import Page, open_page, render, stint_of

__all__ = ["WorkingHoursPageController"]

_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)
_FULL, _PARTIAL = "settings/working_hours.html", "settings/_working_hours.html"
Form = Annotated[dict[str, str], _URL_ENCODED]
_SEPARATORS = re.compile(r"[\s,;]+")
_QUARTER = Decimal("0.25")


def _minutes(text: str, day: str) -> int:
    """Hours as typed ("7.5", "7,5", "") to whole minutes; a quarter hour at the finest."""
    value = text.strip().replace(",", ".") or "0"
    try:
        hours = Decimal(value)
    except InvalidOperation:
        raise ValidationFailed(f"{day}: give the hours as a number, such as 7.5", field=day) from None
    if not hours.is_finite() or not 0 <= hours <= 24:
        raise ValidationFailed(f"{day}: expected hours lie between 0 and 24", field=day)
    if hours % _QUARTER != 0:
        raise ValidationFailed(f"{day}: give the hours in quarter hours, such as 7.75", field=day)
    return int(hours * 60)


def _days_off(text: str) -> list[date]:
    days = []
    for token in (t for t in _SEPARATORS.split(text) if t):
        try:
            days.append(date.fromisoformat(token))
        except ValueError:
            raise ValidationFailed(f"{token[:40]!r} is not a date (YYYY-MM-DD)", field="days_off") from None
    return days


def _form_hours(data: dict[str, str]) -> WorkingHours:
    return WorkingHours.of(tuple(_minutes(data.get(day, ""), day) for day in WEEKDAYS),
                           _days_off(data.get("days_off", "")))


def _hours_text(minutes: int) -> str:
    return f"{Decimal(minutes) / 60:f}".rstrip("0").rstrip(".") if minutes % 60 else str(minutes // 60)


async def _open(request: Request[Any, Any, Any], user: str) -> tuple[Page, str]:
    """The page and whose hours it shows: one's own, or (Administrators) another user's."""
    page = await open_page(request, None)
    if user and user != page.principal.user.id:
        page = await open_page(request, Action.MANAGE_USERS)
        return page, user
    return page, page.principal.user.id


async def _context(request: Request[Any, Any, Any], page: Page, user_id: str, **extra: Any) -> dict[str, Any]:
    stint = stint_of(request)
    tenant = page.principal.tenant
    hours = await working_hours(stint.uow, tenant=tenant, user_id=user_id)
    own = user_id == page.principal.user.id
    name = page.principal.user.name if own else (
        await user_names(stint.uow, tenant=tenant, ids=[user_id])).get(user_id, "")
    return page.context(
        active="working_hours", own=own, user_id=user_id, user_name=name,
        days=[(day, _hours_text(m)) for day, m in zip(WEEKDAYS, hours.minutes, strict=True)],
        days_off="\n".join(d.isoformat() for d in hours.days_off),
        weekly=_hours_text(hours.weekly_minutes), **extra,
    )


class WorkingHoursPageController(Controller):
    path = "/settings/working-hours"
    include_in_schema = False

    @get("/", name="working_hours")
    async def show(
        self, request: Request[Any, Any, Any], user: Annotated[str, QueryParameter(max_length=64)] = "",
    ) -> Template:
        page, user_id = await _open(request, user)
        return render(request, _FULL, _PARTIAL, await _context(request, page, user_id))

    @post("/", status_code=200)
    async def save(self, request: Request[Any, Any, Any], data: Form) -> Template:
        page, user_id = await _open(request, data.get("user", "")[:64])
        stint = stint_of(request)
        principal = page.principal
        await set_working_hours(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, user_id=user_id,
            hours=_form_hours(data), address=client_address(request),
        )
        return render(request, _FULL, _PARTIAL, await _context(request, page, user_id, saved=True))
