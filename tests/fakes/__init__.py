"""In-memory fakes of the core's ports, for fast tests of the use cases (core/services).

Each fake behaves like its real adapter where a use case depends on it: ordering, cursors,
idempotency keys, unique keys, and a unit of work that keeps nothing unless it commits.
"""

from .billing import (
    Collected,
    FakeBilling,
    FakeHostedPayments,
    FakeInvoices,
    FakePaymentRecords,
    FakeRenewalStore,
)
from .identity import FakeAuditLog, FakePasswordHasher, FakeTokenRepository, FakeUserRepository
from .licensing import (
    FakeCatalogue,
    FakeDirectory,
    FakeGenerationCache,
    FakeSeatRepository,
    FakeSubscriptionRepository,
)
from .rows import (
    AuditRow,
    BillingEventRow,
    FakeIntegrityError,
    InvoiceRow,
    ReadOnlyUnitOfWork,
    StoredOperator,
    StoredSeat,
    StoredSubscription,
    StoredUser,
)
from .unit_of_work import FakeDatabase, FakeTenantScope, FakeUnitOfWork, FakeUnitOfWorkFactory

__all__ = [
    "AuditRow",
    "BillingEventRow",
    "Collected",
    "FakeAuditLog",
    "FakeBilling",
    "FakeCatalogue",
    "FakeDatabase",
    "FakeDirectory",
    "FakeGenerationCache",
    "FakeHostedPayments",
    "FakeIntegrityError",
    "FakeInvoices",
    "FakePasswordHasher",
    "FakePaymentRecords",
    "FakeRenewalStore",
    "FakeSeatRepository",
    "FakeSubscriptionRepository",
    "FakeTenantScope",
    "FakeTokenRepository",
    "FakeUnitOfWork",
    "FakeUnitOfWorkFactory",
    "FakeUserRepository",
    "InvoiceRow",
    "ReadOnlyUnitOfWork",
    "StoredOperator",
    "StoredSeat",
    "StoredSubscription",
    "StoredUser",
]
