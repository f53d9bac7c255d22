"""One-click unsubscribe tokens (issue #19, RFC 8058): each names one tenant, one user and one
notification kind, signed with the app's secret keys (HMAC-SHA256 under the key's id, so a
rotated-out key still verifies until it is removed). Changing any part — another user, another
kind, "every kind" — breaks the signature: a token cannot be forged or widened."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from core.notifications import KINDS
from plugins.identity.keys import SigningKeys

__all__ = ["Unsubscribe", "UnsubscribeTokens"]

#: Kept apart from every other use of the keys: a MAC made for something else never verifies here.
_PURPOSE = b"stint-unsubscribe-v1:"


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    tenant_id: str
    user_id: str
    kind: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class UnsubscribeTokens:
    def __init__(self, keys: SigningKeys, base_url: str = "") -> None:
        self._keys = keys
        self._base_url = base_url.rstrip("/")

    @staticmethod
    def _mac(secret: str, kid: str, payload: str) -> str:
        message = _PURPOSE + kid.encode() + b"." + payload.encode()
        return _b64(hmac.new(secret.encode(), message, hashlib.sha256).digest())

    def issue(self, tenant_id: str, user_id: str, kind: str) -> str:
        key = self._keys.current
        payload = _b64(json.dumps([tenant_id, user_id, kind], separators=(",", ":")).encode())
        return f"{key.kid}.{payload}.{self._mac(key.secret, key.kid, payload)}"

    def link(self, tenant_id: str, user_id: str, kind: str) -> str:
        """The one-click address for the mail's ``List-Unsubscribe`` header and its footer."""
        return f"{self._base_url}/unsubscribe?token={self.issue(tenant_id, user_id, kind)}"

    def read(self, token: str) -> Unsubscribe | None:
        """What the token names, or None when no key of the ring signed it (or it is malformed)."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        kid, payload, mac = parts
        key = self._keys.find(kid)
        if key is None or not hmac.compare_digest(mac, self._mac(key.secret, kid, payload)):
            return None
        try:
            named = json.loads(_unb64(payload))
        except (ValueError, binascii.Error):
            return None
        if not (isinstance(named, list) and len(named) == 3 and all(isinstance(p, str) for p in named)):
            return None
        tenant_id, user_id, kind = named
        if kind not in KINDS or not tenant_id or not user_id:
            return None
        return Unsubscribe(tenant_id, user_id, kind)
