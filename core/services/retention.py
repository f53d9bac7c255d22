"""Retention (SPEC §3): cloud tenants' data is purged 365 days after expiry, after warnings.

Collection admins are warned 30, 7 and 1 days before the purge. A warning is recorded
once per (tenant, purge date, threshold) in the same transaction as its mails, and the
purge waits until the 1-day warning is at least a day old — so a job that was down for
a while warns before it deletes, never the other way round. On-premises tenants are
never purged by Stint. A purge deletes the tenant's tracking data, tokens and
memberships, keeps its invoices and audit trail, and marks the tenant purged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from core.clock import Clock, today_in
from core.errors import Conflict, NotFound, ValidationFailed
from core.jobs.ports import JobStore
from core.licensing import SubscriptionStatus
from core.licensing.deployment import Deployment
from core.tenancy import Operator, Tenant
from core.unit_of_work import UnitOfWorkFactory

from .audit import actor_of
from .notifications import retention_warning

__all__ = [
    "RETENTION_DAYS",
    "WARNING_DAYS",
    "RetentionReport",
    "purge_on",
    "purge_tenant_now",
    "run_retention",
    "warning_due",
]

log = logging.getLogger("stint.jobs.retention")

#: Days a cloud tenant's data is kept after its subscription expired.
RETENTION_DAYS = 365
#: Days before the purge that collection admins are warned, largest first.
WARNING_DAYS = (30, 7, 1)


@dataclass
class RetentionReport:
    warned: int = 0
    mails: int = 0
    purged: int = 0


def purge_on(expired_on: date, retention_days: int = RETENTION_DAYS) -> date:
    return expired_on + timedelta(days=retention_days)


def warning_due(today: date, purge_date: date, given: dict[int, date]) -> int | None:
    """The warning to give today, if any: the most urgent threshold reached and not given.

    A job that missed the 30-day warning and runs 5 days before the purge gives the
    7-day one only — one mail that says the truth, not two at once.
    """
    left = (purge_date - today).days
    reached = [t for t in WARNING_DAYS if left <= t]
    if not reached:
        return None
    most_urgent = min(reached)
    if any(t <= most_urgent for t in given):
        return None
    return most_urgent


def purge_allowed(today: date, purge_date: date, given: dict[int, date]) -> bool:
    """The purge date has come and the last warning was given on an earlier day."""
    last = given.get(WARNING_DAYS[-1])
    return today >= purge_date and last is not None and last < today


async def _one(
    uow: UnitOfWorkFactory, jobs: JobStore, clock: Clock, tenant: Tenant, expired_on: date,
    retention_days: int, base_url: str, report: RetentionReport,
) -> None:
    today = today_in(clock, tenant.time_zone)
    when = purge_on(expired_on, retention_days)
    async with uow(write=True) as work:
        given = await jobs.retention_notices(tenant.id, when)
        threshold = warning_due(today, when, given)
        if threshold is not None:
            if await jobs.add_retention_notice(tenant.id, when, threshold, today, clock.now()):
                report.warned += 1
                for email in await jobs.collection_admin_emails(tenant.id):
                    draft = retention_warning(tenant, email, when, threshold, base_url)
                    report.mails += int(await jobs.queue_mail(draft, clock.now()))
                await work.tenant(tenant.id).audit().record(
                    "system:retention", "retention.warned", tenant.slug,
                    {"purge_on": when.isoformat(), "days": threshold}, clock.now(),
                )
            await work.commit()
            return
        if not purge_allowed(today, when, given):
            return
        counts = await jobs.purge_tenant(tenant.id, clock.now())
        if counts is None:  # another worker purged it first
            return
        await work.tenant(tenant.id).audit().record(
            "system:retention", "tenant.purged", tenant.slug,
            {"expired_on": expired_on.isoformat(), "deleted": counts}, clock.now(),
        )
        await work.commit()
    report.purged += 1
    log.info("tenant purged", extra={"tenant": tenant.slug, "deleted": counts})


async def run_retention(
    uow: UnitOfWorkFactory, jobs: JobStore, clock: Clock, *, retention_days: int = RETENTION_DAYS,
    base_url: str = "", batch: int = 500,
) -> RetentionReport:
    """Warn and purge every cloud tenant whose retention is running out; idempotent."""
    report = RetentionReport()
    # A day of slack for billing zones ahead of UTC; each tenant is checked in its own zone.
    expired_by = today_in(clock) + timedelta(days=WARNING_DAYS[0] + 1) - timedelta(days=retention_days)
    after = ""
    while True:
        async with uow() as work:
            del work  # the store runs in this read transaction
            page = await jobs.expired_cloud_tenants(expired_by, after=after, limit=batch)
        for expired in page:
            await _one(uow, jobs, clock, expired.tenant, expired.on, retention_days, base_url, report)
        if len(page) < batch:
            return report
        after = page[-1].tenant.id


async def purge_tenant_now(
    uow: UnitOfWorkFactory, jobs: JobStore, clock: Clock, *, operator: Operator, slug: str, confirm: str,
    retention_days: int = RETENTION_DAYS, address: str | None = None,
) -> dict[str, int]:
    """The operator console's purge: the same deletion as the retention job's, under the same
    conditions (a cloud tenant, expired, its retention period over and its collection admins
    warned on an earlier day), only without waiting for the job's next run. ``confirm`` must
    repeat the slug: a purge cannot be undone."""
    if confirm.strip() != slug:
        raise ValidationFailed("type the tenant's slug to confirm the purge", field="confirm")
    async with uow(write=True) as work:
        tenant = await work.directory.tenant_by_slug(slug)
        if tenant is None:
            raise NotFound(f"no tenant {slug!r}")
        if tenant.deployment is not Deployment.CLOUD:
            raise Conflict("on-premises tenants' data is never purged by Stint", reason="onprem")
        sub = (await work.tenant(tenant.id).subscriptions().get()).subscription
        if sub.status is not SubscriptionStatus.EXPIRED or sub.expired_on is None:
            raise Conflict(f"{slug!r} has not expired; only expired tenants are purged", reason="not_expired")
        today = today_in(clock, tenant.time_zone)
        when = purge_on(sub.expired_on, retention_days)
        if today < when:
            raise Conflict(f"{slug!r} is kept until {when.isoformat()} (expired on "
                           f"{sub.expired_on.isoformat()}, {retention_days} days of retention)",
                           reason="retention_running", purge_on=when.isoformat())
        if not purge_allowed(today, when, await jobs.retention_notices(tenant.id, when)):
            raise Conflict(f"{slug!r}'s collection admins have not been given the last warning yet; "
                           "the retention job gives it and purges a day later", reason="not_warned")
        counts = await jobs.purge_tenant(tenant.id, clock.now())
        if counts is None:
            raise Conflict(f"{slug!r} has already been purged", reason="purged")
        await work.tenant(tenant.id).audit().record(
            actor_of(operator), "tenant.purged", slug,
            {"expired_on": sub.expired_on.isoformat(), "deleted": counts}, clock.now(), address=address,
        )
        await work.commit()
    log.info("tenant purged by an operator", extra={"tenant": slug, "deleted": counts})
    return counts
