"""The background jobs' store (``core.jobs.ports.JobStore``): due work, idempotency records, purges.

Statements run inside the caller's unit of work when one is open (Piccolo binds them to
the current transaction). Every statement about one tenant's rows filters on its id.

``PiccoloJobStore`` keeps the job runs, the due work, the retention notices and the
backlog here; the mail outbox (``jobs_mail_outbox.py``) and the purge (``jobs_purge.py``)
are parts of it in modules of their own, as ``PiccoloTrackingRepo``'s are.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from piccolo.engine.base import Engine

from core.ids import new_id
from core.jobs.ports import DueRef, JobRunRecord, TenantOnDate
from core.tenancy import Tenant

from .jobs_mail_outbox import MailOutboxRows, insert_once
from .jobs_purge import TenantPurge
from .jobs_tables import JobRun, MailOutbox, RetentionNotice
from .mapping import tenant_from_row
from .plain_sql import fetch_in
from .tables import AuditEvent, Invoice, TenantUser
from .tables import Subscription as SubscriptionRow
from .tables import Tenant as TenantRow
from .tracking_tables import TrackingTimer

__all__ = ["PiccoloJobStore"]


class PiccoloJobStore(MailOutboxRows, TenantPurge):
    def __init__(self, engine: Engine[Any]) -> None:
        self._engine = engine

    # Job runs ---------------------------------------------------------------------------

    async def start_run(self, job: str, run_key: str, worker: str, at: datetime) -> None:
        """Record a run; a redelivered task (same key) restarts its own row."""
        found = await JobRun.exists().where(JobRun.run_key == run_key)
        if found:
            await JobRun.update(
                {JobRun.status: "running", JobRun.started_at: at, JobRun.worker: worker[:200],
                 JobRun.finished_at: None, JobRun.error: None}
            ).where(JobRun.run_key == run_key)
            return
        await JobRun.insert(
            JobRun(id=new_id(), job=job, run_key=run_key[:200], worker=worker[:200], status="running",
                   counts="{}", started_at=at)
        )

    async def finish_run(
        self, run_key: str, status: str, counts: dict[str, int], error: str | None, at: datetime
    ) -> None:
        await JobRun.update(
            {JobRun.status: status, JobRun.counts: json.dumps(counts, sort_keys=True),
             JobRun.error: (error or None) and error[:2000], JobRun.finished_at: at}
        ).where(JobRun.run_key == run_key)

    async def prune_runs(self, before: datetime) -> int:
        old = JobRun.started_at < before
        count = await JobRun.count().where(old)
        if count:
            await JobRun.delete().where(old)
        return int(count)

    async def last_runs(self) -> list[JobRunRecord]:
        jobs = [row["job"] for row in await JobRun.select(JobRun.job).distinct()]
        records = []
        for job in sorted(jobs):
            row = await (
                JobRun.select().where(JobRun.job == job).order_by(JobRun.started_at, ascending=False).first()
            )
            if row is None:
                continue
            records.append(JobRunRecord(
                job=row["job"], run_key=row["run_key"], status=row["status"],
                counts=json.loads(row["counts"] or "{}"), started_at=row["started_at"],
                finished_at=row["finished_at"], error=row["error"], worker=row["worker"],
            ))
        return records

    # Due work ---------------------------------------------------------------------------

    def _due_filter(self, today: date, grace_days: int) -> Any:
        # The same rule as ``PiccoloDirectory.tenants_with_due_subscriptions``: a day of
        # slack for zones ahead of UTC; the use case re-checks each one under its lock.
        horizon = today + timedelta(days=1)
        return (
            (SubscriptionRow.status.is_in(["active", "cancelled"]) & (SubscriptionRow.period_end <= horizon))
            | ((SubscriptionRow.status == "trialing") & (SubscriptionRow.trial_ends_on <= horizon))
            | ((SubscriptionRow.status == "past_due")
               & (SubscriptionRow.past_due_since <= horizon - timedelta(days=grace_days)))
        )

    async def due_subscriptions(
        self, today: date, *, grace_days: int, after: str = "", limit: int = 500
    ) -> list[DueRef]:
        query = (
            SubscriptionRow.select(SubscriptionRow.id)
            .where(self._due_filter(today, grace_days))
            .order_by(SubscriptionRow.id)
            .limit(limit)
        )
        if after:
            query = query.where(SubscriptionRow.id > after)
        ids = [row["id"] for row in await query]
        if not ids:
            return []
        rows = await fetch_in(
            TenantRow, "SELECT id, subscription_id FROM tenant WHERE subscription_id IN ({in}) ORDER BY id",
            ids,
        )
        first: dict[str, str] = {}
        for row in rows:
            first.setdefault(row["subscription_id"], row["id"])
        return [DueRef(sub_id, first[sub_id]) for sub_id in ids if sub_id in first]

    async def tenants_by_ids(self, tenant_ids: Sequence[str]) -> list[Tenant]:
        if not tenant_ids:
            return []
        rows = await fetch_in(TenantRow, "SELECT * FROM tenant WHERE id IN ({in})", tenant_ids)
        by_id = {row["id"]: tenant_from_row(row) for row in rows}
        return [by_id[i] for i in tenant_ids if i in by_id]

    async def trials_ending(self, first: date, last: date) -> list[TenantOnDate]:
        subs = await SubscriptionRow.select(SubscriptionRow.id, SubscriptionRow.trial_ends_on).where(
            (SubscriptionRow.status == "trialing")
            & (SubscriptionRow.trial_ends_on >= first)
            & (SubscriptionRow.trial_ends_on <= last)
        )
        return await self._tenants_of({row["id"]: row["trial_ends_on"] for row in subs}, cloud_only=False)

    async def expired_cloud_tenants(
        self, expired_by: date, *, after: str = "", limit: int = 500
    ) -> list[TenantOnDate]:
        subs = await SubscriptionRow.select(SubscriptionRow.id, SubscriptionRow.expired_on).where(
            (SubscriptionRow.status == "expired") & (SubscriptionRow.expired_on <= expired_by)
        )
        found = await self._tenants_of(
            {row["id"]: row["expired_on"] for row in subs}, cloud_only=True, after=after, limit=limit
        )
        return found

    async def _tenants_of(
        self, subs: dict[str, date], *, cloud_only: bool, after: str = "", limit: int = 100_000
    ) -> list[TenantOnDate]:
        if not subs:
            return []
        query = TenantRow.select().where(
            TenantRow.subscription_id.is_in(list(subs)) & TenantRow.purged_at.is_null()
        ).order_by(TenantRow.id).limit(limit)
        if cloud_only:
            query = query.where(TenantRow.deployment == "cloud")
        if after:
            query = query.where(TenantRow.id > after)
        return [TenantOnDate(tenant_from_row(row), subs[row["subscription_id"]]) for row in await query]

    async def live_tenants(self, *, after: str = "", limit: int = 500) -> list[Tenant]:
        rows = await TenantRow.select().where(
            TenantRow.purged_at.is_null() & TenantRow.uninstalled_at.is_null() & (TenantRow.id > after)
        ).order_by(TenantRow.id).limit(limit)
        return [tenant_from_row(row) for row in rows]

    async def tenants_invoiced(self, issued_since: date) -> list[Tenant]:
        rows = await Invoice.select(Invoice.tenant_id).where(
            (Invoice.issued_on >= issued_since) & (Invoice.amount_due > 0) & (Invoice.status != "void")
        ).distinct()
        return await self._live(sorted({row["tenant_id"] for row in rows}))

    async def tenants_audited(self, action: str, since: datetime) -> list[Tenant]:
        # ``audit_event_at_id`` (at, id) narrows it to the recent rows.
        rows = await AuditEvent.select(AuditEvent.tenant_id).where(
            (AuditEvent.at >= since) & (AuditEvent.action == action) & AuditEvent.tenant_id.is_not_null()
        ).distinct()
        return await self._live(sorted({row["tenant_id"] for row in rows}))

    async def tenants_timing(self) -> list[Tenant]:
        rows = await TrackingTimer.select(TrackingTimer.tenant_id).distinct()
        return await self._live(sorted({row["tenant_id"] for row in rows}))

    async def _live(self, tenant_ids: Sequence[str]) -> list[Tenant]:
        found: list[Tenant] = []
        # In slices: a renewal day can give every tenant an invoice, and SQLite caps the
        # number of parameters of one statement.
        for start in range(0, len(tenant_ids), 500):
            rows = await fetch_in(
                TenantRow,
                "SELECT * FROM tenant WHERE purged_at IS NULL AND uninstalled_at IS NULL AND id IN ({in})"
                " ORDER BY id",
                tenant_ids[start:start + 500],
            )
            found.extend(tenant_from_row(row) for row in rows)
        return found

    async def collection_admin_emails(self, tenant_id: str) -> list[str]:
        rows = await TenantUser.select(TenantUser.person_id.email.as_alias("email")).where(
            (TenantUser.tenant_id == tenant_id) & (TenantUser.collection_admin.eq(True))
        ).order_by(TenantUser.id)
        return [row["email"] for row in rows]

    # Retention notices ------------------------------------------------------------------

    async def retention_notices(self, tenant_id: str, purge_on: date) -> dict[int, date]:
        rows = await RetentionNotice.select(RetentionNotice.threshold, RetentionNotice.noticed_on).where(
            (RetentionNotice.tenant_id == tenant_id) & (RetentionNotice.purge_on == purge_on)
        )
        return {row["threshold"]: row["noticed_on"] for row in rows}

    async def add_retention_notice(
        self, tenant_id: str, purge_on: date, threshold: int, on: date, at: datetime
    ) -> bool:
        return await insert_once(
            RetentionNotice(id=new_id(), tenant_id=tenant_id, purge_on=purge_on, threshold=threshold,
                            noticed_on=on, created_at=at),
            self._engine,
        )

    # Backlog ----------------------------------------------------------------------------

    async def backlog(self, today: date, *, grace_days: int) -> dict[str, int]:
        from .tracking_tables import WorkItemOutbox

        return {
            "subscriptions_due": await SubscriptionRow.count().where(self._due_filter(today, grace_days)),
            "mails_unsent": await MailOutbox.count().where(
                MailOutbox.sent_at.is_null() & MailOutbox.in_doubt_at.is_null()
            ),
            "mails_in_doubt": await MailOutbox.count().where(MailOutbox.in_doubt_at.is_not_null()),
            "work_items_pending": await WorkItemOutbox.count().where(WorkItemOutbox.done_at.is_null()),
        }
