"""``…/me/second-factor``: an operator (``/api/v1/operator``) or a tenant user (``/api/v1``)
sets up their second factor (TOTP).

``POST`` answers a new secret (an ``otpauth://`` URI and its base32 text, shown once);
``POST …/confirm`` with a code from the app puts it in use and answers ten recovery
codes, shown once. Until then, with ``STINT_OPERATOR_2FA_REQUIRED`` on (operators) or the
tenant's ``require_second_factor`` (users), every other route answers 403
``second_factor_required``. A user may switch theirs off with ``DELETE`` and a current
code or their password, unless their tenant requires one.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, JSONBody

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.second_factor import (
    Holder,
    confirm_enrolment,
    disable_second_factor,
    reset_user_second_factor,
    start_enrolment,
)
from core.tenancy import Operator, User
from plugins.bootstrap import Stint

from ..access import requires
from ..auth import OperatorPrincipal, TenantPrincipal
from ..deps import StintDep
from ..schemas import Strict
from ..second_factor import ENROLMENT_OPT, counting_wrong_codes
from ..security import client_address

__all__ = ["OperatorSecondFactorController", "SecondFactorResetController", "UserSecondFactorController"]

_ENROLMENT = {ENROLMENT_OPT: True}


class SecondFactorStatus(msgspec.Struct):
    enrolled: bool
    required: bool


class EnrolmentOut(msgspec.Struct):
    secret: str
    otpauth_uri: str


class ConfirmIn(Strict):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class DisableIn(Strict):
    """One of the two: a current code (or a recovery code), or the account's password."""

    code: Annotated[str, msgspec.Meta(max_length=64)] = ""
    password: Annotated[str, msgspec.Meta(max_length=1024)] = ""


class RecoveryCodesOut(msgspec.Struct):
    recovery_codes: list[str]


async def _start(stint: Stint, who: Operator | User) -> EnrolmentOut:
    enrolment = await start_enrolment(stint.uow, stint.codes, Holder.of(who))
    return EnrolmentOut(secret=enrolment.secret, otpauth_uri=enrolment.uri)


async def _confirm(
    stint: Stint, request: Request[Any, Any, Any], who: Operator | User, code: str
) -> RecoveryCodesOut:
    async with counting_wrong_codes(stint, who.id):
        codes = await confirm_enrolment(
            stint.uow, stint.codes, stint.clock, Holder.of(who), code=code, address=client_address(request)
        )
    return RecoveryCodesOut(recovery_codes=codes)


class OperatorSecondFactorController(Controller):
    path = "/me/second-factor"
    tags = ("operator",)

    @get("/", opt=_ENROLMENT, summary="Whether the caller has a second factor, and whether one is required")
    async def status(
        self, request: Request[OperatorPrincipal, Any, Any], stint: StintDep
    ) -> SecondFactorStatus:
        return SecondFactorStatus(
            enrolled=request.user.operator.second_factor, required=stint.settings.operator_2fa_required
        )

    @post("/", status_code=201, opt=_ENROLMENT, summary="Start setting up a second factor (TOTP)")
    async def start(self, request: Request[OperatorPrincipal, Any, Any], stint: StintDep) -> EnrolmentOut:
        return await _start(stint, request.user.operator)

    @post("/confirm", status_code=200, opt=_ENROLMENT, summary="Confirm a code; answers the recovery codes")
    async def confirm(
        self, request: Request[OperatorPrincipal, Any, Any], data: JSONBody[ConfirmIn], stint: StintDep
    ) -> RecoveryCodesOut:
        return await _confirm(stint, request, request.user.operator, data.code)


class UserSecondFactorController(Controller):
    path = "/me/second-factor"
    tags = ("identity",)
    guards = [requires(Action.USE_API, Scope.ADMIN)]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/", opt=_ENROLMENT, summary="Whether the caller has a second factor, and whether one is required")
    async def status(self, request: Request[TenantPrincipal, Any, Any]) -> SecondFactorStatus:
        principal = request.user
        return SecondFactorStatus(
            enrolled=principal.user.second_factor, required=principal.tenant.require_second_factor
        )

    @post("/", status_code=201, summary="Start setting up a second factor (TOTP)", opt=_ENROLMENT)
    async def start(self, request: Request[TenantPrincipal, Any, Any], stint: StintDep) -> EnrolmentOut:
        return await _start(stint, request.user.user)

    @post("/confirm", status_code=200, summary="Confirm a code; answers the recovery codes", opt=_ENROLMENT)
    async def confirm(
        self, request: Request[TenantPrincipal, Any, Any], data: JSONBody[ConfirmIn], stint: StintDep
    ) -> RecoveryCodesOut:
        return await _confirm(stint, request, request.user.user, data.code)

    @delete("/", status_code=204, summary="Switch the second factor off (a current code or the password)",
            opt=_ENROLMENT)
    async def disable(
        self, request: Request[TenantPrincipal, Any, Any], data: JSONBody[DisableIn], stint: StintDep
    ) -> None:
        principal = request.user
        user = principal.user
        async with counting_wrong_codes(stint, user.id):
            await disable_second_factor(
                stint.uow, stint.codes, stint.hasher, stint.clock, Holder.of(user),
                code=data.code, password=data.password, required=principal.tenant.require_second_factor,
                address=client_address(request),
            )


class SecondFactorResetController(Controller):
    path = "/users/{user_id:str}/second-factor"
    tags = ("users",)
    guards = [requires(Action.MANAGE_SETTINGS, Scope.ADMIN)]  # noqa: RUF012 - Litestar reads this class attribute

    @delete("/", status_code=204, summary="Remove a user's second factor (a lost device): Administrators")
    async def reset(
        self, request: Request[TenantPrincipal, Any, Any], user_id: FromPath[str], stint: StintDep
    ) -> None:
        await reset_user_second_factor(
            stint.uow, stint.clock, actor=request.user.user, user_id=user_id, address=client_address(request)
        )
