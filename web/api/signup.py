"""``POST /api/v1/signup``: a new tenant on a trial, with its first collection admin."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Literal

import msgspec
from litestar import Controller, post
from litestar.params import JSONBody

from core.services.signup import signup

from ..deps import StintDep
from ..schemas import Strict
from ..security import limit_signups_per_client

__all__ = ["SignupController"]


class AdminIn(Strict):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=1024)]
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""


class SignupIn(Strict):
    tenant: Annotated[str, msgspec.Meta(min_length=3, max_length=64)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    deployment: Literal["cloud", "onprem"]
    admin: AdminIn


class TenantOut(msgspec.Struct):
    slug: str
    deployment: str


class TrialOut(msgspec.Struct):
    status: str
    trial_ends_at: datetime | None


class SignupOut(msgspec.Struct):
    tenant: TenantOut
    subscription: TrialOut


class SignupController(Controller):
    path = "/signup"
    tags = ("identity",)

    @post("/", status_code=201, opt={"exclude_from_auth": True}, guards=[limit_signups_per_client],
          summary="Sign up a tenant")
    async def create(self, data: JSONBody[SignupIn], stint: StintDep) -> SignupOut:
        result = await signup(
            stint.uow,
            stint.hasher,
            stint.clock,
            slug=data.tenant,
            name=data.name,
            deployment=data.deployment,
            admin_email=data.admin.email,
            admin_password=data.admin.password,
            admin_name=data.admin.name,
            trial_days=stint.settings.trial_days,
        )
        ends = result.subscription.trial_ends_on
        return SignupOut(
            tenant=TenantOut(slug=result.tenant.slug, deployment=result.tenant.deployment.value),
            subscription=TrialOut(
                status=result.subscription.status.value,
                trial_ends_at=datetime.combine(ends, time(0), tzinfo=UTC) if ends else None,
            ),
        )
