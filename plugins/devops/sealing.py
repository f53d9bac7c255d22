"""Sealing a tenant's Azure DevOps personal access token for storage.

AES-256-GCM under a key derived (HKDF-SHA256) from the secret keys
(``plugins/identity/keys.py``); the tenant id is the associated data, so a sealed token
copied to another tenant's row does not open.

A token is sealed with the current key and names it (``v2:<kid>:…``), so it opens after a
rotation with the key that sealed it; tokens sealed before keys had names (``v1:…``) are
tried with every key. ``stint keys reseal`` seals every stored token again with the
current key before an old key is removed. A token no key of the ring opens makes the
work-item job record "enter the token again" on that tenant's pending updates until an
administrator does.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from plugins.identity.keys import SigningKey, SigningKeys

__all__ = ["PatSealer", "UnreadableToken"]

#: Sealed with a named key: ``v2:<kid>:<base64 of nonce + ciphertext>``.
_VERSION = "v2"
#: Sealed before keys had names: ``v1:<base64>``, with the one secret key there was.
_UNNAMED = "v1"


class UnreadableToken(Exception):
    """A stored token that no key of the ring opens (the key was removed, or the row was moved)."""


def _aead(secret: str) -> AESGCM:
    # The same derivation as v1, so v1 tokens open with the key that sealed them.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"stint devops pat v1").derive(
        secret.encode()
    )
    return AESGCM(key)


class PatSealer:
    def __init__(self, keys: SigningKeys) -> None:
        self._keys = keys
        self._derived: dict[str, AESGCM] = {}

    def _for(self, key: SigningKey) -> AESGCM:
        found = self._derived.get(key.secret)
        if found is None:
            found = self._derived[key.secret] = _aead(key.secret)
        return found

    def seal(self, tenant_id: str, pat: str) -> str:
        key = self._keys.current
        nonce = os.urandom(12)
        sealed = self._for(key).encrypt(nonce, pat.encode(), tenant_id.encode())
        return f"{_VERSION}:{key.kid}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def unseal(self, tenant_id: str, sealed: str) -> str:
        return self.opened(tenant_id, sealed)[0]

    def opened(self, tenant_id: str, sealed: str) -> tuple[str, SigningKey]:
        """The token and the key that opened it, or :class:`UnreadableToken`."""
        version, _, rest = sealed.partition(":")
        if version == _VERSION:
            kid, _, body = rest.partition(":")
            key = self._keys.find(kid)
            candidates: tuple[SigningKey, ...] = (key,) if key is not None else ()
        elif version == _UNNAMED:
            body, candidates = rest, self._keys.all
        else:
            raise UnreadableToken("the stored token is in an unknown format")
        try:
            raw = base64.urlsafe_b64decode(body.encode())
        except ValueError as exc:
            raise UnreadableToken("the stored token is in an unknown format") from exc
        for key in candidates:
            try:
                return self._for(key).decrypt(raw[:12], raw[12:], tenant_id.encode()).decode(), key
            except (InvalidTag, ValueError):
                continue
        raise UnreadableToken("the stored token cannot be opened with the secret keys this server holds")

    def is_current(self, sealed: str) -> bool:
        """Whether ``sealed`` is sealed with the current key (nothing to re-seal)."""
        return sealed.startswith(f"{_VERSION}:{self._keys.current.kid}:")
