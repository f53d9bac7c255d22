"""The unit of work: one transaction, and the repositories of each context it hands out.

Repositories that touch a tenant's data can only be had through :meth:`UnitOfWork.tenant`,
so a query without a tenant cannot be written by accident; each context's repository
comes from its own method of :class:`TenantScope` (``uow.tenant(t).seats()``).

A tenant scope also carries the :class:`Origin` of what it writes — who acts and from
where — which the worklog change history records (``core.tracking.history``). It is set
once at the edge (``core.origin``) and read when the scope is made: a repository never
takes it as an argument, so no write path can leave it out.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from core.activation.ports import ActivationRepository
from core.activities.ports import ActivityTypeRepository
from core.audit import AuditLog
from core.billing.ports import Invoices, PaymentRecords, RenewalStore
from core.budgets.ports import BudgetRepository
from core.identity.ports import OAuthStore, SecondFactorStore, TokenRepository, UserRepository
from core.licensing.ports import Directory, SeatRepository, SubscriptionRepository
from core.notifications import NotificationSettings
from core.origin import Origin, Source, act_as, acting, current_origin, sourced
from core.rates.ports import RateRepository
from core.tracking.import_jobs import ImportJobStore
from core.tracking.ports import StagedWorklogs, TrackingRepository
from core.tracking.saved_views import SavedViewStore
from core.work_items.ports import WorkItemRepository
from core.working_hours import WorkingHoursStore

__all__ = [
    "Origin",
    "Source",
    "TenantScope",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "act_as",
    "acting",
    "current_origin",
    "sourced",
]


class TenantScope(Protocol):
    """One tenant's repositories, one per context; built only from a tenant id."""

    tenant_id: str
    #: Who writes through this scope, and from where (the origin when it was made).
    origin: Origin

    def users(self) -> UserRepository: ...

    def audit(self) -> AuditLog: ...

    def second_factors(self) -> SecondFactorStore:
        """The tenant's users' second factors (TOTP secrets and recovery codes)."""
        ...

    def subscriptions(self) -> SubscriptionRepository: ...

    def seats(self) -> SeatRepository: ...

    def invoices(self) -> Invoices:
        """Invoices and credit of the tenant's billing account (its subscription)."""
        ...

    def tracking(self) -> TrackingRepository: ...

    def tokens(self) -> TokenRepository: ...

    def activation(self) -> ActivationRepository: ...

    def work_items(self) -> WorkItemRepository:
        """The tenant's work items and iterations mirror, and its sync state."""
        ...

    def budgets(self) -> BudgetRepository:
        """Budgets, their assignments, and the read model their usage is computed from."""
        ...

    def activity_types(self) -> ActivityTypeRepository:
        """The tenant's activity type catalogue."""
        ...

    def rates(self) -> RateRepository:
        """The tenant's rate currency and user rates."""
        ...

    def saved_views(self) -> SavedViewStore:
        """The tenant's users' saved Times Explorer views (each user's own)."""
        ...

    def import_jobs(self) -> ImportJobStore:
        """The tenant's background worklog imports (each user's own)."""
        ...

    def notifications(self) -> NotificationSettings:
        """Which notification mails the tenant's users want, and the tenant's defaults."""
        ...

    def working_hours(self) -> WorkingHoursStore:
        """Each user's expected hours per weekday and days off."""
        ...


class UnitOfWork(Protocol):
    """One transaction: nothing is kept unless :meth:`commit` is called."""

    @property
    def directory(self) -> Directory:
        """The lookups that cross tenants by design, in this transaction."""
        ...

    def tenant(self, tenant_id: str) -> TenantScope: ...

    def renewals(self) -> RenewalStore:
        """Bulk access for the renewals sweep (see :class:`~core.billing.ports.RenewalStore`)."""
        ...

    def payments(self) -> PaymentRecords:
        """What Stint keeps about the payment provider, written in this transaction."""
        ...

    def oauth(self) -> OAuthStore:
        """OAuth clients and codes; each method names the tenant it means (``core.identity.oauth``)."""
        ...

    async def commit(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, write: bool = False, staged: StagedWorklogs | None = None) -> UnitOfWork:
        """A new unit of work; ``write=True`` takes the write lock up front on SQLite.

        ``staged``: worklogs this write unit of work will add with
        ``add_staged_worklogs`` — the storage may prepare them before taking the lock."""
        ...
