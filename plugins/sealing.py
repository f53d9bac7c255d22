"""Sealing secrets for storage: AES-256-GCM under a key derived (HKDF-SHA256) from
``STINT_SECRET_KEY`` and a purpose, with an owner's id as the associated data, so a sealed
value copied to another row (another tenant, another account) does not open.

Used for tenants' Azure DevOps tokens and for second-factor (TOTP) secrets; each purpose
has its own key. Changing the secret key makes sealed values unreadable.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["Sealer", "Unsealable"]

_VERSION = "v1"


class Unsealable(Exception):
    """A sealed value this secret key cannot open (the key changed, or the row was moved)."""


class Sealer:
    def __init__(self, secret_key: str, purpose: bytes) -> None:
        if not secret_key:
            raise ValueError("sealing needs the secret key")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret_key.encode())
        self._aead = AESGCM(key)

    def seal(self, owner_id: str, text: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, text.encode(), owner_id.encode())
        return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def unseal(self, owner_id: str, sealed: str) -> str:
        version, _, body = sealed.partition(":")
        if version != _VERSION:
            raise Unsealable("the stored value is in an unknown format")
        try:
            raw = base64.urlsafe_b64decode(body.encode())
            return self._aead.decrypt(raw[:12], raw[12:], owner_id.encode()).decode()
        except (InvalidTag, ValueError) as exc:
            raise Unsealable("the stored value cannot be opened with this secret key") from exc
