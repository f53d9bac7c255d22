"""The OAuth 2.0 token endpoints (issue #20; docs/apps.md): app level, outside ``/api/v1``.

``POST /oauth/token`` (authorization_code, refresh_token, the device code),
``POST /oauth/device_authorization`` (RFC 8628), ``POST /oauth/revoke`` (RFC 7009) and
``GET /.well-known/oauth-authorization-server`` (RFC 8414). The callers are apps, not
signed-in users: no bearer token and no CSRF (the client authenticates itself, or is public
and proves its code with PKCE). Answers and errors are OAuth's JSON (``invalid_grant``,
``authorization_pending`` …), never problem+json, because that is what OAuth clients read.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State

from ..deps import StintDep
from ..oauth.bridge import OAuthAnswer, oauth_request, run_protocol
from ..oauth.server import StintAuthorizationServer, metadata

__all__ = ["OAUTH_ROUTES", "answer", "authorization_server"]

_APP_LEVEL = {"exclude_from_csrf": True, "exclude_from_auth": True}
#: A token request is a handful of short fields; anything bigger is not one.
_MAX_BODY = 16 * 1024
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def authorization_server(request: Request[Any, Any, Any]) -> StintAuthorizationServer:
    """The app's one authorisation server, made on first use (it holds no per-request state)."""
    state: State = request.app.state
    server = getattr(state, "oauth_server", None)
    if server is None or server.stint is not state.stint:
        server = state.oauth_server = StintAuthorizationServer(state.stint)
    return server


def answer(found: OAuthAnswer) -> Response[Any]:
    headers = {**dict(found.headers), **_NO_STORE}
    headers.pop("Content-Type", None)
    if found.status in (301, 302, 303):
        return Response(None, status_code=found.status, headers=headers)
    return Response(found.body, status_code=found.status, headers=headers, media_type="application/json")


@post("/oauth/token", status_code=200, summary="OAuth token endpoint", tags=["oauth"], opt=_APP_LEVEL,
      request_max_body_size=_MAX_BODY)
async def token(request: Request[Any, Any, Any]) -> Response[Any]:
    server = authorization_server(request)
    req = await oauth_request(request)
    return answer(await run_protocol(lambda: server.create_token_response(req)))


@post("/oauth/device_authorization", status_code=200, summary="Start a device authorization (RFC 8628)",
      tags=["oauth"], opt=_APP_LEVEL, request_max_body_size=_MAX_BODY)
async def device_authorization(request: Request[Any, Any, Any]) -> Response[Any]:
    server = authorization_server(request)
    req = await oauth_request(request)
    return answer(await run_protocol(lambda: server.create_endpoint_response("device_authorization", req)))


@post("/oauth/revoke", status_code=200, summary="Revoke an app's token (RFC 7009)", tags=["oauth"],
      opt=_APP_LEVEL, request_max_body_size=_MAX_BODY)
async def revoke(request: Request[Any, Any, Any]) -> Response[Any]:
    server = authorization_server(request)
    req = await oauth_request(request)
    return answer(await run_protocol(lambda: server.create_endpoint_response("revocation", req)))


@get("/.well-known/oauth-authorization-server", summary="Authorization server metadata (RFC 8414)",
     tags=["oauth"], opt=_APP_LEVEL)
async def server_metadata(stint: StintDep) -> dict[str, Any]:
    return metadata(stint)


OAUTH_ROUTES = [token, device_authorization, revoke, server_metadata]
