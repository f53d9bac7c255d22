"""The audit trail: who did what to which subject, kept per tenant (SPEC §9's audit rows).

Shared by every context (licensing, billing, identity, tracking all record into it), so
it lives beside ``errors`` and ``clock`` rather than in one context. Security events
(sign-ins, tokens, role changes, operator actions) also carry the client's address.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from .errors import ValidationFailed

__all__ = [
    "AuditCursor",
    "AuditEntry",
    "AuditLog",
    "AuditQuery",
    "AuditRecord",
    "decode_cursor",
    "encode_cursor",
]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit row: ``tenant_id`` None for installation-wide events (operators)."""

    tenant_id: str | None
    actor: str
    action: str
    subject: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An audit row as read back, with the client address it came from (None: no request)."""

    id: str
    tenant_id: str | None
    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]
    address: str | None


@dataclass(frozen=True, slots=True)
class AuditCursor:
    """Where a page of the trail (newest first) ended: the last row's time and id."""

    at: datetime
    id: str


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which rows to read, newest first; every filter is applied by the database."""

    #: An action (``signin``) matches it and its family (``signin.failed``); empty: all.
    action: str = ""
    #: Rows by this actor (``user:<id>``) or about this subject (their e-mail); empty: all.
    actor: str = ""
    subject: str = ""
    #: Only rows whose actor starts with this (``operator:``); empty: all.
    actor_kind: str = ""
    #: Console only: one tenant's rows ("" all tenants, None installation-wide rows only).
    tenant_id: str | None = ""
    after: AuditCursor | None = None
    limit: int = 50


def encode_cursor(record: AuditRecord) -> str:
    """An opaque, URL-safe cursor (no ``+``, ``/``, ``|`` or ``=`` for clients to escape)."""
    raw = f"{record.at.isoformat()}\n{record.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> AuditCursor | None:
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        at_text, _, record_id = raw.partition("\n")
        at = datetime.fromisoformat(at_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValidationFailed("the cursor is not one this list gave", field="cursor") from None
    if at.tzinfo is None or not record_id.isalnum() or len(record_id) > 32:
        raise ValidationFailed("the cursor is not one this list gave", field="cursor")
    return AuditCursor(at, record_id)


class AuditLog(Protocol):
    """One tenant's audit trail."""

    async def record(
        self, actor: str, action: str, subject: str, detail: dict[str, Any], at: datetime,
        *, address: str | None = None,
    ) -> None: ...

    async def recorded_since(self, action: str, subject: str, since: datetime) -> bool:
        """Whether ``action`` on ``subject`` was recorded at or after ``since``."""
        ...

    async def page(self, query: AuditQuery) -> list[AuditRecord]:
        """This tenant's rows matching ``query`` (its ``tenant_id`` is ignored), newest first."""
        ...
