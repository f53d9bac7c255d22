"""Stint's OAuth 2.0 authorisation server: Authlib's, wired to Litestar and to Stint's use cases.

Authlib (``authlib.oauth2``) does the protocol: parsing and checking requests, client
authentication, PKCE (RFC 7636), the device grant (RFC 8628), revocation (RFC 7009) and the
error bodies. Everything it stores or looks up goes through ``core.services.oauth`` and
``core.services.tokens``; the rules (S256 only, exact redirect URIs, codes good once for 60 s,
which client serves which tenant) are ``core.identity.oauth``'s.

Authlib's framework-agnostic server is synchronous and Stint's storage is async, so each
protocol step runs in a worker thread (:func:`run_protocol`) and its callbacks hop back onto
the event loop for the database (``anyio.from_thread``). Only one request's callbacks run in
its thread, so nothing is shared between threads but the app's immutable state.

Tokens are the sign-in's (``core.services.tokens``): an app's grant is a refresh-token family
naming its client and consented scopes; its access tokens are the usual JWTs with ``sid`` (the
family), ``scope`` and ``cid`` (``plugins/identity/tokens.py``), so revoking the family —
Unpair, a reused refresh token, /oauth/revoke — ends them on their next request everywhere.
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs

import anyio.from_thread
import anyio.to_thread
from authlib.oauth2 import AuthorizationServer, OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Payload, OAuth2Request, grants
from authlib.oauth2.rfc6749.errors import AccessDeniedError, InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oauth2.rfc8628 import (
    DEVICE_CODE_GRANT_TYPE,
    AuthorizationPendingError,
    DeviceAuthorizationEndpoint,
    DeviceCodeGrant,
    ExpiredTokenError,
    SlowDownError,
)
from litestar import Request

from core.errors import ValidationFailed
from core.identity.oauth import (
    DEVICE_INTERVAL,
    DEVICE_LIFETIME,
    AuthorizationCode,
    ClientKind,
    OAuthClient,
    granted_scopes,
)
from core.identity.scopes import Scope, scope_text, scopes_of_text
from core.services import oauth as apps
from core.services.tokens import (
    InvalidToken,
    RefreshGrant,
    hash_token,
    issue_refresh_token,
    rotate_refresh_token,
)
from plugins.bootstrap import TENANT_AUDIENCE, Stint, TokenError

from .security import client_address

__all__ = [
    "DEVICE_PAGE",
    "Grantee",
    "OAuthAnswer",
    "StintAuthorizationServer",
    "metadata",
    "oauth_request",
    "run_protocol",
]

# Authlib logs issued tokens at DEBUG ("Issue token %r to %r"): secrets never reach Stint's
# logs, whatever level an operator turns on (tests/integration/test_oauth.py greps them).
logging.getLogger("authlib").setLevel(logging.INFO)

#: Where a person types a device's code.
DEVICE_PAGE = "/device"
_T = TypeVar("_T")
#: Client authentication at the token, device and revocation endpoints: a public client names
#: itself (``none``), a confidential one proves its secret either way RFC 6749 §2.3.1 allows.
_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def _on_loop(fn: Callable[..., Coroutine[Any, Any, _T]], *args: Any, **kwargs: Any) -> _T:
    """Run an async use case on the event loop from the protocol's worker thread."""
    return anyio.from_thread.run(functools.partial(fn, *args, **kwargs))


# Requests and answers ------------------------------------------------------------------------


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, values: Mapping[str, list[str]]) -> None:
        self._datalist = {k: list(v) for k, v in values.items()}
        self._data = {k: v[0] for k, v in values.items() if v}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._datalist


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, method: str, uri: str, headers: Mapping[str, str], values: Mapping[str, list[str]],
                 address: str) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = _Payload(values)
        self._values = self.payload.data
        self.address = address

    @property
    def args(self) -> dict[str, str]:
        return self._values

    @property
    def form(self) -> dict[str, str]:
        return self._values


async def oauth_request(
    request: Request[Any, Any, Any], *, values: Mapping[str, list[str]] | None = None
) -> _Request:
    """The request as Authlib reads it: its parameters (the query, or the form body)."""
    if values is None:
        if request.method == "GET":
            values = parse_qs(request.url.query, keep_blank_values=True)
        else:
            values = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    # Authlib refuses plain http unless told otherwise; the transport is the deployment's
    # (TLS at the proxy, ``STINT_TRUSTED_PROXIES``), and it sees only the last hop.
    uri = "https://stint" + request.url.path
    # Litestar's headers: case-insensitive, as Authlib's lookups ("Authorization") need.
    return _Request(request.method, uri, request.headers, values, client_address(request))


@dataclass(frozen=True, slots=True)
class OAuthAnswer:
    status: int
    body: Any
    headers: list[tuple[str, str]]


async def run_protocol(step: Callable[[], _T]) -> _T:
    """One synchronous protocol step of Authlib's, in a worker thread (see the module's docstring)."""
    return await anyio.to_thread.run_sync(step)


# The models Authlib asks about ---------------------------------------------------------------


class _Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, client: OAuthClient) -> None:
        self.client = client

    def get_client_id(self) -> str:
        return self.client.id

    def get_default_redirect_uri(self) -> None:
        # Never implied: the request names the redirect URI, and it must match exactly.
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        try:
            return scope_text(granted_scopes(scope, self.client))
        except ValidationFailed:
            return None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return self.client.redirect_matches(redirect_uri)

    def check_client_secret(self, client_secret: str) -> bool:
        known = self.client.secret_hash
        return known is not None and hmac.compare_digest(known, hash_token(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.client.kind is ClientKind.PUBLIC:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and bool(self.client.redirect_uris)

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type == "authorization_code":
            return bool(self.client.redirect_uris)
        if grant_type == DEVICE_CODE_GRANT_TYPE:
            return self.client.device_grant
        return grant_type == "refresh_token"


@dataclass(frozen=True, slots=True)
class Grantee:
    """Who an app's tokens act for; ``rotated`` is the refresh grant's successor family token."""

    tenant_id: str
    user_id: str
    scopes: frozenset[Scope]
    rotated: RefreshGrant | None = None
    address: str | None = None
    #: The authorization code the tokens are for, bound to the grant they start.
    code: AuthorizationCode | None = None


class _Code:
    def __init__(self, code: AuthorizationCode) -> None:
        self.code = code
        self.code_challenge = code.code_challenge
        self.code_challenge_method = "S256"

    def get_redirect_uri(self) -> str:
        return self.code.redirect_uri

    def get_scope(self) -> str:
        return scope_text(self.code.scopes) or ""


class _Rotated:
    """A refresh token already rotated by ``core.services.tokens`` (reuse detection included)."""

    def __init__(self, grant: RefreshGrant) -> None:
        self.grant = grant

    def check_client(self, client: _Client) -> bool:
        return self.grant.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return scope_text(self.grant.scopes) or ""


class _Device:
    def __init__(self, outcome: apps.DevicePoll, found: Any, client_id: str) -> None:
        self.outcome, self.found, self.client_id = outcome, found, client_id

    def get_client_id(self) -> str:
        return self.client_id

    def get_scope(self) -> str:
        return scope_text(self.found.scopes) or ""

    def get_user_code(self) -> str:
        return str(self.found.user_code)

    def is_expired(self) -> bool:
        return self.outcome is apps.DevicePoll.EXPIRED


# The grants ----------------------------------------------------------------------------------


class _S256(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client, S256 only: ``plain`` is refused (the challenge would be the
    verifier, so a leaked authorization request would hand out the code's proof)."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ("S256",)

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE (S256) is required.",
                                      redirect_uri=redirect_uri)
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.", redirect_uri=redirect_uri)
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'.")
        super().validate_code_verifier(grant, result)


class _AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = _AUTH_METHODS

    server: StintAuthorizationServer

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        if not self.request.payload.state:
            # Required (issue #20): the app's only defence against a forged redirect to it.
            raise InvalidRequestError("Missing 'state'.", redirect_uri=redirect_uri)
        return redirect_uri

    def save_authorization_code(self, code: str, request: Any) -> None:
        grantee: Grantee = request.user
        stint = self.server.stint
        _on_loop(
            apps.issue_code, stint.uow, stint.clock, code=code, client=request.client.client,
            tenant_id=grantee.tenant_id, user_id=grantee.user_id, redirect_uri=request.payload.redirect_uri,
            code_challenge=request.payload.data["code_challenge"],
            scopes=scopes_of_text(request.scope) or frozenset(),
        )

    def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
        stint = self.server.stint
        # Taken (used up) right here: a second request with the same code finds it used, even
        # one that races this one; a failed PKCE check below burns it too.
        found = _on_loop(apps.redeem_code, stint.uow, stint.clock, code, client.get_client_id())
        return _Code(found) if found is not None else None

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        pass  # used up when it was read (query_authorization_code)

    def authenticate_user(self, authorization_code: _Code) -> Grantee:
        code = authorization_code.code
        return Grantee(code.tenant_id, code.user_id, code.scopes, address=self.request.address, code=code)


class _RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = _AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    server: StintAuthorizationServer

    def authenticate_refresh_token(self, refresh_token: str) -> _Rotated | None:
        stint = self.server.stint
        try:
            grant = _on_loop(
                rotate_refresh_token, stint.uow, stint.clock, refresh_token, address=self.request.address,
                client_id=self.request.client.get_client_id(),
            )
        except InvalidToken:
            # Unknown, expired, revoked — or used before, in which case its family (the
            # app's and the thief's tokens alike) was revoked just now.
            return None
        return _Rotated(grant)

    def authenticate_user(self, refresh_token: _Rotated) -> Grantee:
        grant = refresh_token.grant
        return Grantee(grant.tenant_id, grant.user_id, grant.scopes or frozenset(), rotated=grant)

    def revoke_old_credential(self, refresh_token: _Rotated) -> None:
        pass  # rotation marked it used (authenticate_refresh_token)


class _DeviceCodeGrant(DeviceCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = _AUTH_METHODS

    server: StintAuthorizationServer

    def authenticate_token_endpoint_client(self) -> _Client:
        # Kept on the request: the poll below is the client's own (Authlib checks the code's
        # client only after reading it, and reading an approved code uses it up).
        client: _Client = super().authenticate_token_endpoint_client()
        self.request.client = client
        return client

    def query_device_credential(self, device_code: str) -> _Device | None:
        stint = self.server.stint
        client_id = self.request.client.get_client_id()
        outcome, found = _on_loop(apps.poll_device, stint.uow, stint.clock, device_code, client_id)
        return None if outcome is apps.DevicePoll.UNKNOWN else _Device(outcome, found, client_id)

    def validate_device_credential(self, credential: _Device) -> Grantee:
        outcome = credential.outcome
        if outcome is apps.DevicePoll.EXPIRED:
            raise ExpiredTokenError()
        if outcome is apps.DevicePoll.DENIED:
            raise AccessDeniedError()
        if outcome is apps.DevicePoll.SLOW_DOWN:
            raise SlowDownError()
        if outcome is apps.DevicePoll.PENDING:
            raise AuthorizationPendingError()
        found = credential.found
        return Grantee(found.tenant_id, found.user_id, found.scopes, address=self.request.address)

    def query_user_grant(self, user_code: str) -> None:
        raise NotImplementedError  # validate_device_credential answers from the poll itself

    def should_slow_down(self, credential: _Device) -> bool:
        return credential.outcome is apps.DevicePoll.SLOW_DOWN


class _DeviceEndpoint(DeviceAuthorizationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = _AUTH_METHODS
    EXPIRES_IN = int(DEVICE_LIFETIME.total_seconds())
    INTERVAL = DEVICE_INTERVAL

    server: StintAuthorizationServer

    def create_endpoint_response(self, request: Any) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        client = self.authenticate_client(request)
        if not client.check_grant_type(DEVICE_CODE_GRANT_TYPE):
            from authlib.oauth2.rfc6749.errors import UnauthorizedClientError

            raise UnauthorizedClientError("The client may not use the device grant.")
        try:
            scopes = granted_scopes(request.payload.scope, client.client)
        except ValidationFailed:
            raise InvalidScopeError() from None
        stint = self.server.stint
        device_code, user_code = _on_loop(apps.start_device, stint.uow, stint.clock, client=client.client,
                                          scopes=scopes)
        page = stint.settings.base_url.rstrip("/") + DEVICE_PAGE
        data = {
            "device_code": device_code, "user_code": user_code, "verification_uri": page,
            "verification_uri_complete": f"{page}?user_code={user_code}",
            "expires_in": self.EXPIRES_IN, "interval": self.INTERVAL,
        }
        return 200, data, [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


class _Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = _AUTH_METHODS

    server: StintAuthorizationServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        stint = self.server.stint
        return _on_loop(_app_family_of, stint, token_string)

    def revoke_token(self, token: Any, request: Any) -> None:
        stint = self.server.stint
        _on_loop(apps.revoke_grant, stint.uow, stint.clock, tenant_id=token.tenant_id, user_id=token.user_id,
                 family_id=token.family_id, address=request.address)


@dataclass(frozen=True, slots=True)
class _Family:
    tenant_id: str
    user_id: str
    family_id: str
    client_id: str

    def check_client(self, client: _Client) -> bool:
        return self.client_id == client.get_client_id()


async def _app_family_of(stint: Stint, token: str) -> _Family | None:
    """The app grant a refresh or access token belongs to (RFC 7009 takes either)."""
    found = await apps.refresh_family(stint.uow, token)
    if found is not None:
        return _Family(found.tenant_id, found.user_id, found.family_id, found.client_id or "")
    try:
        claims = stint.tokens.verify(token, audience=TENANT_AUDIENCE, now=stint.clock.now())
    except TokenError:
        return None
    if claims.client_id is None or claims.family is None or claims.tenant_id is None:
        return None
    return _Family(claims.tenant_id, claims.subject, claims.family, claims.client_id)


# The server ----------------------------------------------------------------------------------


class StintAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, stint: Stint) -> None:
        super().__init__(scopes_supported=[s.value for s in Scope])
        self.stint = stint
        self.register_grant(_AuthorizationCodeGrant, [_S256(required=True)])
        self.register_grant(_RefreshTokenGrant)
        self.register_grant(_DeviceCodeGrant)
        self.register_endpoint(_DeviceEndpoint)
        self.register_endpoint(_Revocation)
        self.register_token_generator("default", self._tokens)

    def query_client(self, client_id: str) -> _Client | None:
        found = _on_loop(apps.find_client, self.stint.uow, client_id)
        # A disabled app is as unknown as one never registered: every endpoint refuses it.
        return _Client(found) if found is not None and not found.disabled else None

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        pass  # the refresh-token family is stored as the token is made (_tokens)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def create_oauth2_request(self, request: Any) -> Any:
        return request  # built by oauth_request() before the protocol step

    def create_json_request(self, request: Any) -> Any:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> OAuthAnswer:
        return OAuthAnswer(status, body, list(headers))

    def _tokens(
        self, *, grant_type: str, client: _Client, user: Grantee, scope: str | None = None,
        expires_in: int | None = None, include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        return _on_loop(_issue, self.stint, client.client, user, grant_type)


async def _issue(stint: Stint, client: OAuthClient, user: Grantee, grant_type: str) -> dict[str, Any]:
    """The token answer: a new grant's first family token, or the rotated one, and an access token
    that carries the family (``sid``), the consented scopes and the app."""
    if not client.serves(user.tenant_id):
        raise OAuth2Error(error="invalid_grant", description="This app is not open to the user's tenant.")
    family = user.rotated
    if family is None:
        family = await issue_refresh_token(
            stint.uow, stint.clock, tenant_id=user.tenant_id, user_id=user.user_id, client_id=client.id,
            scopes=user.scopes, address=user.address,
        )
        if user.code is not None:
            await apps.bind_code(stint.uow, user.code, family.family_id)
    scope = scope_text(user.scopes) or ""
    access, claims = stint.tokens.issue(
        subject=user.user_id, audience=TENANT_AUDIENCE, tenant_id=user.tenant_id, now=stint.clock.now(),
        session=family.family_id, extra={"scope": scope, "cid": client.id},
    )
    return {
        "token_type": "Bearer", "access_token": access, "refresh_token": family.refresh_token,
        "expires_in": int((claims.expires_at - stint.clock.now()).total_seconds()), "scope": scope,
    }


def metadata(stint: Stint) -> dict[str, Any]:
    """RFC 8414's document at ``/.well-known/oauth-authorization-server``."""
    base = stint.settings.base_url.rstrip("/")
    data = AuthorizationServerMetadata({
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "device_authorization_endpoint": f"{base}/oauth/device_authorization",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "scopes_supported": [s.value for s in Scope],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_CODE_GRANT_TYPE],
        "token_endpoint_auth_methods_supported": _AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": _AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "service_documentation": f"{base}/docs",
    })
    if base.startswith("https://"):
        # Authlib checks the document against RFC 8414, which wants https; a plain-http base
        # URL is a machine of one's own (``make run``), served the same document unchecked.
        data.validate()
    return dict(data)
