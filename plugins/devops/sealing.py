"""Sealing a tenant's Azure DevOps personal access token for storage.

AES-256-GCM under a key derived (HKDF-SHA256) from ``STINT_SECRET_KEY``; the tenant id is
the associated data, so a sealed token copied to another tenant's row does not open.
Changing the secret key makes stored tokens unreadable: the work-item job then records
"enter the token again" on that tenant's pending updates until an administrator does.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["PatSealer", "UnreadableToken"]

_VERSION = "v1"


class UnreadableToken(Exception):
    """A stored token that this secret key cannot open (the key changed, or the row was moved)."""


class PatSealer:
    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("sealing needs the secret key")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"stint devops pat v1").derive(
            secret_key.encode()
        )
        self._aead = AESGCM(key)

    def seal(self, tenant_id: str, pat: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, pat.encode(), tenant_id.encode())
        return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def unseal(self, tenant_id: str, sealed: str) -> str:
        version, _, body = sealed.partition(":")
        if version != _VERSION:
            raise UnreadableToken("the stored token is in an unknown format")
        try:
            raw = base64.urlsafe_b64decode(body.encode())
            return self._aead.decrypt(raw[:12], raw[12:], tenant_id.encode()).decode()
        except (InvalidTag, ValueError) as exc:
            raise UnreadableToken("the stored token cannot be opened with this secret key") from exc
