"""Who is calling: bearer tokens for tenant users and, separately, for operators.

Tenant users and operators are separate realms (SPEC §1): an operator token is
refused on the tenant API and a tenant token on the operator API, because each
realm has its own JWT audience.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.authentication import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
)

from core.errors import InvalidCredentials
from core.services.tokens import PAT_PREFIX, authenticate_personal_token
from core.tenancy import Operator, Tenant, User
from plugins.bootstrap import Stint
from plugins.identity.tokens import OPERATOR_AUDIENCE, TENANT_AUDIENCE, AccessClaims, TokenError

from .logs import tenant_var
from .security import limit_tenant

__all__ = ["OperatorAuth", "OperatorPrincipal", "TenantAuth", "TenantPrincipal", "bearer_token"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="stint"'}


@dataclass(frozen=True, slots=True)
class TenantPrincipal:
    tenant: Tenant
    user: User
    claims: AccessClaims
    #: The personal access token's id when the caller used one, else None (a JWT).
    personal_token_id: str | None = None


@dataclass(frozen=True, slots=True)
class OperatorPrincipal:
    operator: Operator
    claims: AccessClaims


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _refuse(detail: str) -> NotAuthorizedException:
    return NotAuthorizedException(detail=detail, headers=_CHALLENGE)


def _stint(connection: ASGIConnection[Any, Any, Any, Any]) -> Stint:
    return connection.app.state.stint  # type: ignore[no-any-return]


async def _personal_token_claims(stint: Stint, token: str) -> AccessClaims:
    try:
        record = await authenticate_personal_token(stint.uow, stint.clock, token)
    except InvalidCredentials as exc:
        raise _refuse(exc.detail) from None
    return AccessClaims(
        subject=record.user_id, audience=TENANT_AUDIENCE, tenant_id=record.tenant_id,
        token_id=record.id, expires_at=record.expires_at,
    )


async def authenticate_tenant_token(stint: Stint, token: str) -> TenantPrincipal:
    """A JWT access token, or a personal access token (told apart by its prefix)."""
    personal = token.startswith(PAT_PREFIX)
    if personal:
        claims = await _personal_token_claims(stint, token)
    else:
        try:
            claims = stint.tokens.verify(token, audience=TENANT_AUDIENCE, now=stint.clock.now())
        except TokenError as exc:
            raise _refuse(str(exc)) from None
    async with stint.uow() as uow:
        tenant = await uow.directory.tenant_by_id(claims.tenant_id or "")
        user = await uow.tenant(tenant.id).user(claims.subject) if tenant else None
    if tenant is None or user is None:
        raise _refuse("the token's user no longer exists")
    tenant_var.set(tenant.slug)
    return TenantPrincipal(
        tenant=tenant, user=user, claims=claims, personal_token_id=claims.token_id if personal else None
    )


class TenantAuth(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token = bearer_token(connection)
        if token is None:
            raise _refuse("send an access token: Authorization: Bearer <token>")
        stint = _stint(connection)
        principal = await authenticate_tenant_token(stint, token)
        await limit_tenant(stint.limiter, stint.settings, principal.tenant.id)
        return AuthenticationResult(user=principal, auth=principal.claims)


class OperatorAuth(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        stint = _stint(connection)
        token = bearer_token(connection)
        if token is None:
            raise _refuse("send an operator token: Authorization: Bearer <token>")
        try:
            claims = stint.tokens.verify(token, audience=OPERATOR_AUDIENCE, now=stint.clock.now())
        except TokenError as exc:
            raise _refuse(str(exc)) from None
        async with stint.uow() as uow:
            found = await uow.directory.operator_by_id(claims.subject)
        if found is None:
            raise _refuse("the token's operator no longer exists")
        principal = OperatorPrincipal(operator=found, claims=claims)
        return AuthenticationResult(user=principal, auth=claims)
