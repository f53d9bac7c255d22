"""The Reporting API's paging cursors, sealed so a client can neither read nor forge them.
"""

from __future__ import annotations

from plugins.sealing import Sealer, Unsealable

__all__ = ["SealedCursors"]


class SealedCursors:
    """:class:`core.reporting.CursorSeal` by AES-GCM under the app's secret keys
    (``plugins/sealing.py``): opaque, and bound to its owner as associated data."""

    def __init__(self, sealer: Sealer) -> None:
        self._sealer = sealer

    def seal(self, owner: str, payload: str) -> str:
        return self._sealer.seal(owner, payload)

    def open(self, owner: str, sealed: str) -> str:
        try:
            return self._sealer.unseal(owner, sealed)
        except (Unsealable, UnicodeDecodeError, ValueError) as exc:
            raise ValueError("the cursor is not valid for this query") from exc
