"""Sealing secrets for storage: AES-256-GCM under a key derived (HKDF-SHA256) from the
secret keys (``plugins/identity/keys.py``) and a purpose, with an owner's id as the
associated data, so a sealed value copied to another row (another tenant, another
account) does not open.

A value is sealed with the current key and names it (``v2:<kid>:…``), so it opens after a
rotation with the key that sealed it; values sealed before keys had names (``v1:…``) are
tried with every key. Used for tenants' Azure DevOps tokens and for second-factor (TOTP)
secrets; each purpose derives keys of its own.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from plugins.identity.keys import SigningKey, SigningKeys

__all__ = ["Sealer", "Unsealable"]

#: Sealed with a named key: ``v2:<kid>:<base64 of nonce + ciphertext>``.
_VERSION = "v2"
#: Sealed before keys had names: ``v1:<base64>``, with the one secret key there was.
_UNNAMED = "v1"


class Unsealable(Exception):
    """A sealed value no key of the ring opens (the key was removed, or the row was moved)."""


class Sealer:
    def __init__(self, keys: SigningKeys, purpose: bytes) -> None:
        self._keys = keys
        self._purpose = purpose
        self._derived: dict[str, AESGCM] = {}

    def _for(self, key: SigningKey) -> AESGCM:
        found = self._derived.get(key.secret)
        if found is None:
            derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=self._purpose).derive(
                key.secret.encode()
            )
            found = self._derived[key.secret] = AESGCM(derived)
        return found

    def seal(self, owner_id: str, text: str) -> str:
        key = self._keys.current
        nonce = os.urandom(12)
        sealed = self._for(key).encrypt(nonce, text.encode(), owner_id.encode())
        return f"{_VERSION}:{key.kid}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def unseal(self, owner_id: str, sealed: str) -> str:
        return self.opened(owner_id, sealed)[0]

    def opened(self, owner_id: str, sealed: str) -> tuple[str, SigningKey]:
        """The value and the key that opened it, or :class:`Unsealable`."""
        version, _, rest = sealed.partition(":")
        if version == _VERSION:
            kid, _, body = rest.partition(":")
            key = self._keys.find(kid)
            candidates: tuple[SigningKey, ...] = (key,) if key is not None else ()
        elif version == _UNNAMED:
            body, candidates = rest, self._keys.all
        else:
            raise Unsealable("the stored value is in an unknown format")
        try:
            raw = base64.urlsafe_b64decode(body.encode())
        except ValueError as exc:
            raise Unsealable("the stored value is in an unknown format") from exc
        for key in candidates:
            try:
                return self._for(key).decrypt(raw[:12], raw[12:], owner_id.encode()).decode(), key
            except (InvalidTag, ValueError):
                continue
        raise Unsealable("the stored value cannot be opened with the secret keys this server holds")

    def is_current(self, sealed: str) -> bool:
        """Whether ``sealed`` is sealed with the current key (nothing to re-seal)."""
        return sealed.startswith(f"{_VERSION}:{self._keys.current.kid}:")
