"""Sign-in: access and refresh tokens for tenant users, access tokens for operators.

Sign-in answers a refresh token too; ``/auth/refresh`` trades it for a new pair (the
old one is spent, and presenting it again revokes its family); ``/auth/logout``
revokes the family. All of these are rate limited per client address, and failed
sign-ins per account (``web/security.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.params import JSONBody

from core.errors import InvalidCredentials
from core.services.identity import authenticate_operator, authenticate_user
from core.services.second_factor import CodeNeeded
from core.services.tokens import (
    RefreshGrant,
    issue_refresh_token,
    revoke_refresh_family,
    rotate_refresh_token,
)
from plugins.bootstrap import OPERATOR_AUDIENCE, TENANT_AUDIENCE, Stint

from ..deps import StintDep
from ..schemas import Strict
from ..security import account_key, client_address, limit_per_client, refuse_if_limited

__all__ = ["OperatorTokenController", "TokenController"]


class TokenRequest(Strict):
    tenant: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    #: The authenticator app's code, or a recovery code: needed once a second factor is set up.
    code: Annotated[str, msgspec.Meta(max_length=64)] = ""


class OperatorTokenRequest(Strict):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    #: The authenticator app's code, or a recovery code: needed once a second factor is set up.
    code: Annotated[str, msgspec.Meta(max_length=64)] = ""


class RefreshRequest(Strict):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]


class TokenPair(msgspec.Struct, omit_defaults=True):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str | None = None


async def _pair(stint: Stint, grant: RefreshGrant) -> TokenPair:
    # The access token names its sign-in, so that ending the sign-in ends it too.
    token, _ = stint.tokens.issue(
        subject=grant.user_id, audience=TENANT_AUDIENCE, tenant_id=grant.tenant_id, now=stint.clock.now(),
        session=grant.family_id,
    )
    return TokenPair(
        access_token=token,
        token_type="bearer",
        expires_in=int(stint.tokens.access_lifetime.total_seconds()),
        refresh_token=grant.refresh_token,
    )


_PUBLIC = {"exclude_from_auth": True}


class TokenController(Controller):
    path = "/auth"
    tags = ("identity",)

    @post("/token", status_code=200, opt=_PUBLIC, guards=[limit_per_client], summary="Sign in")
    async def token(
        self, data: JSONBody[TokenRequest], request: Request[Any, Any, Any], stint: StintDep
    ) -> TokenPair:
        account = account_key(data.tenant, data.email)
        limit = stint.settings.rate_limit_login
        refuse_if_limited(await stint.limiter.peek(account, limit), "failed sign-ins for this account")
        try:
            tenant, user = await authenticate_user(
                stint.uow, stint.hasher, stint.clock,
                tenant_slug=data.tenant, email=data.email, password=data.password,
                address=client_address(request), codes=stint.codes, code=data.code,
            )
        except CodeNeeded:
            raise  # the password was right: not a failed attempt
        except InvalidCredentials:
            await stint.limiter.hit(account, limit)
            raise
        grant = await issue_refresh_token(stint.uow, stint.clock, tenant_id=tenant.id, user_id=user.id)
        return await _pair(stint, grant)

    @post("/refresh", status_code=200, opt=_PUBLIC, guards=[limit_per_client],
          summary="Trade a refresh token for a new pair")
    async def refresh(
        self, data: JSONBody[RefreshRequest], request: Request[Any, Any, Any], stint: StintDep
    ) -> TokenPair:
        grant = await rotate_refresh_token(
            stint.uow, stint.clock, data.refresh_token, address=client_address(request)
        )
        return await _pair(stint, grant)

    @post("/logout", status_code=204, opt=_PUBLIC, guards=[limit_per_client],
          summary="Sign out: revoke the refresh token, every token rotated from it and their access tokens")
    async def logout(
        self, data: JSONBody[RefreshRequest], request: Request[Any, Any, Any], stint: StintDep
    ) -> None:
        # The same answer whether or not the token was live: logout reveals nothing.
        await revoke_refresh_family(
            stint.uow, stint.clock, data.refresh_token, address=client_address(request)
        )


class OperatorTokenController(Controller):
    path = "/auth"
    tags = ("operator",)

    @post("/token", status_code=200, opt=_PUBLIC, guards=[limit_per_client], summary="Operator sign in")
    async def token(
        self, data: JSONBody[OperatorTokenRequest], request: Request[Any, Any, Any], stint: StintDep
    ) -> TokenPair:
        account = account_key("operator", data.email)
        limit = stint.settings.rate_limit_login
        refuse_if_limited(await stint.limiter.peek(account, limit), "failed sign-ins for this account")
        try:
            operator = await authenticate_operator(
                stint.uow, stint.hasher, email=data.email, password=data.password,
                clock=stint.clock, address=client_address(request), codes=stint.codes, code=data.code,
            )
        except CodeNeeded:
            raise  # the password was right: not a failed attempt
        except InvalidCredentials:
            await stint.limiter.hit(account, limit)
            raise
        token, _ = stint.tokens.issue(
            subject=operator.id, audience=OPERATOR_AUDIENCE, tenant_id=None, now=stint.clock.now()
        )
        return TokenPair(
            access_token=token,
            token_type="bearer",
            expires_in=int(stint.tokens.access_lifetime.total_seconds()),
        )
