"""Sealing a tenant's Azure DevOps personal access token for storage.

AES-256-GCM under a key derived from ``STINT_SECRET_KEY`` (``plugins/sealing.py``); the
tenant id is the associated data, so a sealed token copied to another tenant's row does
not open. Changing the secret key makes stored tokens unreadable: the work-item job then
records "enter the token again" on that tenant's pending updates until an administrator does.
"""

from __future__ import annotations

from ..sealing import Sealer, Unsealable

__all__ = ["PatSealer", "UnreadableToken"]


class UnreadableToken(Exception):
    """A stored token that this secret key cannot open (the key changed, or the row was moved)."""


class PatSealer:
    def __init__(self, secret_key: str) -> None:
        self._sealer = Sealer(secret_key, b"stint devops pat v1")

    def seal(self, tenant_id: str, pat: str) -> str:
        return self._sealer.seal(tenant_id, pat)

    def unseal(self, tenant_id: str, sealed: str) -> str:
        try:
            return self._sealer.unseal(tenant_id, sealed)
        except Unsealable as exc:
            raise UnreadableToken(str(exc).replace("value", "token")) from exc
