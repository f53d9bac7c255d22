"""The Reporting API's credentials: a bearer token (access token or PAT), or HTTP Basic with a
personal access token as the password; a refusal carries both challenges."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.authentication import AbstractAuthenticationMiddleware, AuthenticationResult

from core.services.tokens import PAT_PREFIX

from ...auth import authenticate_tenant_token, bearer_token
from ...deps import provide_stint

__all__ = ["CHALLENGE", "ReportingAuth", "ReportingUnauthorized"]

CHALLENGE = {"WWW-Authenticate": 'Basic realm="Stint reporting", Bearer realm="stint"'}


class ReportingUnauthorized(NotAuthorizedException):
    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, headers=CHALLENGE)


def _basic_password(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ReportingUnauthorized("the Basic credentials cannot be read") from None
    _, sep, password = decoded.partition(":")
    if not sep or not password.startswith(PAT_PREFIX):
        raise ReportingUnauthorized("send a personal access token as the Basic password")
    return password


class ReportingAuth(AbstractAuthenticationMiddleware):
    """Bearer (access token or PAT), or Basic with a PAT as the password."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token = bearer_token(connection) or _basic_password(connection)
        if token is None:
            raise ReportingUnauthorized("send a personal access token (Basic password) or a bearer token")
        stint = provide_stint(connection.app.state)
        try:
            principal = await authenticate_tenant_token(stint, token, count=True)
        except NotAuthorizedException as exc:
            raise ReportingUnauthorized(str(exc.detail)) from None
        return AuthenticationResult(user=principal, auth=principal.claims)
