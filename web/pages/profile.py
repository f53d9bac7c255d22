"""``/settings/profile``: the signed-in user's name, password, language, time zone, time
format and first day of the week (every role: the header menu links it). The same use
cases as ``/api/v1/me/profile``; the answer to a save already reads in the chosen language."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from core.services.profile import (
    TIME_FORMATS,
    WEEKDAYS,
    ProfileChange,
    change_password,
    get_profile,
    update_profile,
)
from core.texts import LOCALES
from plugins.i18n import gettext as _

from .locale import read_as
from .render import Page, open_page, render, stint_of

__all__ = ["ProfilePageController"]

_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)
_FULL, _PARTIAL = "settings/profile.html", "settings/_profile.html"
#: Each language in its own words, so a reader who picked the wrong one finds theirs.
_LANGUAGES = {"en": "English", "de": "Deutsch"}
#: A choice of zones, not all 400: the form also takes any IANA name typed in.
_ZONES = (
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Vienna", "Europe/Zurich", "Europe/Paris",
    "America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Kolkata", "Asia/Tokyo",
    "Australia/Sydney",
)


class ProfileForm(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    locale: Annotated[str, msgspec.Meta(max_length=16)] = ""
    time_zone: Annotated[str, msgspec.Meta(max_length=64)] = ""
    time_format: Annotated[str, msgspec.Meta(max_length=16)] = ""
    week_starts_on: Annotated[str, msgspec.Meta(max_length=16)] = ""


class PasswordForm(msgspec.Struct):
    current_password: Annotated[str, msgspec.Meta(max_length=1024)] = ""
    new_password: Annotated[str, msgspec.Meta(max_length=2048)] = ""


async def _context(request: Request[Any, Any, Any], page: Page, **extra: Any) -> dict[str, Any]:
    principal = page.principal
    profile = await get_profile(stint_of(request).uow, tenant=principal.tenant, user=principal.user)
    weekday_names = {
        "monday": _("Monday"), "tuesday": _("Tuesday"), "wednesday": _("Wednesday"),
        "thursday": _("Thursday"), "friday": _("Friday"), "saturday": _("Saturday"), "sunday": _("Sunday"),
    }
    formats = {"hm": _("0:00 (hours and minutes)"), "decimal": _("0.0 (decimal hours)")}
    zones = list(_ZONES) if profile.time_zone in (None, *_ZONES) else [profile.time_zone, *_ZONES]
    return page.context(**{
        "active": "profile", "profile": profile,
        "languages": [(code, _LANGUAGES[code]) for code in LOCALES],
        "zones": zones, "formats": [(f, formats[f]) for f in TIME_FORMATS],
        "weekdays": [(d, weekday_names[d]) for d in WEEKDAYS],
        **extra,
    })


class ProfilePageController(Controller):
    path = "/settings/profile"
    include_in_schema = False

    @get("/", name="profile")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, None)
        return render(request, _FULL, _PARTIAL, await _context(request, page))

    @post("/", status_code=200)
    async def save(
        self, request: Request[Any, Any, Any], data: Annotated[ProfileForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, None)
        principal = page.principal
        stint = stint_of(request)
        change = ProfileChange(
            name=data.name or None, locale=data.locale or None,
            # "" in the form is "the tenant's zone", as the API's "".
            time_zone=data.time_zone, time_format=data.time_format or None,
            week_starts_on=data.week_starts_on or None,
        )
        saved = await update_profile(stint.uow, stint.clock, tenant=principal.tenant, user=principal.user,
                                     change=change)
        # This answer already speaks the language just chosen.
        read_as(saved.locale, saved.time_format, saved.week_starts_on)
        return render(request, _FULL, _PARTIAL, await _context(request, page, done=_("Saved.")))

    @post("/password", status_code=200)
    async def password(
        self, request: Request[Any, Any, Any], data: Annotated[PasswordForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, None)
        principal = page.principal
        stint = stint_of(request)
        await change_password(stint.uow, stint.hasher, tenant=principal.tenant, user=principal.user,
                              current=data.current_password, new=data.new_password)
        return render(request, _FULL, _PARTIAL,
                      await _context(request, page, done=_("Your password was changed.")))
