"""In-memory fakes of the core's ports, for fast tests of the use cases (core/services).

Each fake behaves like its real adapter where a use case depends on it: ordering, cursors,
idempotency keys, unique keys, and a unit of work that keeps nothing unless it commits.
"""

from .activation import (
    FakeActivationDirectory,
    FakeActivationFileReader,
    FakeActivationRepository,
    FakeLicenceClient,
    FakeLicenceRegistry,
)
from .billing import (
    Collected,
    FakeBilling,
    FakeHostedPayments,
    FakeInvoices,
    FakePaymentRecords,
    FakeRenewalStore,
)
from .idempotency import FakeIdempotencyStore
from .identity import (
    FakeAuditLog,
    FakeOneTimeCodes,
    FakePasswordHasher,
    FakeSecondFactorStore,
    FakeTokenRepository,
    FakeUserRepository,
)
from .jobs import FakeJobStore, FakeMailer, OutboxMail, SentMail
from .licensing import (
    FakeCatalogue,
    FakeDirectory,
    FakeGenerationCache,
    FakeSeatRepository,
    FakeSubscriptionRepository,
)
from .provider import FakePaymentProvider
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
    fits,
)
from .tracking import (
    FakeDevOpsConnectionStore,
    FakeDevOpsConnector,
    FakeTrackingDirectory,
    FakeTrackingRepository,
)
from .unit_of_work import FakeDatabase, FakeTenantScope, FakeUnitOfWork, FakeUnitOfWorkFactory

__all__ = [
    "AuditRow",
    "BillingEventRow",
    "Collected",
    "FakeActivationDirectory",
    "FakeActivationFileReader",
    "FakeActivationRepository",
    "FakeAuditLog",
    "FakeBilling",
    "FakeCatalogue",
    "FakeDatabase",
    "FakeDevOpsConnectionStore",
    "FakeDevOpsConnector",
    "FakeDirectory",
    "FakeGenerationCache",
    "FakeHostedPayments",
    "FakeIdempotencyStore",
    "FakeIntegrityError",
    "FakeInvoices",
    "FakeJobStore",
    "FakeLicenceClient",
    "FakeLicenceRegistry",
    "FakeMailer",
    "FakeOneTimeCodes",
    "FakePasswordHasher",
    "FakePaymentProvider",
    "FakePaymentRecords",
    "FakeRenewalStore",
    "FakeSeatRepository",
    "FakeSecondFactorStore",
    "FakeSubscriptionRepository",
    "FakeTenantScope",
    "FakeTokenRepository",
    "FakeTrackingDirectory",
    "FakeTrackingRepository",
    "FakeUnitOfWork",
    "FakeUnitOfWorkFactory",
    "FakeUserRepository",
    "InvoiceRow",
    "OutboxMail",
    "ReadOnlyUnitOfWork",
    "SentMail",
    "StoredOperator",
    "StoredSeat",
    "StoredSubscription",
    "StoredUser",
    "fits",
]
