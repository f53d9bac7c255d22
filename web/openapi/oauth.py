"""The authorization server's endpoints in the schema: OAuth's JSON errors and answers, not
problems (OAuth's clients read those).
"""

from __future__ import annotations

from typing import Any

__all__ = ["OAUTH_PREFIXES", "add_oauth_errors"]

#: The authorization server's endpoints (web/api/oauth.py): OAuth's errors, not problem+json.
OAUTH_PREFIXES = ("/oauth/", "/.well-known/oauth-authorization-server")


def add_oauth_errors(operation: Any, key: str) -> None:
    from litestar.openapi.spec import Example, OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Schema

    responses = {k: v for k, v in (operation.responses or {}).items() if not k.startswith(("4", "5"))}
    if key.startswith("POST "):
        errors = {
            "400": ("An OAuth error (RFC 6749 §5.2): invalid_request, invalid_grant, "
                    "unsupported_grant_type, authorization_pending, slow_down, expired_token, "
                    "access_denied …", "invalid_grant"),
            "401": ("invalid_client: the client is unknown, disabled, or its secret is wrong",
                    "invalid_client"),
        }
        for status, (description, error) in errors.items():
            example = {"error": error, "error_description": "Invalid 'code' in request."}
            body = OpenAPIMediaType(
                schema=Schema(type=OpenAPIType.OBJECT, required=["error"], properties={
                    "error": Schema(type=OpenAPIType.STRING),
                    "error_description": Schema(type=OpenAPIType.STRING),
                }),
                examples={"error": Example(value=example)},
            )
            responses[status] = OpenAPIResponse(description=description, content={"application/json": body})
    answer = _OAUTH_ANSWERS.get(key)
    if answer is not None:
        properties, example = answer
        schema = Schema(type=OpenAPIType.OBJECT, required=sorted(example),
                        properties={k: Schema(type=OpenAPIType(v)) for k, v in properties.items()})
        responses["200"] = OpenAPIResponse(description="OK", content={"application/json": OpenAPIMediaType(
            schema=schema, examples={"answer": Example(value=example)})})
    operation.responses = dict(sorted(responses.items()))


_OAUTH_ANSWERS: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    "POST /oauth/token": (
        {"access_token": "string", "token_type": "string", "expires_in": "integer", "refresh_token": "string",
         "scope": "string"},
        {"access_token": "eyJhbGciOiJIUzI1NiIs…", "token_type": "Bearer", "expires_in": 900,
         "refresh_token": "stint_rt_…", "scope": "tracking worklogs:read"},
    ),
    "POST /oauth/device_authorization": (
        {"device_code": "string", "user_code": "string", "verification_uri": "string",
         "verification_uri_complete": "string", "expires_in": "integer", "interval": "integer"},
        {"device_code": "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS", "user_code": "WDJB-MJHT",
         "verification_uri": "https://stint.example/device",
         "verification_uri_complete": "https://stint.example/device?user_code=WDJB-MJHT",
         "expires_in": 600, "interval": 5},
    ),
}

