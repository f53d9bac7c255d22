"""``/api/v1/me/working-hours`` (every user, their own) and ``/api/v1/users/{id}/working-hours``
(Administrators, anyone's in the tenant): expected hours per weekday and days off. A PUT
replaces both; a user who never set them has 8 hours Monday to Friday and no days off."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, get, put
from litestar.params import FromPath, JSONBody

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.working_hours import set_working_hours, working_hours
from core.working_hours import MAX_DAYS_OFF, WEEKDAYS, WorkingHours

from ..access import requires
from ..auth import TenantRequest
from ..deps import StintDep
from ..schemas import Strict
from ..security import client_address

__all__ = ["MyWorkingHoursController", "UserWorkingHoursController"]

Hours = Annotated[float, msgspec.Meta(ge=0, le=24)]


class WeekHours(Strict):
    monday: Hours
    tuesday: Hours
    wednesday: Hours
    thursday: Hours
    friday: Hours
    saturday: Hours
    sunday: Hours


class WorkingHoursIn(Strict):
    hours: WeekHours
    days_off: Annotated[list[date], msgspec.Meta(max_length=MAX_DAYS_OFF)] = []  # noqa: RUF012 - msgspec copies it


class WeekHoursOut(msgspec.Struct):
    monday: float
    tuesday: float
    wednesday: float
    thursday: float
    friday: float
    saturday: float
    sunday: float


class WorkingHoursOut(msgspec.Struct):
    hours: WeekHoursOut
    weekly_hours: float
    days_off: list[date]


def _model(data: WorkingHoursIn) -> WorkingHours:
    given = msgspec.structs.asdict(data.hours)
    return WorkingHours.of(tuple(round(given[day] * 60) for day in WEEKDAYS), data.days_off)


def _out(hours: WorkingHours) -> WorkingHoursOut:
    week = WeekHoursOut(**{day: m / 60 for day, m in zip(WEEKDAYS, hours.minutes, strict=True)})
    return WorkingHoursOut(hours=week, weekly_hours=hours.weekly_minutes / 60, days_off=list(hours.days_off))


class MyWorkingHoursController(Controller):
    path = "/me/working-hours"
    tags = ("me",)
    guards = [requires(Action.USE_API, Scope.ADMIN)]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/", summary="The caller's expected hours per weekday and days off")
    async def show(self, request: TenantRequest, stint: StintDep) -> WorkingHoursOut:
        principal = request.user
        return _out(await working_hours(stint.uow, tenant=principal.tenant, user_id=principal.user.id))

    @put("/", summary="Set the caller's expected hours per weekday and days off")
    async def change(
        self, request: TenantRequest, data: JSONBody[WorkingHoursIn], stint: StintDep
    ) -> WorkingHoursOut:
        principal = request.user
        saved = await set_working_hours(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, user_id=principal.user.id,
            hours=_model(data), address=client_address(request),
        )
        return _out(saved)


class UserWorkingHoursController(Controller):
    path = "/users/{user_id:str}/working-hours"
    tags = ("users",)
    guards = [requires(Action.MANAGE_USERS, Scope.ADMIN)]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/", summary="A user's expected hours per weekday and days off: Administrators")
    async def show(self, request: TenantRequest, user_id: FromPath[str], stint: StintDep) -> WorkingHoursOut:
        return _out(await working_hours(stint.uow, tenant=request.user.tenant, user_id=user_id))

    @put("/", summary="Set a user's expected hours per weekday and days off: Administrators")
    async def change(
        self, request: TenantRequest, user_id: FromPath[str], data: JSONBody[WorkingHoursIn], stint: StintDep
    ) -> WorkingHoursOut:
        principal = request.user
        saved = await set_working_hours(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, user_id=user_id,
            hours=_model(data), address=client_address(request),
        )
        return _out(saved)
