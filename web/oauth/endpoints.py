"""The endpoints beside the token endpoint: device authorization (RFC 8628), which starts a
device code, and revocation (RFC 7009), which ends an app's grant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc8628 import DEVICE_CODE_GRANT_TYPE, DeviceAuthorizationEndpoint

from core.errors import ValidationFailed
from core.identity.oauth import DEVICE_INTERVAL, DEVICE_LIFETIME, granted_scopes
from core.services.oauth_device import start_device
from core.services.oauth_grants import refresh_family, revoke_grant
from plugins.bootstrap import TENANT_AUDIENCE, Stint, TokenError

from .bridge import on_loop
from .models import AUTH_METHODS, ClientModel, StintServer

__all__ = ["DEVICE_PAGE", "StintDeviceEndpoint", "StintRevocationEndpoint"]

#: Where a person types a device's code.
DEVICE_PAGE = "/device"


class StintDeviceEndpoint(DeviceAuthorizationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = AUTH_METHODS
    EXPIRES_IN = int(DEVICE_LIFETIME.total_seconds())
    INTERVAL = DEVICE_INTERVAL

    server: StintServer

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
        device_code, user_code = on_loop(start_device, stint.uow, stint.clock, client=client.client,
                                          scopes=scopes)
        page = stint.settings.base_url.rstrip("/") + DEVICE_PAGE
        data = {
            "device_code": device_code, "user_code": user_code, "verification_uri": page,
            "verification_uri_complete": f"{page}?user_code={user_code}",
            "expires_in": self.EXPIRES_IN, "interval": self.INTERVAL,
        }
        return 200, data, [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


class StintRevocationEndpoint(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = AUTH_METHODS

    server: StintServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        stint = self.server.stint
        return on_loop(_app_family_of, stint, token_string)

    def revoke_token(self, token: Any, request: Any) -> None:
        stint = self.server.stint
        on_loop(revoke_grant, stint.uow, stint.clock, tenant_id=token.tenant_id, user_id=token.user_id,
                 family_id=token.family_id, address=request.address)


@dataclass(frozen=True, slots=True)
class _Family:
    tenant_id: str
    user_id: str
    family_id: str
    client_id: str

    def check_client(self, client: ClientModel) -> bool:
        return self.client_id == client.get_client_id()


async def _app_family_of(stint: Stint, token: str) -> _Family | None:
    """The app grant a refresh or access token belongs to (RFC 7009 takes either)."""
    found = await refresh_family(stint.uow, token)
    if found is not None:
        return _Family(found.tenant_id, found.user_id, found.family_id, found.client_id or "")
    try:
        claims = stint.tokens.verify(token, audience=TENANT_AUDIENCE, now=stint.clock.now())
    except TokenError:
        return None
    if claims.client_id is None or claims.family is None or claims.tenant_id is None:
        return None
    return _Family(claims.tenant_id, claims.subject, claims.family, claims.client_id)
