"""What Authlib asks about, over Stint's records: the client, who the tokens act for, an
authorization code, a rotated refresh token and a device code."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc8628 import DEVICE_CODE_GRANT_TYPE

from core.errors import ValidationFailed
from core.identity.oauth import AuthorizationCode, ClientKind, OAuthClient, granted_scopes
from core.identity.scopes import Scope, scope_text
from core.services.oauth_device import DevicePoll
from core.services.tokens import RefreshGrant, hash_token

if TYPE_CHECKING:
    from plugins.bootstrap import Stint

__all__ = [
    "AUTH_METHODS",
    "ClientModel",
    "CodeModel",
    "DeviceModel",
    "Grantee",
    "RotatedToken",
    "StintServer",
]


class StintServer(Protocol):
    """What the grants and endpoints use of the server they are registered with (``server.py``'s
    ``StintAuthorizationServer``): its Stint. Named by this protocol, not by that class, so
    that the server's module, which imports them, is not imported back."""

    stint: Stint


#: Client authentication at the token, device and revocation endpoints: a public client names
#: itself (``none``), a confidential one proves its secret either way RFC 6749 §2.3.1 allows.
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class ClientModel(ClientMixin):  # type: ignore[misc]
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


class CodeModel:
    def __init__(self, code: AuthorizationCode) -> None:
        self.code = code
        self.code_challenge = code.code_challenge
        self.code_challenge_method = "S256"

    def get_redirect_uri(self) -> str:
        return self.code.redirect_uri

    def get_scope(self) -> str:
        return scope_text(self.code.scopes) or ""


class RotatedToken:
    """A refresh token already rotated by ``core.services.tokens`` (reuse detection included)."""

    def __init__(self, grant: RefreshGrant) -> None:
        self.grant = grant

    def check_client(self, client: ClientModel) -> bool:
        return self.grant.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return scope_text(self.grant.scopes) or ""


class DeviceModel:
    def __init__(self, outcome: DevicePoll, found: Any, client_id: str) -> None:
        self.outcome, self.found, self.client_id = outcome, found, client_id

    def get_client_id(self) -> str:
        return self.client_id

    def get_scope(self) -> str:
        return scope_text(self.found.scopes) or ""

    def get_user_code(self) -> str:
        return str(self.found.user_code)

    def is_expired(self) -> bool:
        return self.outcome is DevicePoll.EXPIRED
