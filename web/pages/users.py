"""``/settings/users``: User Management — roles (changed inline), licences with the seat
count in view, the collection-admin and approval-manager flags, and the default role;
deactivating and reactivating users, roles and seats for the selected users at once, and
who may edit other people's time. The use cases are the API's (``core.services.users``,
``user_roles``, ``user_deactivation``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from core.licensing.access import Action
from core.licensing.roles import Permission, Role, user_may
from core.services.approvals import approvers_of
from core.services.editing_rule import editing_rule, set_editing_rule
from core.services.rates import rate_sheet, set_user_rate
from core.services.second_factor import reset_user_second_factor
from core.services.user_deactivation import deactivate_user
from core.services.user_roles import set_default_role, set_roles
from core.services.users import list_users, update_user
from plugins.i18n import gettext

from ..security import client_address
from .activity_types import parse_rate, rate_text
from .render import Page, open_page, render, stint_of

__all__ = ["UsersPageController"]

_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)
_FLAG = Literal["", "on", "off"]


class UserForm(msgspec.Struct):
    """One inline change; empty fields stay as they are."""

    role: Literal["", "none", "team", "product", "budget", "administrator"] = ""
    licensed: _FLAG = ""
    collection_admin: _FLAG = ""
    approval_manager: _FLAG = ""
    #: "on": reactivate a deactivated user.
    active: _FLAG = ""


class BulkForm(msgspec.Struct):
    """The selected users (checkboxes) and what to set on all of them ("": unchanged)."""

    users: list[Annotated[str, msgspec.Meta(max_length=64)]] = msgspec.field(default_factory=list)
    role: Literal["", "none", "team", "product", "budget", "administrator"] = ""
    licensed: _FLAG = ""


class EditingForm(msgspec.Struct):
    who: Literal["administrators", "approval_managers", "product"]


class RateForm(msgspec.Struct):
    rate: Annotated[str, msgspec.Meta(max_length=20)] = ""
    currency: Annotated[str, msgspec.Meta(max_length=3)] = ""


class DefaultRoleForm(msgspec.Struct):
    role: Literal["none", "team", "product", "budget", "administrator"]


def _flag(value: str) -> bool | None:
    return None if value == "" else value == "on"


async def _shown(request: Request[Any, Any, Any], page: Page, **extra: Any) -> Template:
    """The users page (or its partial, for htmx) as it stands after an action."""
    context = await _context(request, page, **extra)
    return render(request, "settings/users.html", "settings/_users.html", context)


async def _context(request: Request[Any, Any, Any], page: Page, **extra: Any) -> dict[str, Any]:
    stint = stint_of(request)
    async with stint.uow() as work:
        # The tenant as stored now: the default role may have just changed.
        tenant = await work.directory.tenant_by_id(page.principal.tenant.id)
    assert tenant is not None
    rows, taken, seats = await list_users(stint.uow, tenant=tenant, limit=500)
    role = Role(page.principal.user.effective_role(tenant.default_role))
    # Rates: seen by Product and up, set by Budget and up (a collection admin with the Team
    # role manages users but sees no one's rate).
    sees_rates = user_may(role, Permission.VIEW_REPORTS)
    sheet = await rate_sheet(stint.uow, tenant=tenant, limit=500) if sees_rates else None
    names = {user.id: user.name or user.email for user, _ in rows}
    approvers = await approvers_of(stint.uow, tenant=tenant)
    return page.context(
        # Who decides each user's weeks besides the global approval managers, by name.
        approvers={user: [names.get(a, a) for a in ids] for user, ids in approvers.items()},
        rates={user.id: rate for user, rate in sheet.users} if sheet else None,
        rate_currency=sheet.currency if sheet else None,
        may_set_rates=user_may(role, Permission.MANAGE_BUDGETS),
        rate_text=rate_text,
        rows=[(user, licensed) for user, licensed in rows],
        seats_taken=taken,
        seats=seats,
        roles=[role.value for role in Role],
        default_role=tenant.default_role,
        editing_rule=(await editing_rule(stint.uow, tenant=tenant)).value,
        # Removing a user's second factor is the Administrators' (as the API's).
        administrator=page.nav.get("devops", False),
        **extra,
    )


class UsersPageController(Controller):
    path = "/settings/users"
    include_in_schema = False

    @get("/", name="users")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.MANAGE_USERS)
        return await _shown(request, page)

    @post("/user/{user_id:str}", status_code=200)
    async def change(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[str],
        data: Annotated[UserForm, _URL_ENCODED],
    ) -> Template:
        page = await open_page(request, Action.MANAGE_USERS)
        stint = stint_of(request)
        user, _ = await update_user(
            stint.uow,
            stint.clock,
            tenant=page.principal.tenant,
            actor=page.principal.user,
            user_id=user_id,
            role=data.role or None,
            licensed=_flag(data.licensed),
            collection_admin=_flag(data.collection_admin),
            approval_manager=_flag(data.approval_manager),
            address=client_address(request),
            active=_flag(data.active),
        )
        # The whole table comes back: the seat count in its heading moves with a licence.
        return await _shown(request, page, done=gettext("Saved %(email)s.", email=user.email))

    @post("/user/{user_id:str}/second-factor/remove", status_code=200)
    async def remove_second_factor(
        self, request: Request[Any, Any, Any], user_id: FromPath[str]
    ) -> Template:
        page = await open_page(request, Action.MANAGE_SETTINGS)
        stint = stint_of(request)
        await reset_user_second_factor(
            stint.uow, stint.clock, actor=page.principal.user, user_id=user_id,
            address=client_address(request),
        )
        done = gettext("The second factor is removed: the user sets up a new one.")
        return await _shown(request, page, done=done)

    @post("/user/{user_id:str}/rate", status_code=200)
    async def rate(
        self, request: Request[Any, Any, Any], user_id: FromPath[str], data: Annotated[RateForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, Action.MANAGE_BUDGETS)
        stint = stint_of(request)
        user, rate = await set_user_rate(
            stint.uow, tenant=page.principal.tenant, user_id=user_id,
            rate=parse_rate(data.rate, data.currency),
        )
        done = (gettext("%(email)s: no hourly rate.", email=user.email) if rate is None
                else gettext("%(email)s: %(rate)s an hour.", email=user.email, rate=rate))
        return await _shown(request, page, done=done)

    @post("/default-role", status_code=200)
    async def default_role(
        self, request: Request[Any, Any, Any], data: Annotated[DefaultRoleForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, Action.MANAGE_USERS)
        stint = stint_of(request)
        await set_default_role(
            stint.uow, stint.clock, tenant=page.principal.tenant, actor=page.principal.user, role=data.role,
            address=client_address(request),
        )
        return await _shown(request, page, done=gettext("The default role is now %(role)s.", role=data.role))

    @post("/user/{user_id:str}/deactivate", status_code=200)
    async def deactivate(self, request: Request[Any, Any, Any], user_id: FromPath[str]) -> Template:
        """The button asks for a confirmation first (``hx-confirm``)."""
        page = await open_page(request, Action.MANAGE_USERS)
        stint = stint_of(request)
        user = await deactivate_user(
            stint.uow, stint.clock, tenant=page.principal.tenant, actor=page.principal.user,
            user_id=user_id, address=client_address(request),
        )
        done = gettext("%(email)s is deactivated: their seat is free and their worklogs are kept.",
                       email=user.email)
        return await _shown(request, page, done=done)

    @post("/bulk", status_code=200)
    async def bulk(
        self, request: Request[Any, Any, Any], data: Annotated[BulkForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, Action.MANAGE_USERS)
        stint = stint_of(request)
        rows = await set_roles(
            stint.uow, stint.clock, tenant=page.principal.tenant, actor=page.principal.user,
            user_ids=data.users, role=data.role or None, licensed=_flag(data.licensed),
            address=client_address(request),
        )
        return await _shown(request, page, done=gettext("Saved %(count)s users.", count=len(rows)))

    @post("/editing", status_code=200)
    async def editing(
        self, request: Request[Any, Any, Any], data: Annotated[EditingForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, Action.MANAGE_SETTINGS)
        stint = stint_of(request)
        await set_editing_rule(
            stint.uow, stint.clock, tenant=page.principal.tenant, actor=page.principal.user,
            who=data.who, address=client_address(request),
        )
        return await _shown(request, page, done=gettext("Saved who may edit other people's time."))
