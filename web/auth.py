"""Who is calling: bearer tokens for tenant users and, separately, for operators.

Tenant users and operators are separate realms (SPEC §1): an operator token is
refused on the tenant API and a tenant token on the operator API, because each
realm has its own JWT audience.

A tenant user's access token belongs to a sign-in (its ``sid``, the refresh-token
family). Whether that sign-in was revoked is cached beside the caller's rows under the
user's generation, which revoking moves after its commit: the next request, in this
process or any other sharing the cache, is refused with 401 ``token_revoked``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.authentication import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
)
from litestar.types import ASGIApp, Receive, Send
from litestar.types import Scope as ASGIScope

from core.errors import InvalidCredentials
from core.identity.scopes import Scope, scopes_of_text
from core.origin import Origin, Source, act_as, acting
from core.services.tokens import PAT_PREFIX, authenticate_personal_token, session_revoked
from core.tenancy import Deployment, LicensingMode, Operator, Tenant, User
from plugins.bootstrap import OPERATOR_AUDIENCE, TENANT_AUDIENCE, AccessClaims, Stint, TokenError

from .deps import provide_stint
from .lean import AUTHENTICATED
from .logs import tenant_var
from .security import limit_tenant, refuse_if_tenant_limited, tenant_counter

__all__ = [
    "OperatorAuth",
    "OperatorPrincipal",
    "TenantAuth",
    "TenantPrincipal",
    "TenantRequest",
    "TokenRefused",
    "authenticate_lean",
    "bearer_token",
]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="stint"'}
#: How long a signed-in user's tenant and user rows may be reused without reading them.
#: Every change to them moves a generation (``plugins/storage/changes.py``), so this only
#: bounds what a change made outside the repositories could leave behind.
PRINCIPAL_TTL_SECONDS = 60


@dataclass(frozen=True, slots=True)
class TenantPrincipal:
    tenant: Tenant
    user: User
    claims: AccessClaims
    #: The personal access token's id when the caller used one, else None (a JWT).
    personal_token_id: str | None = None
    #: What the token may be used for (``core.identity.scopes``); None: everything the user's
    #: role allows (a password sign-in's access token, a personal token made without scopes).
    scopes: frozenset[Scope] | None = None
    #: The decision cache as this request sees it: what authentication read ahead (one
    #: Redis round trip for the caller's rows, their decisions and the rate limit), else
    #: None (use ``stint.access_cache``).
    cache: Any = dataclasses.field(default=None, compare=False, repr=False)


#: A request a tenant's user made (``request.user`` is their principal): the handlers' type.
TenantRequest = Request[TenantPrincipal, Any, State]


@dataclass(frozen=True, slots=True)
class OperatorPrincipal:
    operator: Operator
    claims: AccessClaims


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    return _bearer(connection.headers.get("authorization", ""))


def _bearer(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _raw_bearer(headers: Any) -> str | None:
    """:func:`bearer_token` from the scope's raw headers (names lower-case, as ASGI has them),
    without building the request's header map."""
    for name, value in headers:
        if name == b"authorization":
            return _bearer(value.decode("latin-1"))
    return None


class TokenRefused(NotAuthorizedException):
    """401 with a problem ``code`` of its own (``web/problems.py`` reads it)."""

    def __init__(self, detail: str, code: str) -> None:
        super().__init__(detail=detail, headers=_CHALLENGE)
        self.code = code


def _refuse(detail: str) -> NotAuthorizedException:
    return NotAuthorizedException(detail=detail, headers=_CHALLENGE)


def _stint(connection: ASGIConnection[Any, Any, Any, Any]) -> Stint:
    return provide_stint(connection.app.state)


def _plain(value: Any) -> dict[str, Any]:
    return {
        k: v.isoformat() if isinstance(v, datetime) else v for k, v in dataclasses.asdict(value).items()
    }


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _from_plain(found: dict[str, Any]) -> tuple[Tenant, User]:
    t, u = dict(found["tenant"]), dict(found["user"])
    tenant = Tenant(**{
        **t, "deployment": Deployment(t["deployment"]), "licensing_mode": LicensingMode(t["licensing_mode"]),
        "uninstalled_at": _when(t["uninstalled_at"]), "created_at": _when(t["created_at"]),
    })
    return tenant, User(**{**u, "last_used_at": _when(u["last_used_at"])})


#: Principals built per app (``stint.principal_memo``), by (principal key, stamp); bounded.
_BUILT_MAX = 20_000


def _principal_key(tenant_id: str, user_id: str) -> tuple[str, tuple[str, ...]]:
    # Under "*" too: Redis's return bumps "*" (a change made while it was down could not
    # move the tenant's or the user's generation), and that must reach the cached rows.
    return f"principal:{tenant_id}:{user_id}", (f"t:{tenant_id}", f"u:{user_id}", "*")


def _session_key(tenant_id: str, user_id: str, session: str) -> tuple[str, tuple[str, ...]]:
    # Revoking a family moves the user's generation (token_repo.revoke_family).
    return f"session:{tenant_id}:{session}", (f"u:{user_id}", "*")


async def _refuse_if_revoked(stint: Stint, cache: Any, tenant_id: str, user_id: str, session: str) -> None:
    key, scopes = _session_key(tenant_id, user_id, session)
    found = await cache.get(key, scopes)
    if found.value is not None:
        revoked = bool(found.value["revoked"])
    else:
        revoked = await session_revoked(stint.uow, tenant_id=tenant_id, user_id=user_id, family_id=session)
        await cache.put(key, found.stamp, {"revoked": revoked}, PRINCIPAL_TTL_SECONDS)
    if revoked:
        raise TokenRefused("this sign-in has ended (signed out, or its refresh token was reused)",
                           "token_revoked")


async def _tenant_and_user(
    stint: Stint, cache: Any, tenant_id: str, user_id: str
) -> tuple[Tenant, User] | None:
    """The caller's tenant and user: from the cache while neither changed, else the database."""
    key, scopes = _principal_key(tenant_id, user_id)
    found = await cache.get(key, scopes)
    cached, stamp = found.value, found.stamp
    if cached is not None:
        # The same stamp means the same rows: build the values once, not on every request.
        # Kept on the app, not the module: stamps are only meaningful within one app's cache.
        memo = stint.principal_memo
        built = memo.get((key, stamp))
        if built is None:
            if len(memo) >= _BUILT_MAX:
                memo.clear()
            built = memo[(key, stamp)] = _from_plain(cached)
        return built
    async with stint.uow() as uow:
        tenant = await uow.directory.tenant_by_id(tenant_id)
        user = await uow.tenant(tenant.id).users().get(user_id) if tenant else None
    if tenant is None or user is None:
        return None
    await cache.put(key, stamp, {"tenant": _plain(tenant), "user": _plain(user)}, PRINCIPAL_TTL_SECONDS)
    return tenant, user


async def _personal_token(stint: Stint, token: str) -> tuple[AccessClaims, frozenset[Scope] | None]:
    try:
        record = await authenticate_personal_token(stint.uow, stint.clock, token)
    except InvalidCredentials as exc:
        raise _refuse(exc.detail) from None
    claims = AccessClaims(
        subject=record.user_id, audience=TENANT_AUDIENCE, tenant_id=record.tenant_id,
        token_id=record.id, expires_at=record.expires_at,
    )
    return claims, record.scopes


async def authenticate_tenant_token(stint: Stint, token: str, *, count: bool = False) -> TenantPrincipal:
    """A JWT access token, or a personal access token (told apart by its prefix).

    The caller's rows, the cached decisions their earlier requests looked up and (with
    ``count``) the tenant's rate-limit hit are read in one round trip when the cache is
    Redis (``read_ahead``); the principal carries that read as its ``cache``.
    """
    personal = token.startswith(PAT_PREFIX)
    token_scopes: frozenset[Scope] | None = None
    if personal:
        claims, token_scopes = await _personal_token(stint, token)
    else:
        try:
            claims = stint.tokens.verify(token, audience=TENANT_AUDIENCE, now=stint.clock.now())
        except TokenError as exc:
            raise _refuse(str(exc)) from None
        # An app's token (``core.identity.oauth``) holds exactly the scopes consented to.
        token_scopes = scopes_of_text(claims.scope)
    tenant_id, user_id = claims.tenant_id or "", claims.subject
    key, scopes = _principal_key(tenant_id, user_id)
    keys = (key,) if claims.family is None else (key, _session_key(tenant_id, user_id, claims.family)[0])
    counter = tenant_counter(stint.settings, tenant_id) if count else None
    cache, hit = await stint.access_cache.read_ahead(f"{tenant_id}:{user_id}", keys, scopes, counter=counter)
    found = await _tenant_and_user(stint, cache, tenant_id, user_id)
    if found is None:
        raise _refuse("the token's user no longer exists")
    if not found[1].active:
        # The cached principal moves with the user's row: refused from the next request on.
        raise TokenRefused("this user has been deactivated", "user_deactivated")
    if claims.family is not None:
        await _refuse_if_revoked(stint, cache, tenant_id, user_id, claims.family)
    tenant, user = found
    tenant_var.set(tenant.slug)
    act_as(user.id)  # the changes this request makes are theirs (the worklog history)
    if count:
        if hit is None:  # not counted in the read (in-process cache, or Redis down)
            await limit_tenant(stint.limiter, stint.settings, tenant.id)
        else:
            refuse_if_tenant_limited(hit)
    return TenantPrincipal(
        tenant=tenant, user=user, claims=claims, personal_token_id=claims.token_id if personal else None,
        scopes=token_scopes, cache=cache,
    )


class TenantAuth:
    """The tenant API's edge (pure ASGI): its requests' changes are the API's
    (``core.origin``), and each is authenticated once, before routing reaches guards or the
    handler, which read the principal from ``scope["user"]`` (``scope["auth"]``: its claims).

    What Litestar's ``AbstractAuthenticationMiddleware`` did, on the raw scope: skipped for
    routes with ``opt={exclude_from_auth_key: True}`` and for OPTIONS (preflights carry no
    credentials); a refusal raises, and the route's exception handling makes it a 401
    problem+json. Without the connection object and the header map it built per request,
    and without a second layer for the origin.
    """

    __slots__ = ("app", "exclude_opt_key", "origin")

    def __init__(self, app: ASGIApp, exclude_from_auth_key: str = "exclude_from_auth",
                 source: Source = Source.API) -> None:
        self.app = app
        self.exclude_opt_key = exclude_from_auth_key
        self.origin = Origin(source)

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        with acting(self.origin):
            if scope["type"] in ("http", "websocket") and scope.get("method") != "OPTIONS":
                handler = scope.get("route_handler")
                if handler is None or not handler.opt.get(self.exclude_opt_key):
                    # A lean route (web/lean.py) that fell through already authenticated
                    # this request: its outcome is taken, not worked out (and counted) again.
                    done = scope["state"].pop(AUTHENTICATED, None) if "state" in scope else None
                    if done is None:
                        principal = await self._authenticate(scope)
                    elif isinstance(done, BaseException):
                        raise done
                    else:
                        principal = done
                        act_as(principal.user.id)
                    scope["user"] = principal
                    scope["auth"] = principal.claims
            await self.app(scope, receive, send)

    @staticmethod
    async def _authenticate(scope: ASGIScope) -> TenantPrincipal:
        token = _raw_bearer(scope["headers"])
        if token is None:
            raise _refuse("send an access token: Authorization: Bearer <token>")
        stint = provide_stint(scope["app"].state)
        return await authenticate_tenant_token(stint, token, count=True)


async def authenticate_lean(scope: ASGIScope) -> TenantPrincipal | None:
    """``TenantAuth``'s authentication for a lean route (``web/lean.py``), inside the route's
    own ``acting``: the principal, or None when the request is to fall through to Litestar
    (no bearer token: nothing done; a refusal or an error: kept in the scope's state, for
    ``TenantAuth`` to raise where Litestar turns it into the same problem+json)."""
    token = _raw_bearer(scope["headers"])
    if token is None:
        return None
    try:
        principal = await authenticate_tenant_token(provide_stint(scope["app"].state), token, count=True)
    except Exception as exc:  # every refusal and error is Litestar's to answer
        scope["state"][AUTHENTICATED] = exc
        return None
    scope["state"][AUTHENTICATED] = principal
    return principal


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
