"""The audit trail: who did what to which subject, kept per tenant (SPEC §9's audit rows).

Shared by every context (licensing, billing, identity, tracking all record into it), so
it lives beside ``errors`` and ``clock`` rather than in one context.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

__all__ = ["AuditEntry", "AuditLog"]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit row: ``tenant_id`` None for installation-wide events (operators)."""

    tenant_id: str | None
    actor: str
    action: str
    subject: str
    detail: dict[str, Any] = field(default_factory=dict)


class AuditLog(Protocol):
    """One tenant's audit trail."""

    async def record(
        self, actor: str, action: str, subject: str, detail: dict[str, Any], at: datetime
    ) -> None: ...

    async def recorded_since(self, action: str, subject: str, since: datetime) -> bool:
        """Whether ``action`` on ``subject`` was recorded at or after ``since``."""
        ...
