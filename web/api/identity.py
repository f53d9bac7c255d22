"""Sign-in: access tokens for tenant users and for operators."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec
from litestar import Controller, post
from litestar.params import JSONBody

from core.services.identity import authenticate_operator, authenticate_user
from plugins.identity.tokens import OPERATOR_AUDIENCE, TENANT_AUDIENCE

from ..deps import StintDep
from ..schemas import Strict

__all__ = ["OperatorTokenController", "TokenController"]


class TokenRequest(Strict):
    tenant: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class OperatorTokenRequest(Strict):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class TokenPair(msgspec.Struct, omit_defaults=True):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str | None = None


class TokenController(Controller):
    path = "/auth"
    tags: ClassVar[list[str]] = ["identity"]

    @post("/token", status_code=200, opt={"exclude_from_auth": True}, summary="Sign in")
    async def token(self, data: JSONBody[TokenRequest], stint: StintDep) -> TokenPair:
        tenant, user = await authenticate_user(
            stint.uow, stint.hasher, stint.clock,
            tenant_slug=data.tenant, email=data.email, password=data.password,
        )
        token, _ = stint.tokens.issue(
            subject=user.id, audience=TENANT_AUDIENCE, tenant_id=tenant.id, now=stint.clock.now()
        )
        return TokenPair(
            access_token=token,
            token_type="bearer",
            expires_in=int(stint.tokens.access_lifetime.total_seconds()),
        )


class OperatorTokenController(Controller):
    path = "/auth"
    tags: ClassVar[list[str]] = ["operator"]

    @post("/token", status_code=200, opt={"exclude_from_auth": True}, summary="Operator sign in")
    async def token(self, data: JSONBody[OperatorTokenRequest], stint: StintDep) -> TokenPair:
        operator = await authenticate_operator(
            stint.uow, stint.hasher, email=data.email, password=data.password
        )
        token, _ = stint.tokens.issue(
            subject=operator.id, audience=OPERATOR_AUDIENCE, tenant_id=None, now=stint.clock.now()
        )
        return TokenPair(
            access_token=token,
            token_type="bearer",
            expires_in=int(stint.tokens.access_lifetime.total_seconds()),
        )
