"""The in-memory unit of work: one shared :class:`FakeDatabase` per factory, and units of work
that keep nothing unless they commit (cosmicpython's FakeUnitOfWork, grown to Stint's ports).

A unit of work works on a deep copy of the shared store taken when it opens; ``commit``
copies that working copy back, and leaving without a commit drops it, so a refused use
case leaves the store exactly as it was. Like the real adapter (``plugins/storage/uow.py``):

* units of work do not nest (a second one opened inside the first raises);
* a read unit of work (``uow()``) may not write, lock or commit: every writing repository
  method calls :meth:`FakeDatabase.check_write`, which refuses it there (PostgreSQL does);
* the scopes a commit changed are handed to ``after_commit`` (the access-decision cache's
  ``bump``), so cached decisions are forgotten as in production.

The fakes model one writer at a time: a write unit of work that commits after another one
committed since it opened raises instead of silently losing the other's changes.

Repositories take ``(store)`` or ``(store, tenant_id)`` and read and write the store's fields.
Installation-wide stores passed to services next to the unit of work (the job store, the
activation, licence and tracking directories, the DevOps connections) call
:meth:`FakeDatabase.joined` on every call, so their writes join the unit of work open in the
same task, or go straight to the shared store when none is open. What a unit of work hands
out (``tenant()``, ``payments()`` …) works on its working copy directly.
"""

from __future__ import annotations

import contextvars
import copy
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from core.activation.ports import ActivationRecord
from core.activities import ActivityType
from core.billing.ports import BillingCustomer, RemoteInvoice
from core.budgets import Budget
from core.idempotency import KeyRecord, KeyScope
from core.identity.oauth import AuthorizationCode, DeviceCode, OAuthClient
from core.identity.ports import PersonalTokenRecord, RefreshTokenRecord, SecondFactorRecord
from core.jobs.ports import JobRunRecord
from core.licensing.subscription import Subscription
from core.money import Money
from core.origin import Origin, current_origin
from core.proration.credit import CreditEntry
from core.tenancy import Enterprise, Person, Tenant
from core.tracking import Timer, WeekRecord, WeekStatus, Worklog
from core.tracking.automation import WorkItemAutomation
from core.tracking.history import WorklogChange
from core.tracking.import_jobs import ImportJob
from core.tracking.ports import (
    OutboxEntry,
    StagedWorklogs,
    StoredDevOpsConnection,
    TrackingPreference,
    TrackingSettings,
    UserWeek,
)
from core.tracking.saved_views import SavedView
from core.work_items import Iteration, WorkItem
from core.work_items.burndown import HistoryPoint
from core.work_items.ports import SyncState
from core.working_hours import WorkingHours

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
from .work_items import FakeWorkItemRepository, IdCounter

if TYPE_CHECKING:
    # The repositories import this module (the store, its rows and errors); this one
    # imports them only when a unit of work hands one out.
    from .activation import FakeActivationRepository
    from .activities import FakeActivityTypeRepository, FakeRateRepository
    from .billing import FakeInvoices, FakePaymentRecords, FakeRenewalStore
    from .budgets import FakeBudgetRepository
    from .identity import (
        FakeAuditLog,
        FakeOAuthStore,
        FakeSecondFactorStore,
        FakeTokenRepository,
        FakeUserRepository,
    )
    from .import_jobs import FakeImportJobStore
    from .licensing import FakeDirectory, FakeSeatRepository, FakeSubscriptionRepository
    from .notifications import FakeNotificationSettings, FakeWorkingHoursStore
    from .saved_views import FakeSavedViewStore
    from .tracking import FakeTrackingRepository

__all__ = [
    "AuditRow",
    "BillingEventRow",
    "FakeDatabase",
    "FakeIntegrityError",
    "FakeTenantScope",
    "FakeUnitOfWork",
    "FakeUnitOfWorkFactory",
    "InvoiceRow",
    "ReadOnlyUnitOfWork",
    "StoredOperator",
    "StoredSeat",
    "StoredSubscription",
    "StoredUser",
]


# The store. ------------------------------------------------------------------------------


@dataclass
class FakeDatabase:
    """Every table, in memory. Tenant-scoped tables are keyed by tenant id first."""

    # Licensing and identity (installation-wide rows, as in the real schema).
    enterprises: dict[str, Enterprise] = field(default_factory=dict)
    subscriptions: dict[str, StoredSubscription] = field(default_factory=dict)
    tenants: dict[str, Tenant] = field(default_factory=dict)
    #: When a tenant was purged (the tenant row's ``purged_at``; absent: not purged).
    purged_at: dict[str, datetime] = field(default_factory=dict)
    persons: dict[str, Person] = field(default_factory=dict)
    #: tenant id → user id → row.
    users: dict[str, dict[str, StoredUser]] = field(default_factory=dict)
    #: subscription id (the pool) → person id → seat.
    seats: dict[str, dict[str, StoredSeat]] = field(default_factory=dict)
    operators: dict[str, StoredOperator] = field(default_factory=dict)
    #: The plan catalogue as stored (``plan_to_dict``), in position order; empty: the defaults.
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)
    audit: list[AuditRow] = field(default_factory=list)
    #: Token id → record, every tenant's (each record names its tenant).
    refresh_tokens: dict[str, RefreshTokenRecord] = field(default_factory=dict)
    oauth_clients: dict[str, OAuthClient] = field(default_factory=dict)
    oauth_codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    oauth_devices: dict[str, DeviceCode] = field(default_factory=dict)
    personal_tokens: dict[str, PersonalTokenRecord] = field(default_factory=dict)
    #: Operator or user id → second factor (the secret's columns of the account's row).
    second_factors: dict[str, SecondFactorRecord] = field(default_factory=dict)
    #: Owner id → recovery code hash → when it was used (None: unused).
    recovery_codes: dict[str, dict[str, datetime | None]] = field(default_factory=dict)
    #: Idempotency keys and their answers.
    idempotency_keys: dict[KeyScope, KeyRecord] = field(default_factory=dict)

    # Billing.
    #: Invoice id → row, in the order they were stored.
    invoices: dict[str, InvoiceRow] = field(default_factory=dict)
    #: The last invoice number given, per billing account (the ``invoice_counter`` table).
    invoice_counters: dict[str, int] = field(default_factory=dict)
    #: subscription id → the credit ledger's entries, by position.
    credit: dict[str, list[CreditEntry]] = field(default_factory=dict)
    billing_events: dict[str, BillingEventRow] = field(default_factory=dict)
    #: subscription id → the provider's customer.
    billing_customers: dict[str, BillingCustomer] = field(default_factory=dict)
    #: Stint invoice id → how far it got at the provider.
    remote_invoices: dict[str, RemoteInvoice] = field(default_factory=dict)
    #: Subscriptions another transaction holds locked (the renewals sweep skips or waits).
    locked_elsewhere: set[str] = field(default_factory=set)

    # Tracking (tenant id → …).
    worklogs: dict[str, dict[str, Worklog]] = field(default_factory=dict)
    #: Per tenant, every worklog change in write order (``worklog_change``).
    worklog_changes: dict[str, list[WorklogChange]] = field(default_factory=dict)
    timers: dict[str, dict[str, Timer]] = field(default_factory=dict)
    week_statuses: dict[str, dict[UserWeek, WeekStatus]] = field(default_factory=dict)
    #: tenant id → week → its particulars (submitted, decided, note); the status is in both.
    week_records: dict[str, dict[UserWeek, WeekRecord]] = field(default_factory=dict)
    #: tenant id → user id → their approvers' ids.
    approvers: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    tracking_settings: dict[str, TrackingSettings] = field(default_factory=dict)
    #: Per tenant, who may edit other people's time (``editing_rule``; absent: the default).
    editing_rules: dict[str, str] = field(default_factory=dict)
    #: tenant id → its work item automation settings (absent: the defaults).
    work_item_automation: dict[str, WorkItemAutomation] = field(default_factory=dict)
    preferences: dict[str, dict[str, TrackingPreference]] = field(default_factory=dict)
    outbox: dict[str, list[OutboxEntry]] = field(default_factory=dict)
    devops_connections: dict[str, StoredDevOpsConnection] = field(default_factory=dict)
    #: tenant id → outbox entry id → when it was done (absent: pending).
    outbox_done_at: dict[str, dict[str, datetime]] = field(default_factory=dict)
    #: tenant id → outbox entry id → the last error of a failed try.
    outbox_errors: dict[str, dict[str, str]] = field(default_factory=dict)
    #: tenant id → worklog id → the stop reason of the track that left it (None: added by hand).
    stop_reasons: dict[str, dict[str, str | None]] = field(default_factory=dict)
    #: tenant id → worklog id → (created_at, updated_at), as the worklog row keeps them.
    worklog_times: dict[str, dict[str, tuple[datetime, datetime]]] = field(default_factory=dict)

    # Work items (tenant id → …): the mirror, its id counters and the sync state.
    work_items: dict[str, dict[int, WorkItem]] = field(default_factory=dict)
    iterations: dict[str, dict[int, Iteration]] = field(default_factory=dict)
    work_item_counters: dict[str, IdCounter] = field(default_factory=dict)
    #: Per tenant, (item id, UTC day) → the day's last history point and its changed_at.
    work_item_history: dict[str, dict[tuple[int, date], tuple[HistoryPoint, datetime]]] = field(
        default_factory=dict)
    work_item_syncs: dict[str, SyncState] = field(default_factory=dict)

    # Budgets (tenant id → …).
    budgets: dict[str, dict[str, Budget]] = field(default_factory=dict)
    #: tenant id → (kind, target) → budget id: a target has one budget.
    budget_assignments: dict[str, dict[tuple[str, str], str]] = field(default_factory=dict)

    # Activity types and rates (tenant id → …).
    activity_types: dict[str, dict[str, ActivityType]] = field(default_factory=dict)
    #: tenant id → user id → hourly rate.
    user_rates: dict[str, dict[str, Money]] = field(default_factory=dict)
    #: tenant id → the rate currency the first rate fixed.
    rate_currencies: dict[str, str] = field(default_factory=dict)

    # Saved Times Explorer views (tenant id → view id → view).
    saved_views: dict[str, dict[str, SavedView]] = field(default_factory=dict)
    #: Background worklog imports (tenant id → job id → job).
    import_jobs: dict[str, dict[str, ImportJob]] = field(default_factory=dict)
    # Notifications (tenant id → user id, or "" for the tenant's default → kind → on).
    notification_choices: dict[str, dict[str, dict[str, bool]]] = field(default_factory=dict)
    #: tenant id → user id → working hours (absent: the default, 8 h Monday to Friday).
    working_hours: dict[str, dict[str, WorkingHours]] = field(default_factory=dict)

    # Activation.
    activations: dict[str, ActivationRecord] = field(default_factory=dict)
    trusted_times: dict[str, datetime] = field(default_factory=dict)
    server_id: str | None = None
    #: subscription id → the server ids registered to it.
    registrations: dict[str, set[str]] = field(default_factory=dict)

    # Jobs.
    job_runs: list[JobRunRecord] = field(default_factory=list)
    #: The mail outbox (rows of tests/fakes/jobs.py).
    mails: list[Any] = field(default_factory=list)
    #: (tenant id, purge date) → threshold in days → the day that warning was given.
    retention_notices: dict[tuple[str, date], dict[int, date]] = field(default_factory=dict)

    # Bookkeeping of the fakes themselves, never copied back by a commit.
    #: True in the working copy of a read unit of work.
    read_only: bool = field(default=False, repr=False)
    #: Counts commits, so a commit can tell another one happened since its unit of work opened.
    version: int = field(default=0, repr=False)
    #: The cache scopes this working copy changed (``t:…``, ``s:…``, ``u:…``).
    pending_changes: set[str] = field(default_factory=set, repr=False)

    def check_write(self, what: str) -> None:
        """Refuse ``what`` (a write or a lock) in a read unit of work, as PostgreSQL does."""
        if self.read_only:
            raise ReadOnlyUnitOfWork(f"a read unit of work cannot {what}: use uow(write=True)")

    def note_change(self, scope: str) -> None:
        """Record that this transaction changed ``scope`` (bumped in the cache after commit)."""
        self.pending_changes.add(scope)

    def joined(self) -> FakeDatabase:
        """The store to use now: the working copy of the unit of work open in this task on
        this store, or this store itself (one statement, committed at once) when none is."""
        current = _open.get()
        if current is not None and current.shared is self:
            return current.working
        return self

    def subscription_by_id(self, subscription_id: str) -> Subscription | None:
        stored = self.subscriptions.get(subscription_id)
        return stored.subscription if stored else None

    def subscription_of(self, tenant_id: str) -> str:
        """The id of the tenant's subscription (its billing account and seat pool)."""
        tenant = self.tenants.get(tenant_id)
        if tenant is None:
            raise LookupError(f"no tenant {tenant_id}")
        return tenant.subscription_id


_BOOKKEEPING = frozenset({"read_only", "version", "pending_changes"})
_TABLES = tuple(f.name for f in dataclasses.fields(FakeDatabase) if f.name not in _BOOKKEEPING)


@dataclass(frozen=True, slots=True)
class _Open:
    shared: FakeDatabase
    working: FakeDatabase


_open: contextvars.ContextVar[_Open | None] = contextvars.ContextVar("fake_unit_of_work", default=None)

#: Called after a commit with the scopes it changed (the cache's ``bump``).
AfterCommit = Callable[[set[str]], Awaitable[None]]


class FakeTenantScope:
    """One tenant's repositories on a unit of work's working copy."""

    def __init__(self, store: FakeDatabase, tenant_id: str, origin: Origin | None = None) -> None:
        self.store = store
        self.tenant_id = tenant_id
        self.origin = origin if origin is not None else current_origin()

    def users(self) -> FakeUserRepository:
        from .identity import FakeUserRepository

        return FakeUserRepository(self.store, self.tenant_id)

    def audit(self) -> FakeAuditLog:
        from .identity import FakeAuditLog

        return FakeAuditLog(self.store, self.tenant_id)

    def second_factors(self) -> FakeSecondFactorStore:
        from .identity import FakeSecondFactorStore

        return FakeSecondFactorStore(self.store, self.tenant_id)

    def subscriptions(self) -> FakeSubscriptionRepository:
        from .licensing import FakeSubscriptionRepository

        return FakeSubscriptionRepository(self.store, self.tenant_id)

    def seats(self) -> FakeSeatRepository:
        from .licensing import FakeSeatRepository

        return FakeSeatRepository(self.store, self.tenant_id)

    def invoices(self) -> FakeInvoices:
        from .billing import FakeInvoices

        return FakeInvoices(self.store, self.tenant_id)

    def tracking(self) -> FakeTrackingRepository:
        from .tracking import FakeTrackingRepository

        return FakeTrackingRepository(self.store, self.tenant_id, self.origin)

    def tokens(self) -> FakeTokenRepository:
        from .identity import FakeTokenRepository

        return FakeTokenRepository(self.store, self.tenant_id)

    def activation(self) -> FakeActivationRepository:
        from .activation import FakeActivationRepository

        return FakeActivationRepository(self.store, self.tenant_id)

    def work_items(self) -> FakeWorkItemRepository:
        return FakeWorkItemRepository(self.store, self.tenant_id)

    def budgets(self) -> FakeBudgetRepository:
        from .budgets import FakeBudgetRepository

        return FakeBudgetRepository(self.store, self.tenant_id)

    def activity_types(self) -> FakeActivityTypeRepository:
        from .activities import FakeActivityTypeRepository

        return FakeActivityTypeRepository(self.store, self.tenant_id)

    def rates(self) -> FakeRateRepository:
        from .activities import FakeRateRepository

        return FakeRateRepository(self.store, self.tenant_id)

    def saved_views(self) -> FakeSavedViewStore:
        from .saved_views import FakeSavedViewStore

        return FakeSavedViewStore(self.store, self.tenant_id)

    def import_jobs(self) -> FakeImportJobStore:
        from .import_jobs import FakeImportJobStore

        return FakeImportJobStore(self.store, self.tenant_id)

    def notifications(self) -> FakeNotificationSettings:
        from .notifications import FakeNotificationSettings

        return FakeNotificationSettings(self.store, self.tenant_id)

    def working_hours(self) -> FakeWorkingHoursStore:
        from .notifications import FakeWorkingHoursStore

        return FakeWorkingHoursStore(self.store, self.tenant_id)


class FakeUnitOfWork:
    """One transaction on a copy of the shared store."""

    def __init__(self, shared: FakeDatabase, *, write: bool, after_commit: AfterCommit | None = None) -> None:
        self.shared = shared
        self.write = write
        self.committed = False
        self._after_commit = after_commit
        self._working: FakeDatabase | None = None
        self._entered_version = 0
        self._token: contextvars.Token[_Open | None] | None = None

    @property
    def is_open(self) -> bool:
        return self._working is not None

    @property
    def store(self) -> FakeDatabase:
        """This transaction's working copy."""
        if self._working is None:
            raise RuntimeError("the unit of work is not open: use it in `async with`")
        return self._working

    @property
    def directory(self) -> FakeDirectory:
        from .licensing import FakeDirectory

        return FakeDirectory(self.store)

    def tenant(self, tenant_id: str) -> FakeTenantScope:
        if not tenant_id:
            raise ValueError("a tenant scope needs a tenant id")
        return FakeTenantScope(self.store, tenant_id)

    def renewals(self) -> FakeRenewalStore:
        from .billing import FakeRenewalStore

        return FakeRenewalStore(self.store)

    def payments(self) -> FakePaymentRecords:
        from .billing import FakePaymentRecords

        return FakePaymentRecords(self.store)

    def oauth(self) -> FakeOAuthStore:
        from .identity import FakeOAuthStore

        return FakeOAuthStore(self.store)

    async def commit(self) -> None:
        working = self.store
        if not self.write:
            raise ReadOnlyUnitOfWork("a read unit of work cannot commit: use uow(write=True)")
        if self.shared.version != self._entered_version:
            raise RuntimeError(
                "another unit of work committed while this one was open: the fakes model one "
                "writer at a time (the real database would have serialised them)"
            )
        changed, working.pending_changes = working.pending_changes, set()
        # A fresh copy goes to the shared store, so repositories still holding the working
        # copy cannot reach into the shared one afterwards.
        snapshot = copy.deepcopy(working)
        for name in _TABLES:
            setattr(self.shared, name, getattr(snapshot, name))
        self.shared.version += 1
        self._entered_version = self.shared.version
        self.committed = True
        if changed and self._after_commit is not None:
            await self._after_commit(changed)

    async def __aenter__(self) -> Self:
        if _open.get() is not None:
            # The real unit of work refuses this too: the inner one would silently join the
            # outer transaction and its commit would mean nothing.
            raise RuntimeError("units of work do not nest")
        working = copy.deepcopy(self.shared)
        working.read_only = not self.write
        working.pending_changes = set()
        self._working = working
        self._entered_version = self.shared.version
        self._token = _open.set(_Open(self.shared, working))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Whatever was not committed is dropped with the working copy: the rollback.
        if self._token is not None:
            _open.reset(self._token)
            self._token = None
        self._working = None


class FakeUnitOfWorkFactory:
    """Hands out units of work on one shared store, and remembers each one for assertions."""

    def __init__(
        self,
        store: FakeDatabase | None = None,
        *,
        after_commit: AfterCommit | None = None,
    ) -> None:
        self.store = store if store is not None else FakeDatabase()
        #: Called with the changed scopes after a commit (bootstrap wires the cache's bump).
        self.after_commit = after_commit
        self.units: list[FakeUnitOfWork] = []

    def __call__(self, *, write: bool = False, staged: StagedWorklogs | None = None) -> FakeUnitOfWork:
        # ``staged`` needs no preparing here: ``add_staged_worklogs`` adds them as they are.
        unit = FakeUnitOfWork(self.store, write=write, after_commit=self.after_commit)
        self.units.append(unit)
        return unit

    @property
    def commits(self) -> int:
        """How many units of work committed."""
        return sum(1 for unit in self.units if unit.committed)

    @property
    def writes(self) -> int:
        """How many write units of work were opened (committed or not)."""
        return sum(1 for unit in self.units if unit.write)

    @property
    def open_units(self) -> int:
        """How many units of work are open right now."""
        return sum(1 for unit in self.units if unit.is_open)
