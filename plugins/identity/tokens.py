"""Short-lived signed access tokens (SPEC §9): JWT, HS256 pinned, issuer, audience, expiry.

The algorithm is pinned on both sides: a token whose header says ``none``, or an
asymmetric algorithm, is refused before its claims are looked at.

A token whose signature, issuer and audience checked out is remembered (bounded, per
process) by its exact text, so the next request with it skips the HMAC and PyJWT's
parsing; its expiry is still checked against the clock on every use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from core.ids import new_id

__all__ = ["AccessClaims", "TokenError", "TokenService"]

ALGORITHM = "HS256"
ISSUER = "stint"
TENANT_AUDIENCE = "stint-api"
OPERATOR_AUDIENCE = "stint-operator"
#: Clock skew tolerated between servers when checking expiry.
LEEWAY_SECONDS = 10


class TokenError(Exception):
    """The token cannot be used; the message says why (never echoed with its content)."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    subject: str
    audience: str
    tenant_id: str | None
    token_id: str
    expires_at: datetime
    family: str | None = None


#: Verified tokens remembered per process; the cache starts over when full.
VERIFIED_CACHE_SIZE = 20_000


class TokenService:
    def __init__(self, secret_key: str, *, access_minutes: int = 15) -> None:
        if len(secret_key) < 32:
            raise ValueError("the signing key must be at least 32 characters")
        self._key = secret_key
        self.access_lifetime = timedelta(minutes=access_minutes)
        self._verified: dict[tuple[str, str], tuple[AccessClaims, datetime]] = {}

    def issue(
        self, *, subject: str, audience: str, tenant_id: str | None, now: datetime,
        extra: dict[str, Any] | None = None,
    ) -> tuple[str, AccessClaims]:
        expires = now + self.access_lifetime
        claims = AccessClaims(subject, audience, tenant_id, new_id(), expires)
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "aud": audience,
            "sub": subject,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": claims.token_id,
            **(extra or {}),
        }
        if tenant_id is not None:
            payload["tid"] = tenant_id
        return jwt.encode(payload, self._key, algorithm=ALGORITHM), claims

    def verify(self, token: str, *, audience: str, now: datetime) -> AccessClaims:
        known = self._verified.get((token, audience))
        if known is None:
            known = self._verify_signed(token, audience=audience, now=now)
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()
            self._verified[(token, audience)] = known
        claims, not_before = known
        if (now - claims.expires_at).total_seconds() > LEEWAY_SECONDS:
            raise TokenError("the token has expired")
        if (not_before - now).total_seconds() > LEEWAY_SECONDS:
            raise TokenError("the token is not valid yet")
        return claims

    def _verify_signed(self, token: str, *, audience: str, now: datetime) -> tuple[AccessClaims, datetime]:
        """Signature, algorithm, issuer, audience and claim shapes; the times are checked by the caller."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenError("the token is not a well-formed JWT") from None
        if header.get("alg") != ALGORITHM:
            raise TokenError("the token is not signed with the expected algorithm")
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=ISSUER,
                # Time claims are checked by verify() against Stint's clock, not the wall clock,
                # so jobs, tests and replays all agree on what "expired" means.
                options={
                    "require": ["exp", "iat", "sub", "aud", "iss", "jti"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidAudienceError:
            raise TokenError("the token is not meant for this API") from None
        except jwt.PyJWTError:
            raise TokenError("the token is invalid") from None
        try:
            expires_at = datetime.fromtimestamp(int(payload["exp"]), tz=now.tzinfo)
            not_before = datetime.fromtimestamp(int(payload.get("nbf", payload["iat"])), tz=now.tzinfo)
        except (TypeError, ValueError, OverflowError, OSError):
            raise TokenError("the token is invalid") from None
        if audience == TENANT_AUDIENCE and not payload.get("tid"):
            raise TokenError("the token names no tenant")
        claims = AccessClaims(
            subject=str(payload["sub"]),
            audience=audience,
            tenant_id=payload.get("tid"),
            token_id=str(payload["jti"]),
            expires_at=expires_at,
        )
        return claims, not_before
