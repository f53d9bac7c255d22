"""``/api/v1/settings/security``: whether the tenant requires a second factor of every user
(Administrators only). Turning it on answers 409 ``enrol_first`` unless the caller has one."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, put
from litestar.params import JSONBody

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.security_settings import require_second_factor

from ..access import requires
from ..auth import TenantRequest
from ..deps import StintDep
from ..schemas import Strict
from ..security import client_address

__all__ = ["SecuritySettingsController"]



class SecuritySettingsIn(Strict):
    require_second_factor: bool


class SecuritySettingsOut(msgspec.Struct):
    require_second_factor: bool


class SecuritySettingsController(Controller):
    path = "/settings/security"
    tags = ("settings",)
    guards = [requires(Action.MANAGE_SETTINGS, Scope.ADMIN)]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/", summary="The tenant's security settings")
    async def show(self, request: TenantRequest) -> SecuritySettingsOut:
        return SecuritySettingsOut(require_second_factor=request.user.tenant.require_second_factor)

    @put("/", summary="Require a second factor of every user, or stop requiring it")
    async def change(
        self, request: TenantRequest, data: JSONBody[SecuritySettingsIn], stint: StintDep
    ) -> SecuritySettingsOut:
        principal = request.user
        tenant = await require_second_factor(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user,
            required=data.require_second_factor, address=client_address(request),
        )
        return SecuritySettingsOut(require_second_factor=tenant.require_second_factor)
