"""``/api/v1/operator/me/second-factor``: an operator sets up their second factor (TOTP).

``POST`` answers a new secret (an ``otpauth://`` URI and its base32 text, shown once);
``POST …/confirm`` with a code from the app puts it in use and answers ten recovery
codes, shown once. Until then, with ``STINT_OPERATOR_2FA_REQUIRED`` on, every other
operator route answers 403 ``second_factor_required``.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from core.services.second_factor import InvalidCode, confirm_operator_enrolment, start_operator_enrolment

from ..auth import OperatorPrincipal
from ..deps import StintDep
from ..schemas import Strict
from ..second_factor import ENROLMENT_OPT, code_attempts_key, refuse_if_too_many_codes
from ..security import client_address

__all__ = ["OperatorSecondFactorController"]

_ENROLMENT = {ENROLMENT_OPT: True}


class SecondFactorStatus(msgspec.Struct):
    enrolled: bool
    required: bool


class EnrolmentOut(msgspec.Struct):
    secret: str
    otpauth_uri: str


class ConfirmIn(Strict):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class RecoveryCodesOut(msgspec.Struct):
    recovery_codes: list[str]


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
        enrolment = await start_operator_enrolment(stint.uow, stint.codes, operator=request.user.operator)
        return EnrolmentOut(secret=enrolment.secret, otpauth_uri=enrolment.uri)

    @post("/confirm", status_code=200, opt=_ENROLMENT, summary="Confirm a code; answers the recovery codes")
    async def confirm(
        self, request: Request[OperatorPrincipal, Any, Any], data: JSONBody[ConfirmIn], stint: StintDep
    ) -> RecoveryCodesOut:
        operator = request.user.operator
        await refuse_if_too_many_codes(stint, operator.id)
        try:
            codes = await confirm_operator_enrolment(
                stint.uow, stint.codes, stint.clock, operator=operator, code=data.code,
                address=client_address(request),
            )
        except InvalidCode:
            await stint.limiter.hit(code_attempts_key(operator.id), stint.settings.rate_limit_login)
            raise
        return RecoveryCodesOut(recovery_codes=codes)
