"""User Management (SPEC §5, §6): users, roles, licences, flags, the default role."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.money import Money
from core.services.approvals import approvers_of, set_approvers
from core.services.editing_rule import editing_rule, set_editing_rule
from core.services.rates import user_rates
from core.services.user_deactivation import deactivate_user
from core.services.user_roles import set_default_role, set_roles
from core.services.users import add_user, list_users, update_user
from core.tenancy import User

from ..access import requires
from ..auth import TenantPrincipal
from ..deps import StintDep
from ..schemas import MoneyOut, Strict
from ..security import client_address
from .activity_types import MoneyIn, ensure_action, may_see_rates, money_in, money_out

__all__ = ["DefaultRoleController", "EditingRuleController", "UsersController"]

Role = Annotated[str, msgspec.Meta(pattern="^(none|team|product|budget|administrator)$")]


class UserOut(msgspec.Struct):
    id: str
    email: str
    name: str
    role: str
    role_is_default: bool
    licensed: bool
    collection_admin: bool
    approval_manager: bool
    #: Whether the user has set up a second factor (TOTP).
    second_factor: bool
    #: False: deactivated (no sign-in, no seat, every token refused; worklogs kept).
    active: bool
    #: The user's own hourly rate (``null``: none); only for callers whose role sees rates
    #: (Product and up: a collection admin with the Team role does not see it).
    hourly_rate: MoneyOut | msgspec.UnsetType | None = msgspec.UNSET
    #: The users who decide this user's weeks (besides the global approval managers).
    approver_ids: list[str] = msgspec.field(default_factory=list)


class UserPage(msgspec.Struct):
    items: list[UserOut]
    next_cursor: str | None
    seats_taken: int
    seats: int | None


class NewUser(Strict):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=1024)] | None = None
    role: Role | None = None
    collection_admin: bool = False
    approval_manager: bool = False


class UserChange(Strict):
    role: Role | None = None
    licensed: bool | None = None
    collection_admin: bool | None = None
    approval_manager: bool | None = None
    #: Set (money) or remove (``null``) the user's hourly rate; absent: unchanged.
    hourly_rate: MoneyIn | msgspec.UnsetType | None = msgspec.UNSET
    #: ``true`` reactivates a deactivated user (taking a seat: 409 ``seat_limit`` if none
    #: is free); ``false`` deactivates, as ``DELETE``.
    active: bool | None = None


class DefaultRole(Strict):
    role: Role


class ApproversIO(Strict):
    approver_ids: Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=100)]


UserId = Annotated[str, msgspec.Meta(max_length=64)]


class RolesIn(Strict):
    users: Annotated[list[UserId], msgspec.Meta(min_length=1, max_length=1000)]
    role: Role | None = None
    licensed: bool | None = None


class RolesOut(msgspec.Struct):
    items: list[UserOut]


class EditingRuleIn(Strict):
    #: administrators · approval_managers (+ approval managers) · product (+ Product).
    who: Annotated[str, msgspec.Meta(pattern="^(administrators|approval_managers|product)$")]


class EditingRuleOut(msgspec.Struct):
    who: str


def _out(
    user: User, licensed: bool, default_role: str, rate: Money | msgspec.UnsetType | None = msgspec.UNSET,
    approvers: list[str] | None = None,
) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.effective_role(default_role),
        role_is_default=user.role is None,
        licensed=licensed,
        collection_admin=user.collection_admin,
        approval_manager=user.approval_manager,
        second_factor=user.second_factor,
        active=user.active,
        hourly_rate=rate if rate is msgspec.UNSET else money_out(rate),
        approver_ids=approvers or [],
    )


class UsersController(Controller):
    path = "/users"
    tags = ("users",)

    # Reading the list is its own scope (a directory sync); changing users is ``admin``.
    @get("/", summary="List users with their licences",
         guards=[requires(Action.MANAGE_USERS, Scope.USERS_READ)])
    async def list(
        self,
        request: Request[TenantPrincipal, Any, Any],
        stint: StintDep,
        cursor: Annotated[str, QueryParameter(max_length=64)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> UserPage:
        tenant = request.user.tenant
        rows, taken, seats = await list_users(stint.uow, tenant=tenant, after=cursor, limit=limit + 1)
        rates = await user_rates(stint.uow, tenant=tenant) if may_see_rates(request.user) else None
        approvers = await approvers_of(stint.uow, tenant=tenant)
        more = len(rows) > limit
        items = [
            _out(user, licensed, tenant.default_role, msgspec.UNSET if rates is None else rates.get(user.id),
                 approvers.get(user.id))
            for user, licensed in rows[:limit]
        ]
        cursor_out = items[-1].id if more else None
        return UserPage(items=items, next_cursor=cursor_out, seats_taken=taken, seats=seats)

    @post("/", summary="Add a user", guards=[requires(Action.MANAGE_USERS, Scope.ADMIN)])
    async def create(
        self, request: Request[TenantPrincipal, Any, Any], data: JSONBody[NewUser], stint: StintDep
    ) -> UserOut:
        principal = request.user
        user = await add_user(
            stint.uow,
            stint.hasher,
            stint.clock,
            tenant_id=principal.tenant.id,
            actor=f"user:{principal.user.id}",
            email=data.email,
            name=data.name,
            password=data.password,
            role=data.role,
            collection_admin=data.collection_admin,
            approval_manager=data.approval_manager,
            address=client_address(request),
        )
        return _out(user, False, principal.tenant.default_role)

    @patch("/{user_id:str}", summary="Change a user's role, licence or flags",
           guards=[requires(Action.MANAGE_USERS, Scope.ADMIN)])
    async def change(
        self,
        request: Request[TenantPrincipal, Any, Any],
        user_id: FromPath[str],
        data: JSONBody[UserChange],
        stint: StintDep,
    ) -> UserOut:
        principal = request.user
        if data.hourly_rate is not msgspec.UNSET:
            # Rates are the Budget role's and the Administrators' (a collection admin manages
            # users without being either).
            await ensure_action(request, stint, Action.MANAGE_BUDGETS)
        user, licensed = await update_user(
            stint.uow,
            stint.clock,
            tenant=principal.tenant,
            actor=principal.user,
            user_id=user_id,
            role=data.role,
            licensed=data.licensed,
            collection_admin=data.collection_admin,
            approval_manager=data.approval_manager,
            address=client_address(request),
            set_hourly_rate=data.hourly_rate is not msgspec.UNSET,
            hourly_rate=None if data.hourly_rate is msgspec.UNSET else money_in(data.hourly_rate),
            active=data.active,
        )
        rate: Money | msgspec.UnsetType | None = msgspec.UNSET
        if may_see_rates(principal):
            rate = (await user_rates(stint.uow, tenant=principal.tenant)).get(user.id)
        approvers = await approvers_of(stint.uow, tenant=principal.tenant, user_id=user.id)
        return _out(user, licensed, principal.tenant.default_role, rate, approvers.get(user.id))

    @get("/{user_id:str}/approvers", summary="The user's approvers",
         guards=[requires(Action.MANAGE_USERS, Scope.USERS_READ)])
    async def approvers(
        self, request: Request[TenantPrincipal, Any, Any], user_id: FromPath[str], stint: StintDep
    ) -> ApproversIO:
        found = await approvers_of(stint.uow, tenant=request.user.tenant, user_id=user_id)
        return ApproversIO(found.get(user_id, []))

    @put("/{user_id:str}/approvers", summary="Set the user's approvers",
         guards=[requires(Action.MANAGE_USERS, Scope.ADMIN)])
    async def set_approvers(
        self, request: Request[TenantPrincipal, Any, Any], user_id: FromPath[str],
        data: JSONBody[ApproversIO], stint: StintDep,
    ) -> ApproversIO:
        principal = request.user
        saved = await set_approvers(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, user_id=user_id,
            approver_ids=data.approver_ids,
        )
        return ApproversIO(saved)

    @delete("/{user_id:str}", summary="Deactivate a user (keeps their worklogs, frees the seat)",
            status_code=200, guards=[requires(Action.MANAGE_USERS, Scope.ADMIN)])
    async def deactivate(
        self, request: Request[TenantPrincipal, Any, Any], user_id: FromPath[str], stint: StintDep
    ) -> UserOut:
        """Their tokens are refused from the next request on; ``PATCH {active: true}`` undoes it.
        Not yourself and not the last Administrator (409)."""
        principal = request.user
        user = await deactivate_user(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, user_id=user_id,
            address=client_address(request),
        )
        return _out(user, False, principal.tenant.default_role)

    @post("/roles", summary="Set the role and/or licence of many users, all or none", status_code=200,
          guards=[requires(Action.MANAGE_USERS, Scope.ADMIN)])
    async def set_roles(
        self, request: Request[TenantPrincipal, Any, Any], data: JSONBody[RolesIn], stint: StintDep
    ) -> RolesOut:
        principal = request.user
        rows = await set_roles(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, user_ids=data.users,
            role=data.role, licensed=data.licensed, address=client_address(request),
        )
        default_role = principal.tenant.default_role
        return RolesOut(items=[_out(user, licensed, default_role) for user, licensed in rows])


class EditingRuleController(Controller):
    path = "/settings/editing"
    tags = ("users",)
    guards = [requires(Action.MANAGE_SETTINGS, Scope.ADMIN)]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/", summary="Who may edit other people's time")
    async def get_rule(self, request: Request[TenantPrincipal, Any, Any], stint: StintDep) -> EditingRuleOut:
        return EditingRuleOut((await editing_rule(stint.uow, tenant=request.user.tenant)).value)

    @put("/", summary="Set who may edit other people's time")
    async def set_rule(
        self, request: Request[TenantPrincipal, Any, Any], data: JSONBody[EditingRuleIn], stint: StintDep
    ) -> EditingRuleOut:
        principal = request.user
        rule = await set_editing_rule(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, who=data.who,
            address=client_address(request),
        )
        return EditingRuleOut(rule.value)


class DefaultRoleController(Controller):
    path = "/settings/default-role"
    tags = ("users",)

    @put("/", summary="Set the default role", guards=[requires(Action.MANAGE_USERS, Scope.ADMIN)])
    async def set_role(
        self, request: Request[TenantPrincipal, Any, Any], data: JSONBody[DefaultRole], stint: StintDep
    ) -> DefaultRole:
        principal = request.user
        tenant = await set_default_role(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, role=data.role,
            address=client_address(request),
        )
        return DefaultRole(role=tenant.default_role)
