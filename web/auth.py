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

from core.tenancy import Operator, Tenant, User
from plugins.bootstrap import Stint
from plugins.identity.tokens import OPERATOR_AUDIENCE, TENANT_AUDIENCE, AccessClaims, TokenError

from .logs import tenant_var

__all__ = ["OperatorAuth", "OperatorPrincipal", "TenantAuth", "TenantPrincipal", "bearer_token"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="stint"'}


@dataclass(frozen=True, slots=True)
class TenantPrincipal:
    tenant: Tenant
    user: User
    claims: AccessClaims


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


async def authenticate_tenant_token(stint: Stint, token: str) -> TenantPrincipal:
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
    return TenantPrincipal(tenant=tenant, user=user, claims=claims)


class TenantAuth(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token = bearer_token(connection)
        if token is None:
            raise _refuse("send an access token: Authorization: Bearer <token>")
        principal = await authenticate_tenant_token(_stint(connection), token)
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
