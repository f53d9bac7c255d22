"""Ports: what the core needs from the outside world, as protocols.

Services take these as arguments; ``plugins/`` implements them. Repositories
that touch tenant data can only be had through :meth:`UnitOfWork.tenant`, so a
query without a tenant cannot be written by accident.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Protocol, Self

from .errors import Conflict, StintError
from .licensing.activation import ActivationState
from .licensing.catalogue import PlanCatalogue
from .licensing.plans import Plan
from .licensing.subscription import Subscription
from .proration.credit import CreditEntry, CreditLedger
from .proration.invoice import Invoice
from .tenancy import Enterprise, Operator, Person, Tenant, User
from .tracking import LockPolicy, Timer, TrackingRules, WeekStatus, Worklog

__all__ = [
    "ActivationDirectory",
    "ActivationRecord",
    "ActivationRepository",
    "ActivationScope",
    "ActivationUnitOfWork",
    "ActivationUnitOfWorkFactory",
    "Billing",
    "Catalogue",
    "DevOpsConnector",
    "Directory",
    "DueSubscription",
    "Entitlement",
    "GenerationCache",
    "Invoices",
    "JobRunRecord",
    "JobStore",
    "LicenceClient",
    "LicenceRegistry",
    "LicenceServiceRefused",
    "LicenceServiceUnreachable",
    "MailDraft",
    "Mailer",
    "OutboxEntry",
    "PasswordHasher",
    "PersonalTokenRecord",
    "QueuedMail",
    "RefreshTokenRecord",
    "RenewalStore",
    "StaleWorkItem",
    "TenantScope",
    "TokenRepository",
    "TrackingDirectory",
    "TrackingPreference",
    "TrackingRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "WeekSheetData",
    "WorkItemState",
]


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def burn(self, password: str) -> None:
        """Spend one verification's time, so unknown accounts answer as slowly as known ones."""
        ...


class Catalogue(Protocol):
    """The plans catalogue (SPEC §2): data, seeded with defaults, edited by operators."""

    async def load(self) -> PlanCatalogue: ...

    async def seed(self, at: datetime) -> int: ...

    async def save(self, plan: Plan, at: datetime) -> None: ...


class Invoices(Protocol):
    """One billing account's invoices and append-only credit ledger."""

    async def add(self, invoice: Invoice, *, kind: str, idempotency_key: str, at: datetime) -> bool:
        """Store ``invoice``; False (nothing stored) if the idempotency key was used before."""
        ...

    async def list(self, *, after: str = "", limit: int = 50) -> list[tuple[Invoice, str]]: ...

    async def get(self, invoice_id: str) -> tuple[Invoice, str] | None: ...

    async def mark_paid(self, invoice_id: str, at: datetime) -> None: ...

    async def ledger(self, currency: str = "USD") -> CreditLedger: ...

    async def save_ledger(self, before: CreditLedger, after: CreditLedger, at: datetime) -> None: ...


class Billing(Protocol):
    """The payment rail (SPEC §10). Stint computes every amount; the rail only collects it.

    Called after the invoice is committed, so a failing rail never loses an invoice.
    """

    async def collect(self, tenant: Tenant, invoice: Invoice) -> None: ...


class Directory(Protocol):
    """Lookups that cross tenants by design: sign-in, signup, the operator console."""

    catalogue: Catalogue

    async def repoint_enterprise(self, enterprise_id: str, sub_id: str) -> list[str]: ...

    async def tenants_with_due_subscriptions(
        self, today: date, *, grace_days: int, limit: int = 500
    ) -> list[Tenant]: ...

    async def tenant_by_slug(self, slug: str) -> Tenant | None: ...

    async def tenant_by_id(self, tenant_id: str) -> Tenant | None: ...

    async def tenants(self, *, search: str = "", after: str = "", limit: int = 50) -> list[Tenant]:
        ...

    async def tenants_of_enterprise(self, enterprise_id: str) -> list[Tenant]: ...

    async def add_enterprise(self, enterprise: Enterprise) -> None: ...

    async def add_subscription(
        self, sub_id: str, enterprise_id: str, scope: str, sub: Subscription, at: datetime
    ) -> None: ...

    async def add_tenant(self, tenant: Tenant) -> None: ...

    async def save_tenant(self, tenant: Tenant) -> None: ...

    async def person_by_email(self, email: str) -> Person | None: ...

    async def add_person(self, person: Person, created_at: datetime) -> None: ...

    async def operator_by_email(self, email: str) -> tuple[Operator, str] | None:
        """The operator and their password hash."""
        ...

    async def operator_by_id(self, operator_id: str) -> Operator | None: ...

    async def add_operator(self, operator: Operator, password_hash: str, at: datetime) -> None:
        ...

    async def audit(
        self, tenant_id: str | None, actor: str, action: str, subject: str, detail: dict[str, Any],
        at: datetime,
    ) -> None: ...


class TenantScope(Protocol):
    """Every repository of one tenant's data; built only from a tenant id."""

    tenant_id: str

    async def activation_mode(self) -> str | None:
        """How an on-premises server's licence is managed: ``file`` or ``online`` once
        activated (SPEC §7), None when it is bought and changed here."""
        ...

    async def user(self, user_id: str) -> User | None: ...

    async def user_by_email(self, email: str) -> User | None: ...

    async def user_by_person(self, person_id: str) -> User | None: ...

    async def password_hash(self, user_id: str) -> str | None: ...

    async def users(self, *, after: str = "", limit: int = 100) -> list[User]: ...

    async def add_user(self, user: User, password_hash: str | None, at: datetime) -> None: ...

    async def save_user(self, user: User) -> None: ...

    async def touch_user(self, user_id: str, at: datetime) -> None: ...

    async def audit(
        self, actor: str, action: str, subject: str, detail: dict[str, Any], at: datetime
    ) -> None: ...

    async def audited_since(self, action: str, subject: str, since: datetime) -> bool: ...

    async def recent_users(self, since: datetime) -> list[tuple[str, date | None]]:
        """(person, last use) of the users who used the product at or after ``since``."""
        ...

    async def subscription_id(self) -> str: ...

    async def subscription(self, *, for_update: bool = False) -> tuple[str, Subscription]:
        """The tenant's (possibly enterprise-wide) subscription; ``for_update`` locks it."""
        ...

    async def save_subscription(
        self, sub_id: str, sub: Subscription, at: datetime, *, seat_price: int | None = None,
        scope: str | None = None,
    ) -> None: ...

    async def subscription_terms(self) -> tuple[int | None, str, str]:
        """(seat price in force, currency, scope: 'tenant' or 'enterprise')."""
        ...

    async def billing(self) -> Invoices: ...

    async def licensed_people_last_use(self) -> list[tuple[str, date | None]]: ...

    def tracking(self) -> TrackingRepository: ...

    async def is_licensed(self, person_id: str) -> bool: ...

    async def seats_taken(self) -> int: ...

    async def licensed_person_ids(self) -> set[str]: ...

    async def assign_seat(self, person_id: str, by: str, at: datetime) -> None: ...

    async def release_seat(self, person_id: str) -> bool:
        """Free the person's seat; False when they held none."""
        ...

    def tokens(self) -> TokenRepository:
        """This tenant's refresh tokens and personal access tokens."""
        ...


@dataclass(frozen=True, slots=True)
class DueSubscription:
    """A subscription the renewals sweep holds locked for the rest of its transaction."""

    id: str
    subscription: Subscription
    currency: str


class RenewalStore(Protocol):
    """Subscriptions, invoices, credit and audit rows many at a time, for the renewals sweep.

    The sweep renews thousands of subscriptions: it reads and writes them a batch per
    statement, not one at a time. Only good inside a write unit of work.
    """

    async def lock(self, subscription_ids: Sequence[str], *, skip_locked: bool) -> list[DueSubscription]:
        """Lock and read these subscriptions (until the transaction ends); ``skip_locked``
        leaves out those another transaction holds instead of waiting for them."""
        ...

    async def seats_held(self, subscription_ids: Sequence[str]) -> dict[str, int]: ...

    async def existing_invoice_keys(self, keys: Sequence[str]) -> set[str]: ...

    async def ledgers(self, currencies: dict[str, str]) -> dict[str, CreditLedger]:
        """The credit ledger of each subscription (keys: subscription id → its currency)."""
        ...

    async def save(self, saved: Sequence[tuple[str, Subscription, int | None]], at: datetime) -> None:
        """Store each (subscription id, subscription, new seat price or None to keep it)."""
        ...

    async def add_invoices(
        self, invoices: Sequence[tuple[str, str, Invoice, str]], *, kind: str, at: datetime
    ) -> None:
        """Store each (subscription id, tenant id, invoice, idempotency key); a key that
        exists already stores nothing."""
        ...

    async def append_credit(self, entries: Sequence[tuple[str, int, CreditEntry]], at: datetime) -> None:
        """Append each (subscription id, position in its ledger, entry)."""
        ...

    async def audit(
        self, events: Sequence[tuple[str, str, str, str, dict[str, Any]]], at: datetime
    ) -> None:
        """Record each (tenant id, actor, action, subject, detail)."""
        ...


class UnitOfWork(Protocol):
    """One transaction: nothing is kept unless :meth:`commit` is called."""

    directory: Directory

    def tenant(self, tenant_id: str) -> TenantScope: ...

    def renewals(self) -> RenewalStore:
        """Bulk access for the renewals sweep (see :class:`RenewalStore`)."""
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
    def __call__(self, *, write: bool = False) -> UnitOfWork:
        """A new unit of work; ``write=True`` takes the write lock up front on SQLite."""
        ...




# Tokens (SPEC §9) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefreshTokenRecord:
    """One refresh token of a family; only the hash of its secret is kept."""

    id: str
    tenant_id: str
    user_id: str
    family_id: str
    token_hash: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PersonalTokenRecord:
    """A named personal access token; only the hash of its secret is kept."""

    id: str
    tenant_id: str
    user_id: str
    name: str
    token_hash: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class TokenRepository(Protocol):
    """One tenant's tokens; every query filters on that tenant."""

    tenant_id: str

    async def add_refresh(self, record: RefreshTokenRecord) -> None: ...

    async def refresh_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> RefreshTokenRecord | None: ...

    async def mark_refresh_used(self, token_id: str, at: datetime) -> None: ...

    async def revoke_family(self, family_id: str, at: datetime) -> int:
        """Revoke every token of the family that is not revoked yet; how many were."""
        ...

    async def add_pat(self, record: PersonalTokenRecord) -> None: ...

    async def pat_by_hash(self, token_hash: str) -> PersonalTokenRecord | None: ...

    async def pats(self, user_id: str, *, after: str = "", limit: int = 50) -> list[PersonalTokenRecord]:
        """The user's tokens that are not revoked, oldest first, after the cursor ``after`` (an id)."""
        ...

    async def revoke_pat(self, user_id: str, pat_id: str, at: datetime) -> bool:
        """Revoke one of the user's tokens; False when the user has no such live token."""
        ...

    async def touch_pat(self, pat_id: str, at: datetime) -> None: ...


# Caching -----------------------------------------------------------------------------------


class GenerationCache(Protocol):
    """Values stored under the current generations of some scopes.

    A scope names what a value was computed from (``t:<tenant id>``, ``s:<subscription
    id>``, ``*`` for everything). :meth:`bump` moves a scope's generation, so every value
    stored under the old one is never returned again.
    """

    async def get(self, key: str, scopes: tuple[str, ...]) -> tuple[dict[str, Any] | None, str]:
        """The value under ``key`` if none of ``scopes`` moved since it was stored, and the
        stamp (the scopes' generations now) to :meth:`put` a freshly computed value with."""
        ...

    async def put(self, key: str, stamp: str, value: dict[str, Any], ttl_seconds: int) -> None: ...

    async def bump(self, scopes: Iterable[str]) -> None: ...


# Time tracking (SPEC §8) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrackingPreference:
    """One user's tracking settings: their time zone (None: the tenant's) and stop mails."""

    time_zone: str | None = None
    mail_on_system_stop: bool = False


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A pending work-item update, written with the worklog change that caused it.

    ``remaining_delta_s`` > 0 lowers Remaining Work once (its ``effect_key`` is unique);
    every entry also asks for Completed Work to be recomputed from the stored worklogs.
    ``attempt_*`` remember what the last try was about to write, so a retry after a
    crash can tell whether that write landed.
    """

    id: str
    work_item: str
    effect_key: str
    remaining_delta_s: int
    attempts: int
    attempt_rev: int | None = None
    attempt_completed: Decimal | None = None
    attempt_remaining: Decimal | None = None


@dataclass(frozen=True, slots=True)
class WeekSheetData:
    """What one timesheet week needs, read at once: the user's own zone (None: the
    tenant's), the week's status, the lock date and the worklogs of the UTC window asked."""

    time_zone: str | None
    status: WeekStatus
    locked_until: date | None
    worklogs: list[Worklog]


class TrackingRepository(Protocol):
    """One tenant's timers, worklogs, week statuses, rules and work-item outbox."""

    async def week_sheet(self, user_id: str, week: str, start: datetime, end: datetime) -> WeekSheetData:
        """One round trip: zone, status of ``week``, lock date, worklogs starting in ``[start, end)``."""
        ...

    async def rules(self) -> tuple[TrackingRules, LockPolicy]: ...

    async def save_rules(self, rules: TrackingRules, lock: LockPolicy, at: datetime) -> None: ...

    async def preference(self, user_id: str) -> TrackingPreference: ...

    async def save_preference(self, user_id: str, preference: TrackingPreference, at: datetime) -> None:
        ...

    async def lock_user(self, user_id: str) -> None:
        """Serialise this user's timer and worklog changes until the transaction ends."""
        ...

    async def timer(self, user_id: str) -> Timer | None: ...

    async def timers(self) -> list[Timer]: ...

    async def save_timer(self, timer: Timer, at: datetime) -> None: ...

    async def delete_timer(self, user_id: str) -> None: ...

    async def add_worklogs(
        self, worklogs: Sequence[Worklog], at: datetime, *, stop_reason: str | None = None
    ) -> None: ...

    async def worklog(self, worklog_id: str) -> Worklog | None: ...

    async def save_worklog(self, worklog: Worklog, at: datetime) -> None: ...

    async def delete_worklog(self, worklog_id: str) -> None: ...

    async def worklogs(
        self, *, user_id: str | None = None, start: datetime | None = None, end: datetime | None = None,
        after: tuple[datetime, str] | None = None, limit: int | None = None,
    ) -> list[Worklog]:
        """Worklogs starting in ``[start, end)``, oldest first (by ``started_at``, then ``id``);
        with ``after`` only those after that ``(started_at, id)``, at most ``limit`` of them."""
        ...

    async def count_worklogs(self, user_id: str | None = None) -> int: ...

    async def work_item_seconds(self, work_item: str) -> int: ...

    async def week_statuses(self, user_id: str | None = None) -> dict[tuple[str, str], WeekStatus]:
        """Every (user id, week id) whose status is not ``open``."""
        ...

    async def week_status(self, user_id: str, week: str) -> WeekStatus: ...

    async def save_week_status(
        self, user_id: str, week: str, status: WeekStatus, by: str, at: datetime
    ) -> None: ...

    async def enqueue_work_item(
        self, work_item: str, effect_key: str, remaining_delta_s: int, at: datetime
    ) -> None: ...

    async def pending_work_items(self, limit: int = 100) -> list[str]: ...

    async def pending_effects(self, work_item: str) -> list[OutboxEntry]: ...

    async def record_attempt(
        self, ids: Sequence[str], rev: int, completed: Decimal, remaining: Decimal | None
    ) -> None: ...

    async def finish_effects(self, ids: Sequence[str], at: datetime) -> None: ...

    async def fail_effects(self, ids: Sequence[str], error: str) -> None: ...


class TrackingDirectory(Protocol):
    """The cross-tenant questions background jobs ask (never another tenant's rows)."""

    async def tenants_with_timers(self) -> list[str]: ...

    async def tenants_with_pending_work_items(self) -> list[str]: ...


class Mailer(Protocol):
    async def send(self, to: str, subject: str, body: str) -> None: ...


@dataclass(frozen=True, slots=True)
class WorkItemState:
    """A work item's scheduling fields as the DevOps platform holds them (hours)."""

    work_item: str
    rev: int
    completed_work: Decimal | None
    remaining_work: Decimal | None


class StaleWorkItem(Conflict):
    """The work item changed since it was read (HTTP 412 on a ``test /rev``)."""

    code = "stale_work_item"


class DevOpsConnector(Protocol):
    """One tenant's DevOps platform: local work items, or Azure DevOps over REST."""

    async def work_item(self, work_item: str) -> WorkItemState | None: ...

    async def revision(self, work_item: str, rev: int) -> WorkItemState | None: ...

    async def update_work_item(
        self, work_item: str, *, rev: int, completed_work: Decimal, remaining_work: Decimal | None
    ) -> WorkItemState:
        """Set both fields if the item is still at ``rev``; else :class:`StaleWorkItem`."""
        ...


# Background jobs (SPEC §11) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MailDraft:
    """A mail to send once: (kind, tenant, on_date, recipient) is its idempotency key."""

    kind: str
    tenant_id: str
    on_date: date
    recipient: str
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class QueuedMail:
    """A mail in the outbox, claimed by one sender for a lease."""

    id: str
    recipient: str
    subject: str
    body: str
    attempts: int


@dataclass(frozen=True, slots=True)
class JobRunRecord:
    """One run of a background job, as the job-run table keeps it."""

    job: str
    run_key: str
    status: str
    counts: dict[str, int]
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    worker: str


class JobStore(Protocol):
    """The cross-tenant questions and idempotency records of the background jobs.

    Works inside whatever unit of work is open (or alone, one statement at a time).
    Every per-tenant statement filters on that tenant's id.
    """

    async def start_run(self, job: str, run_key: str, worker: str, at: datetime) -> None: ...

    async def finish_run(
        self, run_key: str, status: str, counts: dict[str, int], error: str | None, at: datetime
    ) -> None: ...

    async def last_runs(self) -> list[JobRunRecord]:
        """The latest run of each job."""
        ...

    async def prune_runs(self, before: datetime) -> int:
        """Forget runs started before ``before``; how many."""
        ...

    async def due_subscriptions(
        self, today: date, *, grace_days: int, after: str = "", limit: int = 500
    ) -> list[tuple[str, str]]:
        """(subscription id, one of its tenants' id) with something due, by subscription id."""
        ...

    async def tenants_by_ids(self, tenant_ids: Sequence[str]) -> list[Tenant]: ...

    async def trials_ending(self, first: date, last: date) -> list[tuple[Tenant, date]]:
        """Tenants whose trial's end date lies in ``[first, last]``, with that date."""
        ...

    async def expired_cloud_tenants(
        self, expired_by: date, *, after: str = "", limit: int = 500
    ) -> list[tuple[Tenant, date]]:
        """Cloud tenants not purged whose subscription expired on or before ``expired_by``."""
        ...

    async def collection_admin_emails(self, tenant_id: str) -> list[str]: ...

    async def retention_notices(self, tenant_id: str, purge_on: date) -> dict[int, date]:
        """Warnings recorded for this purge date: threshold (days) → the day it was given."""
        ...

    async def add_retention_notice(self, tenant_id: str, purge_on: date, threshold: int, on: date,
                                   at: datetime) -> bool:
        """Record a warning; False when it was recorded before."""
        ...

    async def queue_mail(self, mail: MailDraft, at: datetime) -> bool:
        """Put a mail in the outbox; False when that mail was queued before."""
        ...

    async def claim_mail(self, now: datetime, lease_seconds: int, limit: int) -> list[QueuedMail]: ...

    async def mail_sent(self, mail_id: str, at: datetime) -> None: ...

    async def mail_failed(self, mail_id: str, error: str) -> None: ...

    async def purge_tenant(self, tenant_id: str, at: datetime) -> dict[str, int] | None:
        """Mark the tenant purged and delete its tracking data, tokens and memberships:
        rows deleted per table, or None when it was purged already (by another worker)."""
        ...

    async def backlog(self, today: date, *, grace_days: int) -> dict[str, int]:
        """How much due work waits: subscriptions due, mails unsent, work items pending."""
        ...


# On-premises activation (SPEC §7) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entitlement:
    """What a tenant may use, as the licence service or an activation file grants it.

    ``expires_on`` is the first day not covered (periods are ``[start, end)``);
    ``status`` is the licence service's view (``active``, ``cancelled``, ``past_due``,
    ``expired``; a file is always ``active``); ``source`` is ``online`` or ``file``.
    """

    plan_id: str
    seats: int
    interval: str
    period_start: date
    expires_on: date
    status: str
    source: str


@dataclass(frozen=True, slots=True)
class ActivationRecord:
    """One tenant's activation: how (``mode``: ``file``, ``online`` or None), what it was
    granted, the installed file with its high-water mark, and the online refresh state."""

    mode: str | None = None
    entitlement: Entitlement | None = None
    file_state: ActivationState = field(default_factory=ActivationState)
    subscription_id: str | None = None
    refreshed_at: datetime | None = None
    attempted_at: datetime | None = None
    refresh_error: str | None = None


class ActivationRepository(Protocol):
    """One tenant's activation record; every query filters on that tenant."""

    async def load(self) -> ActivationRecord: ...

    async def save(self, record: ActivationRecord, at: datetime) -> None: ...


class ActivationScope(TenantScope, Protocol):
    def activation(self) -> ActivationRepository: ...


class ActivationUnitOfWork(UnitOfWork, Protocol):
    def tenant(self, tenant_id: str) -> ActivationScope: ...


class ActivationUnitOfWorkFactory(Protocol):
    def __call__(self, *, write: bool = False) -> ActivationUnitOfWork: ...


class ActivationDirectory(Protocol):
    """The installation-wide activation questions (used inside a unit of work)."""

    async def server_id(self, candidate: str, at: datetime) -> str:
        """This installation's server id, storing ``candidate`` the first time it is asked."""
        ...

    async def online_tenants(self) -> list[str]:
        """Ids of the tenants activated online (the refresh job visits each)."""
        ...


class LicenceRegistry(Protocol):
    """The licence service's side: subscriptions by id and the servers registered to them."""

    async def subscription(self, subscription_id: str) -> Subscription | None: ...

    async def register(
        self, subscription_id: str, server_id: str, tenant: str, address: str | None, at: datetime
    ) -> tuple[bool, int]:
        """Record a call from ``server_id``: (whether it is new, servers registered now)."""
        ...


class LicenceServiceUnreachable(StintError):
    """The licence service could not be asked (network, proxy, timeout, its own failure)."""

    code = "licence_service_unreachable"


class LicenceServiceRefused(StintError):
    """The licence service answered, and refused (unknown subscription, wrong plan …)."""

    code = "licence_service_refused"


class LicenceClient(Protocol):
    """An on-premises server's line to the licence service."""

    async def entitlement(self, subscription_id: str, server_id: str, tenant: str) -> Entitlement: ...


# Payment provider (SPEC §10) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BillingCustomer:
    """A billing account (a subscription: one tenant, or a whole enterprise) at the provider."""

    subscription_id: str
    customer_id: str | None = None
    email: str | None = None
    payment_method_id: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteInvoice:
    """How far one Stint invoice got at the provider.

    ``state``: ``new`` (nothing sent yet), ``draft`` (created there), ``open`` (finalised,
    awaiting payment), ``paying`` (a charge was asked for and its answer has not come: a
    retry repeats it under the same key), ``failed`` (the last attempt was refused), ``paid``.
    """

    invoice_id: str
    subscription_id: str
    tenant_id: str
    state: str = "new"
    remote_id: str | None = None
    pay_attempts: int = 0
    last_error: str | None = None


class PaymentRecords(Protocol):
    """What Stint keeps about the payment provider. Writes join the open unit of work,
    so an event id is stored in the same transaction as the event's effect."""

    async def claim_event(self, event_id: str, event_type: str, outcome: str, at: datetime) -> bool:
        """Record a provider event id; False (nothing written) when it was recorded before."""
        ...

    async def seen_event(self, event_id: str) -> bool: ...

    async def invoice_account(self, invoice_id: str) -> tuple[str, str] | None:
        """(tenant id, subscription id) of a Stint invoice, or None when there is none."""
        ...

    async def invoice(self, invoice_id: str) -> Invoice | None: ...

    async def due_invoice_ids(self, subscription_id: str) -> list[str]:
        """The account's invoices still waiting for money (status ``due``, amount due > 0)."""
        ...

    async def customer(self, subscription_id: str, *, for_update: bool = False) -> BillingCustomer:
        """The account's provider customer (a blank one when none yet); ``for_update`` locks it."""
        ...

    async def customer_by_remote(self, customer_id: str) -> BillingCustomer | None: ...

    async def save_customer(self, customer: BillingCustomer, at: datetime) -> None: ...

    async def remote_invoice(self, invoice_id: str) -> RemoteInvoice | None: ...

    async def remote_invoice_by_remote_id(self, remote_id: str) -> RemoteInvoice | None: ...

    async def save_remote_invoice(self, record: RemoteInvoice, at: datetime) -> None: ...

    async def set_remote_state(self, invoice_id: str, state: str, at: datetime) -> None:
        """Move a remote invoice to ``state`` unless it is ``paid`` already (one statement)."""
        ...

    async def unsent_invoices(
        self, *, after: str, limit: int, created_before: datetime
    ) -> tuple[list[str], str | None]:
        """A page of due invoices, by id after ``after``, that a push can still move on.

        Due with an amount to pay, created before ``created_before``, and at the provider:
        not at all, only partly (``new``, ``draft``), a charge whose answer never came
        (``paying``), or finalised (``open``) while the account has a payment method.
        Returns those ids and the cursor of the next page (None after the last page).
        """
        ...


class HostedPayments(Protocol):
    """The provider's hosted pages: collecting a payment method, and managing cards."""

    async def checkout(self, tenant: Tenant, user: User) -> str:
        """The URL of a hosted page that collects a payment method for the tenant's account."""
        ...

    async def portal(self, tenant: Tenant) -> str:
        """The URL of the provider's customer portal for the tenant's account."""
        ...
