"""``/api/v1/activity-types`` (the tenant's catalogue) and ``/api/v1/user-rates`` (SPEC §12).

Every user with a seat lists the active activity types (worklog and timer forms offer them);
Administrators list inactive ones too, add and change them. Rates are money: only roles that
see the tenant's figures (Product, Budget, Administrator: ``view_reports``) see them, and the
Budget role and Administrators (``manage_budgets``) set user rates.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from core.activities import ActivityType, ActivityTypeChanges
from core.activities.model import KEEP
from core.identity.scopes import Scope
from core.licensing.access import Action
from core.licensing.roles import Permission, Role, user_may
from core.money import Money
from core.rates import MAX_HOURLY_MINOR
from core.services.access import ensure_access
from core.services.activity_types import create_activity_type, list_activity_types, update_activity_type
from core.services.rates import rate_sheet, set_user_rate
from core.tenancy import User

from ..access import requires
from ..auth import TenantPrincipal, TenantRequest
from ..deps import StintDep
from ..schemas import MoneyOut, Strict, cursor_text, opaque_cursor

__all__ = [
    "ActivityTypeOut",
    "ActivityTypesController",
    "MoneyIn",
    "UserRatesController",
    "ensure_action",
    "may_see_rates",
    "money_in",
    "money_out",
]



class MoneyIn(Strict):
    """An hourly rate: integer minor units (cents) and an ISO currency, as API.md's money."""

    amount: Annotated[int, msgspec.Meta(ge=0, le=MAX_HOURLY_MINOR)]
    currency: Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]


def money_in(value: MoneyIn | None) -> Money | None:
    return None if value is None else Money(value.amount, value.currency)


def money_out(value: Money | None) -> MoneyOut | None:
    return None if value is None else MoneyOut(amount=value.amount, currency=value.currency)


def may_see_rates(principal: TenantPrincipal) -> bool:
    """Product, Budget and Administrators see rates; Team does not see what colleagues cost."""
    role = Role(principal.user.effective_role(principal.tenant.default_role))
    return user_may(role, Permission.VIEW_REPORTS)


class ActivityTypeOut(msgspec.Struct, omit_defaults=True):
    id: str
    name: str
    color: str
    billable_by_default: bool
    active: bool
    #: Only for roles that see rates (absent otherwise); ``null``: no rate of its own.
    hourly_rate: MoneyOut | msgspec.UnsetType | None = msgspec.UNSET


class ActivityTypeList(msgspec.Struct):
    items: list[ActivityTypeOut]
    next_cursor: str | None


Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Color = Annotated[str, msgspec.Meta(pattern="^#[0-9A-Fa-f]{6}$")]


class NewActivityType(Strict):
    name: Name
    color: Color | None = None
    billable_by_default: bool = False
    hourly_rate: MoneyIn | None = None


class ActivityTypePatch(Strict):
    """Only the fields sent change; ``hourly_rate: null`` removes the entry's own rate."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    color: Color | msgspec.UnsetType = msgspec.UNSET
    billable_by_default: bool | msgspec.UnsetType = msgspec.UNSET
    hourly_rate: MoneyIn | msgspec.UnsetType | None = msgspec.UNSET


def activity_type_out(entry: ActivityType, *, with_rate: bool) -> ActivityTypeOut:
    out = ActivityTypeOut(
        id=entry.id, name=entry.name, color=entry.color,
        billable_by_default=entry.billable_by_default, active=entry.active,
    )
    if with_rate:
        out.hourly_rate = money_out(entry.hourly_rate)
    return out


def _keep(value: Any) -> Any:
    return KEEP if value is msgspec.UNSET else value


async def ensure_action(request: TenantRequest, stint: Any, action: Action) -> None:
    principal = request.user
    await ensure_access(
        stint.uow, stint.clock, tenant=principal.tenant, user=principal.user, action=action,
        grace_days=stint.settings.grace_days, clock_tolerance=stint.settings.clock_tolerance,
        cache=principal.cache or stint.access_cache,
    )


class ActivityTypesController(Controller):
    path = "/activity-types"
    tags = ("activity types",)

    @get("/", summary="The tenant's activity types (active ones; ?include_inactive=true: Administrators)",
         guards=[requires(Action.TRACK_TIME, Scope.TRACKING)])
    async def list(
        self, request: TenantRequest, stint: StintDep,
        include_inactive: Annotated[bool, QueryParameter()] = False,
        cursor: Annotated[str, QueryParameter(max_length=200)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> ActivityTypeList:
        if include_inactive:
            await ensure_action(request, stint, Action.MANAGE_SETTINGS)
        entries = await list_activity_types(
            stint.uow, tenant=request.user.tenant, include_inactive=include_inactive,
            after=cursor_text(cursor) if cursor else None, limit=limit + 1,
        )
        with_rate = may_see_rates(request.user)
        page = entries[:limit]
        return ActivityTypeList(
            items=[activity_type_out(e, with_rate=with_rate) for e in page],
            next_cursor=opaque_cursor(page[-1].id) if len(entries) > limit else None,
        )

    @post("/", summary="Add an activity type (Administrators)", status_code=201,
          guards=[requires(Action.MANAGE_SETTINGS, Scope.ADMIN)])
    async def create(
        self, request: TenantRequest, data: JSONBody[NewActivityType], stint: StintDep
    ) -> ActivityTypeOut:
        entry = await create_activity_type(
            stint.uow, tenant=request.user.tenant, name=data.name, color=data.color,
            billable_by_default=data.billable_by_default, hourly_rate=money_in(data.hourly_rate),
        )
        return activity_type_out(entry, with_rate=True)

    @patch("/{activity_type_id:str}", summary="Rename, recolour, reprice or (de)activate an activity type",
           guards=[requires(Action.MANAGE_SETTINGS, Scope.ADMIN)])
    async def change(
        self, request: TenantRequest, activity_type_id: FromPath[str], data: JSONBody[ActivityTypePatch],
        stint: StintDep,
    ) -> ActivityTypeOut:
        rate = data.hourly_rate
        changes = ActivityTypeChanges(
            name=_keep(data.name), active=_keep(data.active), color=_keep(data.color),
            billable_by_default=_keep(data.billable_by_default),
            hourly_rate=KEEP if rate is msgspec.UNSET else money_in(rate),
        )
        entry = await update_activity_type(
            stint.uow, tenant=request.user.tenant, activity_type_id=activity_type_id, changes=changes
        )
        return activity_type_out(entry, with_rate=True)


class UserRateOut(msgspec.Struct):
    user_id: str
    name: str
    email: str
    hourly_rate: MoneyOut | None


class UserRateList(msgspec.Struct):
    #: The tenant's rate currency (fixed by its first rate), ``null`` while it has none.
    currency: str | None
    items: list[UserRateOut]
    next_cursor: str | None


class UserRateIn(Strict):
    hourly_rate: MoneyIn | None


class UserRatesController(Controller):
    path = "/user-rates"
    tags = ("rates",)

    @get("/", summary="Every user's hourly rate (Product, Budget, Administrators)",
         guards=[requires(Action.VIEW_REPORTS, Scope.REPORTING_READ)])
    async def list(
        self, request: TenantRequest, stint: StintDep,
        cursor: Annotated[str, QueryParameter(max_length=64)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> UserRateList:
        sheet = await rate_sheet(stint.uow, tenant=request.user.tenant, after=cursor, limit=limit + 1)
        page = sheet.users[:limit]
        return UserRateList(
            currency=sheet.currency,
            items=[_rate_out(user, rate) for user, rate in page],
            next_cursor=page[-1][0].id if len(sheet.users) > limit else None,
        )

    @put("/{user_id:str}", summary="Set or remove a user's hourly rate (Budget, Administrators)",
         guards=[requires(Action.MANAGE_BUDGETS, Scope.ADMIN)])
    async def set_rate(
        self, request: TenantRequest, user_id: FromPath[str], data: JSONBody[UserRateIn], stint: StintDep
    ) -> UserRateOut:
        user, rate = await set_user_rate(
            stint.uow, tenant=request.user.tenant, user_id=user_id, rate=money_in(data.hourly_rate)
        )
        return _rate_out(user, rate)


def _rate_out(user: User, rate: Money | None) -> UserRateOut:
    return UserRateOut(user_id=user.id, name=user.name, email=user.email, hourly_rate=money_out(rate))
