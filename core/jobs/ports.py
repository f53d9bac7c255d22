"""The background jobs' ports: runs, the cross-tenant questions jobs ask, the mail
outbox and the mailer (SPEC §11)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from core.tenancy import Tenant

__all__ = [
    "DueRef", "JobRunRecord", "JobStore", "MailDraft", "MailInDoubt", "Mailer", "QueuedMail", "TenantOnDate",
]


@dataclass(frozen=True, slots=True)
class DueRef:
    """A subscription with something due, and one of its tenants."""

    subscription_id: str
    tenant_id: str


@dataclass(frozen=True, slots=True)
class TenantOnDate:
    """A tenant and the day something happens to it (a trial ends, a subscription expired)."""

    tenant: Tenant
    on: date


class MailInDoubt(Exception):
    """The send failed after the message may have reached the mail server (the connection
    dropped during or after DATA): sending it again could deliver it twice."""


class Mailer(Protocol):
    async def send(
        self, to: str, subject: str, body: str, *, to_name: str = "", unsubscribe: str | None = None,
        locale: str = "en",
    ) -> None:
        """Send a mail; ``to_name`` is the recipient's display name (any text: the mailer keeps
        it from breaking the headers), ``unsubscribe`` the one-click address of a notification,
        ``locale`` the recipient's language (the words the mailer adds itself).

        Raises :class:`MailInDoubt` when the server may have the mail despite the error; any
        other exception means it was not accepted."""
        ...


@dataclass(frozen=True, slots=True)
class MailDraft:
    """A mail to send once: (kind, tenant, on_date, recipient) is its idempotency key.

    ``preference`` names the notification kind (``core.notifications.KINDS``) a recipient
    can turn off; None for mails nobody can refuse (a warning that data will be deleted).
    """

    kind: str
    tenant_id: str
    on_date: date
    recipient: str
    subject: str
    body: str
    preference: str | None = None


@dataclass(frozen=True, slots=True)
class QueuedMail:
    """A mail in the outbox, claimed by one sender for a lease."""

    id: str
    recipient: str
    subject: str
    body: str
    attempts: int
    tenant_id: str = ""
    #: The recipient's user id and display name when the address is a user of the tenant.
    user_id: str | None = None
    recipient_name: str = ""
    #: The notification kind the recipient can turn off (None: a mail nobody can refuse).
    preference: str | None = None


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
    ) -> list[DueRef]:
        """The subscriptions with something due, by subscription id."""
        ...

    async def tenants_by_ids(self, tenant_ids: Sequence[str]) -> list[Tenant]: ...

    async def trials_ending(self, first: date, last: date) -> list[TenantOnDate]:
        """Tenants whose trial's end date lies in ``[first, last]``, with that date."""
        ...

    async def expired_cloud_tenants(
        self, expired_by: date, *, after: str = "", limit: int = 500
    ) -> list[TenantOnDate]:
        """Cloud tenants not purged whose subscription expired on or before ``expired_by``, with that day."""
        ...

    async def collection_admin_emails(self, tenant_id: str) -> list[str]: ...

    async def live_tenants(self, *, after: str = "", limit: int = 500) -> list[Tenant]:
        """Tenants neither purged nor uninstalled, by id, after ``after``."""
        ...

    async def tenants_invoiced(self, issued_since: date) -> list[Tenant]:
        """Live tenants with an invoice issued on or after ``issued_since`` that has something
        to pay and is not void, by id."""
        ...

    async def tenants_audited(self, action: str, since: datetime) -> list[Tenant]:
        """Live tenants with an audit row of ``action`` at or after ``since``, by id."""
        ...

    async def tenants_timing(self) -> list[Tenant]:
        """Live tenants where some timer is running now, by id."""
        ...

    async def retention_notices(self, tenant_id: str, purge_on: date) -> dict[int, date]:
        """Warnings recorded for this purge date: threshold (days) → the day it was given."""
        ...

    async def add_retention_notice(self, tenant_id: str, purge_on: date, threshold: int, on: date,
                                   at: datetime) -> bool:
        """Record a warning; False when it was recorded before."""
        ...

    async def queue_mail(self, mail: MailDraft, at: datetime) -> bool:
        """Put a mail in the outbox; False when that mail was queued before, or when its
        recipient's notification preferences (or the tenant's defaults) refuse its kind —
        the one place every notification is checked, in the transaction that queues it."""
        ...

    async def pending_mail(self, limit: int) -> list[str]:
        """The ids of up to ``limit`` mails never claimed (or released after a failure that
        is known not to have sent them), oldest first."""
        ...

    async def claim_mail(self, mail_id: str, now: datetime) -> QueuedMail | None:
        """Claim one pending mail for sending (a conditional update: of two senders one gets
        it, the other None). A claim is never taken back by time: see ``mails_abandoned``."""
        ...

    async def mail_sent(self, mail_id: str, at: datetime) -> None: ...

    async def mail_failed(self, mail_id: str, error: str) -> None:
        """Release the claim: the mail was not accepted, the next run sends it."""
        ...

    async def mail_in_doubt(self, mail_id: str, error: str, at: datetime) -> None:
        """Keep the claim for good: the mail server may have accepted it (never sent again)."""
        ...

    async def mails_abandoned(self, claimed_before: datetime, at: datetime) -> int:
        """Mark in doubt every mail still claimed since before ``claimed_before`` without a
        result (its sender died mid-send); how many."""
        ...

    async def purge_tenant(self, tenant_id: str, at: datetime) -> dict[str, int] | None:
        """Mark the tenant purged and delete its tracking data, tokens and memberships:
        rows deleted per table, or None when it was purged already (by another worker)."""
        ...

    async def backlog(self, today: date, *, grace_days: int) -> dict[str, int]:
        """How much due work waits: subscriptions due, mails unsent, work items pending."""
        ...
