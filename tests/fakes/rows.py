"""The rows the fake store keeps beside the domain values, and the errors its constraints raise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.audit import AuditEntry
from core.licensing.subscription import Subscription
from core.proration.invoice import Invoice
from core.tenancy import Operator, User

__all__ = [
    "AuditRow",
    "BillingEventRow",
    "FakeIntegrityError",
    "InvoiceRow",
    "ReadOnlyUnitOfWork",
    "StoredOperator",
    "StoredSeat",
    "StoredSubscription",
    "StoredUser",
    "fits",
]


class FakeIntegrityError(Exception):
    """A write the database's constraints would refuse (a unique key taken, a missing row)."""


def fits(column: str, value: str | None, length: int) -> None:
    """Refuse a value longer than its VARCHAR column, as PostgreSQL does (SQLite would keep it)."""
    if value is not None and len(value) > length:
        raise FakeIntegrityError(f"value too long for {column}, a varchar({length}): {len(value)} characters")


class ReadOnlyUnitOfWork(RuntimeError):
    """A read unit of work tried to write, lock or commit: the service needs ``uow(write=True)``."""


@dataclass
class StoredSubscription:
    """A subscription row: the value, its pool's enterprise, and its billing terms."""

    subscription: Subscription
    enterprise_id: str
    scope: str = "tenant"
    seat_price: int | None = None
    currency: str = "USD"
    version: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class StoredUser:
    """A tenant user row; ``email`` and ``name`` are read from the person, as the join does."""

    user: User
    password_hash: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredSeat:
    person_id: str
    assigned_at: datetime
    assigned_by: str


@dataclass(frozen=True, slots=True)
class StoredOperator:
    operator: Operator
    password_hash: str
    created_at: datetime


@dataclass
class InvoiceRow:
    invoice: Invoice
    subscription_id: str
    tenant_id: str
    kind: str
    idempotency_key: str
    created_at: datetime
    paid_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditRow:
    """An audit row; ``detail`` as the database gives it back (JSON, dates as text)."""

    tenant_id: str | None
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]
    at: datetime
    address: str | None = None
    id: str = ""

    @property
    def entry(self) -> AuditEntry:
        return AuditEntry(self.tenant_id, self.actor, self.action, self.subject, self.detail)


@dataclass(frozen=True, slots=True)
class BillingEventRow:
    id: str
    type: str
    outcome: str
    received_at: datetime
