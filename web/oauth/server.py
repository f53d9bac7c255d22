"""The authorisation server the routes call: Authlib's, with Stint's grants and endpoints
registered, the tokens it issues, and RFC 8414's metadata document."""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import AuthorizationServer, OAuth2Error
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oauth2.rfc8628 import DEVICE_CODE_GRANT_TYPE

from core.identity.oauth import OAuthClient
from core.identity.scopes import Scope, scope_text
from core.services import oauth as apps
from core.services.tokens import issue_refresh_token
from plugins.bootstrap import TENANT_AUDIENCE, Stint

from .bridge import OAuthAnswer, on_loop
from .endpoints import StintDeviceEndpoint, StintRevocationEndpoint
from .grants import S256Challenge, StintAuthorizationCodeGrant, StintDeviceCodeGrant, StintRefreshTokenGrant
from .models import AUTH_METHODS, ClientModel, Grantee

__all__ = ["StintAuthorizationServer", "metadata"]


class StintAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, stint: Stint) -> None:
        super().__init__(scopes_supported=[s.value for s in Scope])
        self.stint = stint
        self.register_grant(StintAuthorizationCodeGrant, [S256Challenge(required=True)])
        self.register_grant(StintRefreshTokenGrant)
        self.register_grant(StintDeviceCodeGrant)
        self.register_endpoint(StintDeviceEndpoint)
        self.register_endpoint(StintRevocationEndpoint)
        self.register_token_generator("default", self._tokens)

    def query_client(self, client_id: str) -> ClientModel | None:
        found = on_loop(apps.find_client, self.stint.uow, client_id)
        # A disabled app is as unknown as one never registered: every endpoint refuses it.
        return ClientModel(found) if found is not None and not found.disabled else None

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
        self, *, grant_type: str, client: ClientModel, user: Grantee, scope: str | None = None,
        expires_in: int | None = None, include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        return on_loop(_issue, self.stint, client.client, user, grant_type)


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
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "service_documentation": f"{base}/docs",
    })
    if base.startswith("https://"):
        # Authlib checks the document against RFC 8414, which wants https; a plain-http base
        # URL is a machine of one's own (``make run``), served the same document unchecked.
        data.validate()
    return dict(data)
