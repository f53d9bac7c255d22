"""Wire types shared by several slices of the API (msgspec Structs)."""

from __future__ import annotations

import msgspec

__all__ = ["MoneyOut", "Strict"]


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    """Request bodies: an unknown field is an error, not silently dropped."""


class MoneyOut(msgspec.Struct):
    amount: int
    currency: str
