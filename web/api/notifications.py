"""``/api/v1/me/notifications`` (every user: which notification mails they get) and
``/api/v1/settings/notifications`` (Administrators: the tenant's defaults for users who have
not chosen). A PUT names only the kinds it changes; an unknown kind is a 422 and nothing is
stored."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, put
from litestar.params import JSONBody

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.notification_preferences import (
    my_notifications,
    set_my_notifications,
    set_tenant_notifications,
    tenant_notifications,
)

from ..access import requires
from ..auth import TenantRequest
from ..deps import StintDep
from ..schemas import Strict
from ..security import client_address

__all__ = ["MyNotificationsController", "NotificationSettingsController"]



class KindsIn(Strict, omit_defaults=True):
    """The kinds to change; a kind left out keeps its setting."""

    missing_time: bool | None = None
    timer_running: bool | None = None
    seat_requests: bool | None = None
    trial_ending: bool | None = None
    payment_failed: bool | None = None
    invoice_issued: bool | None = None
    approvals: bool | None = None


class NotificationsIn(Strict):
    kinds: KindsIn


class KindsOut(msgspec.Struct):
    missing_time: bool
    timer_running: bool
    seat_requests: bool
    trial_ending: bool
    payment_failed: bool
    invoice_issued: bool
    approvals: bool


class NotificationsOut(msgspec.Struct):
    kinds: KindsOut


def _given(data: NotificationsIn) -> dict[str, bool]:
    return {kind: value for kind, value in msgspec.structs.asdict(data.kinds).items() if value is not None}


def _out(kinds: dict[str, bool]) -> NotificationsOut:
    return NotificationsOut(kinds=KindsOut(**kinds))


class MyNotificationsController(Controller):
    path = "/me/notifications"
    tags = ("me",)
    guards = [requires(Action.USE_API, Scope.ADMIN)]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/", summary="Which notification mails the caller gets")
    async def show(self, request: TenantRequest, stint: StintDep) -> NotificationsOut:
        principal = request.user
        return _out(await my_notifications(stint.uow, tenant=principal.tenant, user=principal.user))

    @put("/", summary="Turn notification kinds on or off for the caller")
    async def change(
        self, request: TenantRequest, data: JSONBody[NotificationsIn], stint: StintDep
    ) -> NotificationsOut:
        principal = request.user
        kinds = await set_my_notifications(
            stint.uow, tenant=principal.tenant, user=principal.user, kinds=_given(data)
        )
        return _out(kinds)


class NotificationSettingsController(Controller):
    path = "/settings/notifications"
    tags = ("settings",)
    guards = [requires(Action.MANAGE_SETTINGS, Scope.ADMIN)]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/", summary="The tenant's default notification kinds")
    async def show(self, request: TenantRequest, stint: StintDep) -> NotificationsOut:
        return _out(await tenant_notifications(stint.uow, tenant=request.user.tenant))

    @put("/", summary="Set the tenant's default notification kinds (users who chose keep their choice)")
    async def change(
        self, request: TenantRequest, data: JSONBody[NotificationsIn], stint: StintDep
    ) -> NotificationsOut:
        principal = request.user
        kinds = await set_tenant_notifications(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, kinds=_given(data),
            address=client_address(request),
        )
        return _out(kinds)
