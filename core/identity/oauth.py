"""OAuth 2.0 apps (issue #20): registered clients, authorization codes, device codes.

The rules live here; the protocol's mechanics (parsing requests, PKCE's arithmetic, the error
bodies) are Authlib's, wired to Litestar in ``web/oauth/``.

- A **client** is registered either by the operator (first-party, ``tenant_id`` None: every
  tenant's users may use it, e.g. the ``stint-tracker`` terminal app) or by a tenant admin
  (third-party: that tenant's users only). It is *public* (an app on a user's machine: no
  secret, PKCE is what proves the code is its own) or *confidential* (a server: a secret, shown
  once, only its hash kept). Redirect URIs match exactly, character for character. A disabled
  client is refused everywhere, and its users' tokens stop at their next refresh.
- An **authorization code** lives :data:`CODE_LIFETIME`, is good once, and is bound to its
  client, its redirect URI, an S256 PKCE challenge (``plain`` is refused: a challenge that is
  the verifier protects nothing once the authorization request leaks) and the consented scopes.
- A **device code** (RFC 8628) lives :data:`DEVICE_LIFETIME`; the user types its short user
  code on Stint's ``/device`` page; polling faster than :data:`DEVICE_INTERVAL` is ``slow_down``.
- The scopes an app gets are the ones the user consented to, never more than the client is
  registered for; the token's user's role still bounds everything (the access decision is
  asked on every request as for any token), so consenting to ``admin`` gives a Team user's
  app nothing the user could not do.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from core.errors import ValidationFailed
from core.identity.scopes import Scope, parse_scopes

__all__ = [
    "CODE_LIFETIME",
    "DEVICE_INTERVAL",
    "DEVICE_LIFETIME",
    "TRACKER_CLIENT_ID",
    "AuthorizationCode",
    "ClientKind",
    "DeviceCode",
    "OAuthClient",
    "check_client_name",
    "check_redirect_uris",
    "granted_scopes",
    "new_user_code",
    "normal_user_code",
    "polled_too_soon",
]

#: The first-party terminal tracker, registered by ``stint db upgrade``.
TRACKER_CLIENT_ID = "stint-tracker"
CODE_LIFETIME = timedelta(seconds=60)
DEVICE_LIFETIME = timedelta(minutes=10)
#: Seconds a device waits between polls (RFC 8628 §3.5); faster is ``slow_down``.
DEVICE_INTERVAL = 5
#: Letters a person reads off a terminal and types without confusing them (no vowels, no 0/O, 1/I).
_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
_USER_CODE_LENGTH = 8
_MAX_REDIRECT_URIS = 10


class ClientKind(StrEnum):
    PUBLIC = "public"
    CONFIDENTIAL = "confidential"


@dataclass(frozen=True, slots=True)
class OAuthClient:
    id: str
    name: str
    kind: ClientKind
    redirect_uris: tuple[str, ...]
    allowed_scopes: frozenset[Scope]
    #: None: first-party (registered by the operator, open to every tenant's users).
    tenant_id: str | None
    #: SHA-256 of a confidential client's secret; None for a public client.
    secret_hash: str | None
    #: Whether the device grant is open to it (apps without a browser).
    device_grant: bool
    disabled: bool
    created_at: datetime
    #: Who registered it ("operator", or "user:<id>").
    created_by: str

    def serves(self, tenant_id: str) -> bool:
        """Whether a user of ``tenant_id`` may authorise this client."""
        return not self.disabled and (self.tenant_id is None or self.tenant_id == tenant_id)

    def redirect_matches(self, uri: str | None) -> bool:
        """Exact match only: no prefix, no normalisation, no wildcard (RFC 9700 §4.1.3)."""
        return uri is not None and uri in self.redirect_uris


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    code_hash: str
    client_id: str
    tenant_id: str
    user_id: str
    redirect_uri: str
    code_challenge: str
    scopes: frozenset[Scope]
    expires_at: datetime
    used_at: datetime | None = None
    #: The grant (refresh-token family) the code's tokens started; a code presented again
    #: was stolen, and that grant is revoked (RFC 6749 §4.1.2).
    family_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceCode:
    device_code_hash: str
    user_code: str
    client_id: str
    scopes: frozenset[Scope]
    expires_at: datetime
    last_polled_at: datetime | None = None
    #: Set once a signed-in user answered on ``/device``.
    tenant_id: str | None = None
    user_id: str | None = None
    approved: bool | None = None
    used_at: datetime | None = None


def check_client_name(name: str) -> str:
    clean = name.strip()
    if not 1 <= len(clean) <= 100:
        raise ValidationFailed("an app needs a name of 1 to 100 characters", field="name")
    return clean


def check_redirect_uris(uris: list[str], kind: ClientKind) -> tuple[str, ...]:
    """Absolute https URIs without a fragment; plain http only to the user's own machine
    (loopback, RFC 8252 §7.3), where a native app listens for its code."""
    if len(uris) > _MAX_REDIRECT_URIS:
        raise ValidationFailed(f"at most {_MAX_REDIRECT_URIS} redirect URIs", field="redirect_uris")
    for uri in uris:
        try:
            parts = urlsplit(uri)
        except ValueError:
            raise ValidationFailed("a redirect URI is not a URI", field="redirect_uris") from None
        loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
        if len(uri) > 500 or parts.fragment or not parts.netloc or not (parts.scheme == "https" or loopback):
            raise ValidationFailed(
                "redirect URIs are absolute https:// URIs (http:// only to 127.0.0.1) without a #fragment",
                field="redirect_uris",
            )
    return tuple(dict.fromkeys(uris))


def granted_scopes(requested: str | None, client: OAuthClient) -> frozenset[Scope]:
    """The scopes an authorization asks for: the ones named (space-separated), or all the
    client is registered for when it names none. Naming one the client may not ask for, or
    one Stint does not know, is bad input (OAuth's ``invalid_scope``)."""
    if not requested or not requested.strip():
        return client.allowed_scopes
    asked = parse_scopes(requested.split())
    if not asked <= client.allowed_scopes:
        raise ValidationFailed("the app is not registered for some of these scopes", field="scope")
    return asked


def new_user_code() -> str:
    """Eight letters shown as ``BCDF-GHJK``: ~34 bits, enough for a code that lives minutes and
    whose page is rate-limited."""
    letters = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(_USER_CODE_LENGTH))
    return f"{letters[:4]}-{letters[4:]}"


def normal_user_code(typed: str) -> str:
    """What a person typed, in the stored form: upper case, the dash where it belongs."""
    letters = "".join(ch for ch in typed.upper() if ch.isalnum())
    return f"{letters[:4]}-{letters[4:]}" if len(letters) == _USER_CODE_LENGTH else letters[:20]


def polled_too_soon(last: datetime | None, now: datetime) -> bool:
    return last is not None and now - last < timedelta(seconds=DEVICE_INTERVAL)
