"""In-memory background jobs: the job store (runs, due work, retention notices, the mail
outbox, purges) and a mailer that records what it sends and can be told to fail.

The store behaves like ``plugins/storage/jobs_repo.py`` where the use cases depend on it:
a mail or a notice is stored once per unique key (the second try answers False), a claim
holds a mail for a lease, a failure releases it at once, and a purge happens once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from core.ids import new_id
from core.jobs.ports import DueRef, JobRunRecord, MailDraft, QueuedMail, TenantOnDate
from core.licensing.deployment import Deployment
from core.licensing.subscription import SubscriptionStatus
from core.notifications import allows
from core.tenancy import Tenant

from .licensing import _is_due
from .notifications import TENANT_DEFAULT, stored_choices
from .unit_of_work import FakeDatabase

__all__ = ["FakeJobStore", "FakeMailer", "OutboxMail", "SentMail"]


@dataclass
class OutboxMail:
    """A row of the mail outbox; (kind, tenant, on_date, recipient) is its unique key."""

    id: str
    draft: MailDraft
    created_at: datetime
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    in_doubt_at: datetime | None = None
    #: The recipient as a user of the tenant: (user id, display name), None for another address.
    user: tuple[str, str] | None = None

    @property
    def key(self) -> tuple[str, str, date, str]:
        return (self.draft.kind, self.draft.tenant_id, self.draft.on_date, self.draft.recipient)


# What a purge deletes of a tenant, by the real table's name: every table with a tenant id
# but the tenant row, its invoices, its audit trail and its retention notices.
_TRACKING_TABLES = (
    ("tracking_rule", "tracking_settings"),
    ("tracking_preference", "preferences"),
    ("tracking_timer", "timers"),
    ("worklog", "worklogs"),
    ("week_status", "week_statuses"),
    ("user_approver", "approvers"),
    ("work_item_outbox", "outbox"),
    ("devops_connection", "devops_connections"),
    ("work_item_automation", "work_item_automation"),
    ("tenant_activation", "activations"),
    ("work_item", "work_items"),
    ("iteration", "iterations"),
    ("work_item_counter", "work_item_counters"),
    ("work_item_sync", "work_item_syncs"),
    ("budget", "budgets"),
    ("budget_assignment", "budget_assignments"),
)


class FakeJobStore:
    """The jobs' cross-tenant store. Give it the factory's shared store: like the real one
    it works inside the unit of work open in the task (see ``FakeDatabase.joined``), or one
    statement at a time when none is."""

    def __init__(self, store: FakeDatabase) -> None:
        self._store = store

    @property
    def _db(self) -> FakeDatabase:
        return self._store.joined()

    # Job runs ---------------------------------------------------------------------------

    async def start_run(self, job: str, run_key: str, worker: str, at: datetime) -> None:
        db = self._db
        db.check_write("start a job run")
        key = run_key[:200]
        for n, run in enumerate(db.job_runs):
            if run.run_key == key:  # a redelivered task restarts its own row
                db.job_runs[n] = replace(
                    run, status="running", started_at=at, worker=worker[:200], finished_at=None, error=None
                )
                return
        db.job_runs.append(JobRunRecord(job, key, "running", {}, at, None, None, worker[:200]))

    async def finish_run(
        self, run_key: str, status: str, counts: dict[str, int], error: str | None, at: datetime
    ) -> None:
        db = self._db
        db.check_write("finish a job run")
        for n, run in enumerate(db.job_runs):
            if run.run_key == run_key:
                db.job_runs[n] = replace(
                    run, status=status, counts=dict(counts), error=(error or None) and error[:2000],
                    finished_at=at,
                )

    async def last_runs(self) -> list[JobRunRecord]:
        latest: dict[str, JobRunRecord] = {}
        for run in self._db.job_runs:
            if run.job not in latest or run.started_at > latest[run.job].started_at:
                latest[run.job] = run
        return [latest[job] for job in sorted(latest)]

    async def prune_runs(self, before: datetime) -> int:
        db = self._db
        old = [run for run in db.job_runs if run.started_at < before]
        if old:
            db.check_write("prune job runs")
            db.job_runs = [run for run in db.job_runs if run.started_at >= before]
        return len(old)

    # Due work ---------------------------------------------------------------------------

    def _tenants_by_id(self) -> list[Tenant]:
        return sorted(self._db.tenants.values(), key=lambda t: t.id)

    async def due_subscriptions(
        self, today: date, *, grace_days: int, after: str = "", limit: int = 500
    ) -> list[DueRef]:
        horizon = today + timedelta(days=1)
        due = sorted(
            sub_id for sub_id, stored in self._db.subscriptions.items()
            if sub_id > after and _is_due(stored, horizon, grace_days)
        )[:limit]
        first: dict[str, str] = {}
        for tenant in self._tenants_by_id():
            first.setdefault(tenant.subscription_id, tenant.id)
        return [DueRef(sub_id, first[sub_id]) for sub_id in due if sub_id in first]

    async def tenants_by_ids(self, tenant_ids: Sequence[str]) -> list[Tenant]:
        tenants = self._db.tenants
        return [tenants[i] for i in tenant_ids if i in tenants]

    def _tenants_of(
        self, subs: dict[str, date], *, cloud_only: bool, after: str = "", limit: int = 100_000
    ) -> list[TenantOnDate]:
        db = self._db
        found = [
            TenantOnDate(tenant, subs[tenant.subscription_id]) for tenant in self._tenants_by_id()
            if tenant.subscription_id in subs and tenant.id not in db.purged_at and tenant.id > after
            and (not cloud_only or tenant.deployment is Deployment.CLOUD)
        ]
        return found[:limit]

    async def trials_ending(self, first: date, last: date) -> list[TenantOnDate]:
        subs = {
            sub_id: stored.subscription.trial_ends_on
            for sub_id, stored in self._db.subscriptions.items()
            if stored.subscription.status is SubscriptionStatus.TRIALING
            and stored.subscription.trial_ends_on is not None
            and first <= stored.subscription.trial_ends_on <= last
        }
        return self._tenants_of(subs, cloud_only=False)

    async def expired_cloud_tenants(
        self, expired_by: date, *, after: str = "", limit: int = 500
    ) -> list[TenantOnDate]:
        subs = {
            sub_id: stored.subscription.expired_on
            for sub_id, stored in self._db.subscriptions.items()
            if stored.subscription.status is SubscriptionStatus.EXPIRED
            and stored.subscription.expired_on is not None
            and stored.subscription.expired_on <= expired_by
        }
        return self._tenants_of(subs, cloud_only=True, after=after, limit=limit)

    async def live_tenants(self, *, after: str = "", limit: int = 500) -> list[Tenant]:
        db = self._db
        live = sorted(
            (t for t in db.tenants.values()
             if t.id > after and t.id not in db.purged_at and not t.uninstalled),
            key=lambda t: t.id,
        )
        return live[:limit]

    async def tenants_invoiced(self, issued_since: date) -> list[Tenant]:
        ids = {row.tenant_id for row in self._db.invoices.values()
               if row.invoice.issued_on >= issued_since and row.invoice.amount_due > 0
               and row.invoice.status != "void"}
        return [tenant for tenant in await self.live_tenants(limit=len(self._db.tenants)) if tenant.id in ids]

    async def tenants_audited(self, action: str, since: datetime) -> list[Tenant]:
        ids = {row.tenant_id for row in self._db.audit
               if row.tenant_id is not None and row.action == action and row.at >= since}
        return [tenant for tenant in await self.live_tenants(limit=len(self._db.tenants)) if tenant.id in ids]

    async def tenants_timing(self) -> list[Tenant]:
        ids = {tenant_id for tenant_id, timers in self._db.timers.items() if timers}
        return [tenant for tenant in await self.live_tenants(limit=len(self._db.tenants)) if tenant.id in ids]

    async def collection_admin_emails(self, tenant_id: str) -> list[str]:
        db = self._db
        rows = sorted(db.users.get(tenant_id, {}).values(), key=lambda row: row.user.id)
        emails = []
        for row in rows:
            if row.user.collection_admin:
                person = db.persons.get(row.user.person_id)
                emails.append(person.email if person is not None else row.user.email)
        return emails

    # Retention notices ------------------------------------------------------------------

    async def retention_notices(self, tenant_id: str, purge_on: date) -> dict[int, date]:
        return dict(self._db.retention_notices.get((tenant_id, purge_on), {}))

    async def add_retention_notice(
        self, tenant_id: str, purge_on: date, threshold: int, on: date, at: datetime
    ) -> bool:
        db = self._db
        db.check_write("record a retention notice")
        given = db.retention_notices.setdefault((tenant_id, purge_on), {})
        if threshold in given:
            return False
        given[threshold] = on
        return True

    # Mail outbox ------------------------------------------------------------------------

    def _mails(self) -> list[OutboxMail]:
        return self._db.mails

    async def queue_mail(self, mail: MailDraft, at: datetime) -> bool:
        db = self._db
        db.check_write("queue a mail")
        user = self._user(db, mail)
        if mail.preference is not None:
            mine = stored_choices(db, mail.tenant_id, user[0]) if user else {}
            if not allows(mail.preference, mine, stored_choices(db, mail.tenant_id, TENANT_DEFAULT)):
                return False
        row = OutboxMail(new_id(), replace(mail, subject=mail.subject[:300]), at, user=user)
        if any(queued.key == row.key for queued in db.mails):
            return False
        db.mails.append(row)
        return True

    @staticmethod
    def _user(db: FakeDatabase, mail: MailDraft) -> tuple[str, str] | None:
        for row in db.users.get(mail.tenant_id, {}).values():
            person = db.persons.get(row.user.person_id)
            if (person.email if person is not None else row.user.email) == mail.recipient:
                return row.user.id, person.name if person is not None else row.user.name
        return None

    async def pending_mail(self, limit: int) -> list[str]:
        free = [m for m in self._db.mails if m.sent_at is None and m.claimed_at is None]
        return [m.id for m in sorted(free, key=lambda m: m.created_at)[:limit]]

    async def claim_mail(self, mail_id: str, now: datetime) -> QueuedMail | None:
        self._db.check_write("claim mail")
        mail = self._mail(mail_id)
        if mail is None or mail.sent_at is not None or mail.claimed_at is not None:
            return None
        mail.claimed_at = now
        mail.attempts += 1
        return QueuedMail(
            mail.id, mail.draft.recipient, mail.draft.subject, mail.draft.body, mail.attempts,
            tenant_id=mail.draft.tenant_id, user_id=mail.user[0] if mail.user else None,
            recipient_name=mail.user[1] if mail.user else "", preference=mail.draft.preference,
        )

    async def mail_in_doubt(self, mail_id: str, error: str, at: datetime) -> None:
        self._db.check_write("mark a mail in doubt")
        mail = self._mail(mail_id)
        if mail is not None:  # the claim stays: never offered again
            mail.in_doubt_at, mail.last_error = at, error[:2000]

    async def mails_abandoned(self, claimed_before: datetime, at: datetime) -> int:
        self._db.check_write("mark abandoned mails")
        marked = 0
        for mail in self._db.mails:
            if (mail.sent_at is None and mail.in_doubt_at is None and mail.claimed_at is not None
                    and mail.claimed_at < claimed_before):
                mail.in_doubt_at = at
                mail.last_error = "the sender stopped mid-send; not sent again (at most once)"
                marked += 1
        return marked

    def _mail(self, mail_id: str) -> OutboxMail | None:
        return next((m for m in self._db.mails if m.id == mail_id), None)

    async def mail_sent(self, mail_id: str, at: datetime) -> None:
        self._db.check_write("mark a mail sent")
        mail = self._mail(mail_id)
        if mail is not None:
            mail.sent_at, mail.last_error = at, None

    async def mail_failed(self, mail_id: str, error: str) -> None:
        self._db.check_write("mark a mail failed")
        mail = self._mail(mail_id)
        if mail is not None:  # released at once: the next run tries again
            mail.claimed_at, mail.last_error = None, error[:2000]

    # Purge ------------------------------------------------------------------------------

    async def purge_tenant(self, tenant_id: str, at: datetime) -> dict[str, int] | None:
        db = self._db
        db.check_write("purge a tenant")
        tenant = db.tenants.get(tenant_id)
        if tenant is None or tenant_id in db.purged_at:
            return None
        db.purged_at[tenant_id] = at
        counts: dict[str, int] = {}

        def gone(table: str, count: int) -> None:
            if count:
                counts[table] = count

        for table, name in _TRACKING_TABLES:
            rows = getattr(db, name).pop(tenant_id, None)
            gone(table, 0 if rows is None else (len(rows) if isinstance(rows, dict | list) else 1))
        db.outbox_done_at.pop(tenant_id, None)
        db.week_records.pop(tenant_id, None)  # the particulars of week_status rows counted above
        db.outbox_errors.pop(tenant_id, None)
        db.stop_reasons.pop(tenant_id, None)
        choices = db.notification_choices.pop(tenant_id, {})
        gone("notification_preference", sum(len(kinds) for kinds in choices.values()))
        hours = db.working_hours.pop(tenant_id, {})
        gone("working_hours", len(hours))
        gone("day_off", sum(len(h.days_off) for h in hours.values()))
        for table, tokens in (("refresh_token", db.refresh_tokens), ("personal_access_token",
                                                                     db.personal_tokens)):
            ids = [i for i, record in tokens.items() if record.tenant_id == tenant_id]
            for token_id in ids:
                del tokens[token_id]
            gone(table, len(ids))
        mails = [m for m in db.mails if m.draft.tenant_id == tenant_id]
        db.mails = [m for m in db.mails if m.draft.tenant_id != tenant_id]
        gone("mail_outbox", len(mails))
        members = db.users.pop(tenant_id, {})
        gone("tenant_user", len(members))
        people = [row.user.person_id for row in members.values()]
        if people:
            # A seat belongs to the subscription; it goes with the last membership that used it.
            sharing = {t.id for t in db.tenants.values() if t.subscription_id == tenant.subscription_id}
            still_member = {row.user.person_id for t in sharing for row in db.users.get(t, {}).values()}
            pool = db.seats.get(tenant.subscription_id, {})
            leaving = [p for p in people if p not in still_member and p in pool]
            for person_id in leaving:
                del pool[person_id]
            if [p for p in people if p not in still_member]:
                counts["seat"] = len(leaving)
            # A person left with no membership and no seat anywhere is nobody's data any more.
            kept = {row.user.person_id for rows in db.users.values() for row in rows.values()}
            kept |= {person for seats in db.seats.values() for person in seats}
            orphans = [p for p in people if p not in kept]
            for person_id in orphans:
                db.persons.pop(person_id, None)
            gone("person", len(orphans))
        db.note_change(f"t:{tenant_id}")
        db.note_change(f"s:{tenant.subscription_id}")
        return counts

    # Backlog ----------------------------------------------------------------------------

    async def backlog(self, today: date, *, grace_days: int) -> dict[str, int]:
        db = self._db
        horizon = today + timedelta(days=1)
        pending = sum(
            1 for tenant, entries in db.outbox.items() for e in entries
            if e.id not in db.outbox_done_at.get(tenant, {})
        )
        return {
            "subscriptions_due": sum(1 for s in db.subscriptions.values() if _is_due(s, horizon, grace_days)),
            "mails_unsent": sum(1 for m in db.mails if m.sent_at is None and m.in_doubt_at is None),
            "mails_in_doubt": sum(1 for m in db.mails if m.in_doubt_at is not None),
            "work_items_pending": pending,
        }


@dataclass(frozen=True, slots=True)
class SentMail:
    to: str
    subject: str
    body: str
    to_name: str = ""
    unsubscribe: str | None = None
    locale: str = "en"


@dataclass
class FakeMailer:
    """Records every mail it accepts. ``down`` refuses every mail (a mail server that is
    down); ``fail_for`` refuses mails to those addresses only."""

    sent: list[SentMail] = field(default_factory=list)
    down: bool = False
    fail_for: set[str] = field(default_factory=set)
    refused: int = 0

    async def send(
        self, to: str, subject: str, body: str, *, to_name: str = "", unsubscribe: str | None = None,
        locale: str = "en",
    ) -> None:
        if self.down or to in self.fail_for:
            self.refused += 1
            raise ConnectionRefusedError(f"the mail server refused the mail to {to}")
        self.sent.append(SentMail(to, subject, body, to_name, unsubscribe, locale))

    def to(self, address: str) -> list[str]:
        """Subjects of the mails sent to ``address``."""
        return [mail.subject for mail in self.sent if mail.to == address]
