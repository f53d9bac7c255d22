"""Wire types shared by several slices of the API (msgspec Structs)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import msgspec

from core.errors import ValidationFailed

__all__ = ["BudgetRef", "MoneyOut", "Strict", "cursor_text", "fraction", "money", "opaque_cursor"]


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    """Request bodies: an unknown field is an error, not silently dropped."""


class MoneyOut(msgspec.Struct):
    amount: int
    currency: str


def money(amount: int, currency: str) -> MoneyOut:
    return MoneyOut(amount=amount, currency=currency)


def fraction(value: Any) -> str:
    # Exact rationals as "p/q" (or an integer), so clients can recompute without float error.
    return str(value)


class BudgetRef(msgspec.Struct):
    """The budget a worklog or work item resolves to and how (API.md: ``budget: {id,
    assignment}``; ``id`` null with ``NoBudget``)."""

    id: str | None
    assignment: str


def opaque_cursor(text: str) -> str:
    """A page cursor as clients get it: base64url without padding, safe in any query string
    (a raw ``2026-01-01T09:00:00+00:00|id`` has a ``+`` that reads back as a space)."""
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def cursor_text(cursor: str) -> str:
    """Undo :func:`opaque_cursor`; anything else is 422 naming ``cursor``."""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValidationFailed("this cursor did not come from a previous page", field="cursor") from None
