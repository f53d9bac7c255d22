"""Short-lived signed access tokens (SPEC §9): JWT, HS256 pinned, issuer, audience, expiry.

The algorithm is pinned on both sides: a token whose header says ``none``, or an
asymmetric algorithm, is refused before its claims are looked at.

Tokens are signed with the current key of the ring (``keys.py``) and name it in the
header's ``kid``; a token is checked with the key its ``kid`` names, so a token signed
with a previous key stays good until it expires, and one naming a key the ring does not
hold is refused. A token without ``kid`` predates named keys: the key ``legacy`` checks it.

A tenant user's token carries ``sid``, the sign-in (refresh-token family) it belongs to,
so that signing out or a stolen refresh token ends exactly that sign-in's access tokens
(``web/auth.py`` asks whether the family was revoked).

An OAuth app's token also carries ``scope`` (what the user consented to) and ``cid`` (the
app); ``web/auth.py`` holds it to those scopes.

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

from .keys import LEGACY_KID, SigningKeys

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
    #: The sign-in (refresh-token family) a tenant user's token belongs to, its ``sid``;
    #: None for operators, personal access tokens and tokens issued before sign-ins had ids.
    family: str | None = None
    #: An OAuth app's token: its consented scopes as granted (``scope``, space-separated)
    #: and the app (``cid``); None on every other token (full access).
    scope: str | None = None
    client_id: str | None = None


#: Verified tokens remembered per process; the cache starts over when full.
VERIFIED_CACHE_SIZE = 20_000


class TokenService:
    def __init__(self, keys: SigningKeys, *, access_minutes: int = 15) -> None:
        if any(len(key.secret) < 32 for key in keys.all):
            raise ValueError("every signing key must be at least 32 characters")
        self.keys = keys
        self.access_lifetime = timedelta(minutes=access_minutes)
        self._verified: dict[tuple[str, str], tuple[AccessClaims, datetime]] = {}

    def issue(
        self, *, subject: str, audience: str, tenant_id: str | None, now: datetime,
        session: str | None = None, extra: dict[str, Any] | None = None,
    ) -> tuple[str, AccessClaims]:
        """A signed token; ``session`` is the refresh-token family it belongs to (``sid``)."""
        expires = now + self.access_lifetime
        claims = AccessClaims(subject, audience, tenant_id, new_id(), expires, session)
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
        if session is not None:
            payload["sid"] = session
        key = self.keys.current
        return jwt.encode(payload, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid}), claims

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
        secret = self._secret_for(header.get("kid", LEGACY_KID))
        try:
            payload = jwt.decode(
                token,
                secret,
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
        session = payload.get("sid")
        scope, client_id = payload.get("scope"), payload.get("cid")
        if any(v is not None and not isinstance(v, str) for v in (session, scope, client_id)):
            raise TokenError("the token is invalid")
        claims = AccessClaims(
            subject=str(payload["sub"]),
            audience=audience,
            tenant_id=payload.get("tid"),
            token_id=str(payload["jti"]),
            expires_at=expires_at,
            family=session,
            scope=scope,
            client_id=client_id,
        )
        return claims, not_before

    def _secret_for(self, kid: Any) -> str:
        """The secret of the key ``kid`` names (a token without one: ``legacy``), or refuse."""
        key = self.keys.find(kid) if isinstance(kid, str) else None
        if key is None:
            # Said the same way for "never existed" and "removed": a removed key's tokens
            # are as dead as forged ones.
            raise TokenError("the token is signed with a key this server does not accept")
        return key.secret
