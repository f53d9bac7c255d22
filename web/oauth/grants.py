"""The grants at the token endpoint: the authorization code (PKCE, S256 only), the refresh
token (rotated, reuse detected) and the device code (RFC 8628)."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import AccessDeniedError, InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8628 import (
    AuthorizationPendingError,
    DeviceCodeGrant,
    ExpiredTokenError,
    SlowDownError,
)

from core.identity.scopes import scopes_of_text
from core.services import oauth as apps
from core.services.oauth_device import DevicePoll, poll_device
from core.services.tokens import InvalidToken, rotate_refresh_token

from .bridge import on_loop
from .models import AUTH_METHODS, ClientModel, CodeModel, DeviceModel, Grantee, RotatedToken, StintServer


class S256Challenge(CodeChallenge):  # type: ignore[misc]
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


class StintAuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    server: StintServer

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        if not self.request.payload.state:
            # Required (issue #20): the app's only defence against a forged redirect to it.
            raise InvalidRequestError("Missing 'state'.", redirect_uri=redirect_uri)
        return redirect_uri

    def save_authorization_code(self, code: str, request: Any) -> None:
        grantee: Grantee = request.user
        stint = self.server.stint
        on_loop(
            apps.issue_code, stint.uow, stint.clock, code=code, client=request.client.client,
            tenant_id=grantee.tenant_id, user_id=grantee.user_id, redirect_uri=request.payload.redirect_uri,
            code_challenge=request.payload.data["code_challenge"],
            scopes=scopes_of_text(request.scope) or frozenset(),
        )

    def query_authorization_code(self, code: str, client: ClientModel) -> CodeModel | None:
        stint = self.server.stint
        # Taken (used up) right here: a second request with the same code finds it used, even
        # one that races this one; a failed PKCE check below burns it too.
        found = on_loop(apps.redeem_code, stint.uow, stint.clock, code, client.get_client_id())
        return CodeModel(found) if found is not None else None

    def delete_authorization_code(self, authorization_code: CodeModel) -> None:
        pass  # used up when it was read (query_authorization_code)

    def authenticate_user(self, authorization_code: CodeModel) -> Grantee:
        code = authorization_code.code
        return Grantee(code.tenant_id, code.user_id, code.scopes, address=self.request.address, code=code)


class StintRefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    server: StintServer

    def authenticate_refresh_token(self, refresh_token: str) -> RotatedToken | None:
        stint = self.server.stint
        try:
            grant = on_loop(
                rotate_refresh_token, stint.uow, stint.clock, refresh_token, address=self.request.address,
                client_id=self.request.client.get_client_id(),
            )
        except InvalidToken:
            # Unknown, expired, revoked — or used before, in which case its family (the
            # app's and the thief's tokens alike) was revoked just now.
            return None
        return RotatedToken(grant)

    def authenticate_user(self, refresh_token: RotatedToken) -> Grantee:
        grant = refresh_token.grant
        return Grantee(grant.tenant_id, grant.user_id, grant.scopes or frozenset(), rotated=grant)

    def revoke_old_credential(self, refresh_token: RotatedToken) -> None:
        pass  # rotation marked it used (authenticate_refresh_token)


class StintDeviceCodeGrant(DeviceCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    server: StintServer

    def authenticate_token_endpoint_client(self) -> ClientModel:
        # Kept on the request: the poll below is the client's own (Authlib checks the code's
        # client only after reading it, and reading an approved code uses it up).
        client: ClientModel = super().authenticate_token_endpoint_client()
        self.request.client = client
        return client

    def query_device_credential(self, device_code: str) -> DeviceModel | None:
        stint = self.server.stint
        client_id = self.request.client.get_client_id()
        outcome, found = on_loop(poll_device, stint.uow, stint.clock, device_code, client_id)
        return None if outcome is DevicePoll.UNKNOWN else DeviceModel(outcome, found, client_id)

    def validate_device_credential(self, credential: DeviceModel) -> Grantee:
        outcome = credential.outcome
        if outcome is DevicePoll.EXPIRED:
            raise ExpiredTokenError()
        if outcome is DevicePoll.DENIED:
            raise AccessDeniedError()
        if outcome is DevicePoll.SLOW_DOWN:
            raise SlowDownError()
        if outcome is DevicePoll.PENDING:
            raise AuthorizationPendingError()
        found = credential.found
        return Grantee(found.tenant_id, found.user_id, found.scopes, address=self.request.address)

    def query_user_grant(self, user_code: str) -> None:
        raise NotImplementedError  # validate_device_credential answers from the poll itself

    def should_slow_down(self, credential: DeviceModel) -> bool:
        return credential.outcome is DevicePoll.SLOW_DOWN
