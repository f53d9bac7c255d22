"""``/api/v1/me/profile``: the caller's name and how they read Stint (language, time zone,
durations, first day of the week). Every user, their own; a PUT changes what it names."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, put
from litestar.params import JSONBody

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.profile import Profile, ProfileChange, get_profile, update_profile

from ..access import requires
from ..auth import TenantRequest
from ..deps import StintDep
from ..schemas import Strict

__all__ = ["ProfileController"]

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class ProfileIn(Strict):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    # A plain string, checked by the use case: an unknown locale or zone is a 422 naming it.
    locale: Annotated[str, msgspec.Meta(max_length=16)] | None = None
    #: An IANA zone; "" goes back to the tenant's zone.
    time_zone: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    time_format: Literal["hm", "decimal"] | None = None
    week_starts_on: Weekday | None = None


class ProfileOut(msgspec.Struct):
    email: str
    name: str
    locale: str
    #: The caller's own zone; null: the tenant's (``tenant_time_zone``).
    time_zone: str | None
    tenant_time_zone: str
    time_format: str
    week_starts_on: str


def _out(profile: Profile) -> ProfileOut:
    return ProfileOut(**{f: getattr(profile, f) for f in ProfileOut.__struct_fields__})


class ProfileController(Controller):
    path = "/me/profile"
    tags = ("me",)

    @get("/", summary="The caller's profile", guards=[requires(Action.USE_API, Scope.TRACKING)])
    async def show(self, request: TenantRequest, stint: StintDep) -> ProfileOut:
        principal = request.user
        return _out(await get_profile(stint.uow, tenant=principal.tenant, user=principal.user))

    @put("/", summary="Change the caller's name, language, time zone, time format or week start",
         guards=[requires(Action.USE_API, Scope.ADMIN)])
    async def change(self, request: TenantRequest, data: JSONBody[ProfileIn], stint: StintDep) -> ProfileOut:
        principal = request.user
        change = ProfileChange(**msgspec.structs.asdict(data))
        return _out(await update_profile(stint.uow, stint.clock, tenant=principal.tenant,
                                         user=principal.user, change=change))
