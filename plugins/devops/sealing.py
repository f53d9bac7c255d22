"""Sealing a tenant's Azure DevOps personal access token for storage (``plugins/sealing.py``:
AES-256-GCM under the secret keys, the tenant id as associated data, named keys so a
rotation keeps tokens readable).

``stint keys reseal`` seals every stored token again with the current key before an old
key is removed. A token no key of the ring opens makes the work-item job record "enter the
token again" on that tenant's pending updates until an administrator does.
"""

from __future__ import annotations

from plugins.identity.keys import SigningKey, SigningKeys

from ..sealing import Sealer, Unsealable

__all__ = ["PatSealer", "UnreadableToken"]


class UnreadableToken(Exception):
    """A stored token that no key of the ring opens (the key was removed, or the row was moved)."""


class PatSealer:
    def __init__(self, keys: SigningKeys) -> None:
        # The purpose is the one tokens were sealed under before keys had names.
        self._sealer = Sealer(keys, b"stint devops pat v1")

    def seal(self, tenant_id: str, pat: str) -> str:
        return self._sealer.seal(tenant_id, pat)

    def unseal(self, tenant_id: str, sealed: str) -> str:
        return self.opened(tenant_id, sealed)[0]

    def opened(self, tenant_id: str, sealed: str) -> tuple[str, SigningKey]:
        """The token and the key that opened it, or :class:`UnreadableToken`."""
        try:
            return self._sealer.opened(tenant_id, sealed)
        except Unsealable as exc:
            raise UnreadableToken(str(exc).replace("value", "token")) from exc

    def is_current(self, sealed: str) -> bool:
        """Whether ``sealed`` is sealed with the current key (nothing to re-seal)."""
        return self._sealer.is_current(sealed)
