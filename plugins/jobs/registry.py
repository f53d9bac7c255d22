"""Every background job (SPEC §11) as one async function over the adapters, with its period.

The same functions run under Celery (one task each, ``celery_app.py``), in-process under
``stint serve`` without Redis (``embedded.py``) and once from ``stint jobs run``. Each is
a thin wrapper over a core service; idempotency lives in those services and the database.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from core.clock import today_in
from core.ids import new_id
from core.jobs.ports import JobStore
from core.services.idempotency import forget_expired_keys
from core.services.notifications import deliver_mail, queue_trial_reminders
from core.services.renewals import renew_due
from core.services.retention import run_retention
from plugins.i18n import texts_for
from plugins.settings import Settings

if TYPE_CHECKING:
    from plugins.stint import Stint

__all__ = ["JOBS", "Job", "due_batches", "renew_batch", "run_job", "worker_name"]

log = logging.getLogger("stint.jobs")

Counts = dict[str, int]
#: Hands a batch of tenant ids to whoever renews it (a Celery task, or None: renew here).
Enqueue = Callable[[list[str]], None]


@dataclass(frozen=True)
class Job:
    name: str
    #: Seconds between runs (``STINT_JOBS_EVERY`` overrides every job's).
    every: int
    run: Callable[..., Awaitable[Counts]]
    doc: str
    #: The period from the settings, when it has one of its own (seconds; overrides ``every``).
    every_from: Callable[[Settings], int] | None = None


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# Renewals ---------------------------------------------------------------------------------


async def due_batches(stint: Stint, enqueue: Enqueue | None = None) -> Counts:
    """List what is due (indexed, by subscription id, a page at a time) and renew it in batches.

    With ``enqueue`` each batch goes to a worker; without it each is renewed here.
    """
    store = stint.jobs
    size = stint.settings.jobs_batch_size
    today = today_in(stint.clock)
    counts = {"batches": 0, "due": 0, "renewed": 0, "expired": 0}
    after = ""
    while True:
        async with stint.uow():
            page = await store.due_subscriptions(
                today, grace_days=stint.settings.grace_days, after=after, limit=size
            )
        if not page:
            return counts
        after = page[-1].subscription_id
        counts["batches"] += 1
        counts["due"] += len(page)
        tenant_ids = [due.tenant_id for due in page]
        if enqueue is not None:
            enqueue(tenant_ids)
        else:
            done = await renew_batch(stint, tenant_ids)
            counts["renewed"] += done["renewed"]
            counts["expired"] += done["expired"]
        if len(page) < size:
            return counts


async def renew_batch(stint: Stint, tenant_ids: Sequence[str]) -> Counts:
    """Bring these tenants' subscriptions up to date: one transaction, a few bulk statements.

    A subscription another worker holds locked is skipped (that worker is renewing it). If
    the batch fails as a whole, each tenant is retried in a transaction of its own, so one
    broken subscription cannot hold up the rest; the next sweep retries what still fails.
    """
    async with stint.uow():
        tenants = await stint.jobs.tenants_by_ids(list(tenant_ids))
    counts = {"renewed": 0, "expired": 0, "invoices": 0, "skipped": 0, "failed": 0}

    def add(report: Any) -> None:
        counts["renewed"] += report.renewed
        counts["expired"] += report.expired
        counts["invoices"] += len(report.invoices)
        counts["skipped"] += report.skipped

    grace = stint.settings.grace_days
    try:
        add(await renew_due(stint.uow, stint.billing, stint.clock, tenants=tenants, grace_days=grace))
        return counts
    except Exception:
        log.exception("renewal batch failed; renewing its %s tenants one by one", len(tenants))
    for tenant in tenants:
        try:
            add(await renew_due(stint.uow, stint.billing, stint.clock, tenants=[tenant], grace_days=grace))
        except Exception:
            log.exception("renewal failed", extra={"tenant": tenant.slug})
            counts["failed"] += 1
    return counts


async def _renewals(stint: Stint, enqueue: Enqueue | None = None) -> Counts:
    return await due_batches(stint, enqueue)


# Mail, retention, tracking ------------------------------------------------------------------


async def _trial_reminders(stint: Stint, enqueue: Enqueue | None = None) -> Counts:
    queued = await queue_trial_reminders(
        stint.uow, stint.jobs, stint.clock, base_url=stint.settings.base_url, language=texts_for
    )
    return {"queued": queued}


async def _missing_time(stint: Stint, enqueue: Enqueue | None = None) -> Counts:
    from core.services.reminders import queue_missing_time

    return {"queued": await queue_missing_time(stint.uow, stint.jobs, stint.clock,
                                               base_url=stint.settings.base_url, language=texts_for)}


async def _running_timers(stint: Stint, enqueue: Enqueue | None = None) -> Counts:
    from core.services.reminders import queue_running_timers

    return {"queued": await queue_running_timers(stint.uow, stint.jobs, stint.clock,
                                                 base_url=stint.settings.base_url, language=texts_for)}


async def _seat_requests(stint: Stint, enqueue: Enqueue | None = None) -> Counts:
    from core.services.reminders import queue_seat_requests

    return {"queued": await queue_seat_requests(stint.uow, stint.jobs, stint.clock,
                                                base_url=stint.settings.base_url, language=texts_for)}


async def _billing_mails(stint: Stint, enqueue: Enqueue | None = None) -> Counts:
    from core.services.reminders import queue_billing_mails

    return {"queued": await queue_billing_mails(stint.uow, stint.jobs, stint.clock,
                                                base_url=stint.settings.base_url, language=texts_for)}


async def _retention(stint: Stint, enqueue: Enqueue | None = None) -> Counts:
    report = await run_retention(
        stint.uow, stint.jobs, stint.clock, retention_days=stint.settings.retention_days,
        base_url=stint.settings.base_url, batch=stint.settings.jobs_batch_size,
    )
    return {"warned": report.warned, "mails": report.mails, "purged": report.purged}


async def _mail(stint: Stint, enqueue: Enqueue | None = None) -> Counts:
    report = await deliver_mail(stint.uow, stint.jobs, stint.mailer, stint.clock, links=stint.unsubscribe,
                                language=texts_for)
    return {"sent": report.sent, "failed": report.failed, "in_doubt": report.in_doubt}


async def _timer_checks(stint: Stint, enqueue: Enqueue | None = None) -> Counts:
    from core.services.tracking import run_timer_checks

    stopped = await run_timer_checks(
        stint.uow, stint.clock, stint.tracking_directory, stint.mailer,
        base_url=stint.settings.base_url, grace_days=stint.settings.grace_days,
    )
    return {"stopped": len(stopped)}


async def _approval_locks(stint: Stint, enqueue: Enqueue | None = None) -> Counts:
    """Weeks the approval settings lock, written down as closed (the lock holds on read anyway)."""
    from core.services.approval_settings import materialise_locks

    closed = await materialise_locks(stint.uow, stint.clock, stint.tracking_directory)
    return {"closed": closed}


async def _work_items(stint: Stint, enqueue: Enqueue | None = None) -> Counts:
    from core.services.work_items import run_work_item_outbox

    # Each tenant's own DevOps connection (settings/devops); standalone when it has none.
    async with stint.devops.connectors() as connector_for:
        written = await run_work_item_outbox(
            stint.uow, stint.clock, stint.tracking_directory, connector_for
        )
    return {"written": written}


async def _work_item_sync(stint: Stint, enqueue: Enqueue | None = None) -> Counts:
    """Tenants connected to Azure DevOps: the mirror reads what changed (core/services/work_item_sync.py)."""
    return await stint.work_item_syncs.run_all()


async def _activation_refresh(stint: Stint, enqueue: Enqueue | None = None) -> Counts:
    """Online-activated on-premises tenants ask the licence service again (SPEC §7)."""
    from core.services.activation import refresh_online_entitlements

    report = await refresh_online_entitlements(
        stint.uow, stint.activations, stint.licence_client, stint.clock
    )
    return {"refreshed": report.refreshed, "failed": report.failed}


async def _stripe_retry(stint: Stint, enqueue: Enqueue | None = None) -> Counts:
    """Invoices whose push to Stripe failed, pushed again with the same idempotency keys.

    A no-op under manual billing. ``StripeBilling.retry_unsent`` pages through due invoices.
    """
    if stint.stripe is None:
        return {"checked": 0}
    return dict(await stint.stripe.retry_unsent(batch=stint.settings.jobs_batch_size))


async def _housekeeping(stint: Stint, enqueue: Enqueue | None = None) -> Counts:
    async with stint.uow(write=True) as work:
        pruned = await stint.jobs.prune_runs(stint.clock.now() - timedelta(days=14))
        await work.commit()
    keys = await forget_expired_keys(stint.uow, stint.idempotency, stint.clock)
    return {"job_runs_pruned": pruned, "idempotency_keys_pruned": keys}


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("renewals", 300, _renewals, "renewals, trial ends, cancelled period ends, grace ends"),
        Job("trial_reminders", 3600, _trial_reminders,
            "'trial ends in 7/3/1 days' mails to collection admins"),
        Job("retention", 3600, _retention, "retention warnings (30/7/1 days) and purges of cloud tenants"),
        Job("timer_checks", 30, _timer_checks, "activity-check, max-length and end-of-access stops"),
        Job("work_items", 30, _work_items, "work item automation (the outbox)"),
        Job("approval_locks", 3600, _approval_locks,
            "weeks the approval settings lock (start date, N days after the week) written down as closed"),
        Job("mail", 60, _mail, "delivers the mail outbox"),
        Job("missing_time", 3600, _missing_time,
            "weekly missing-time reminders to users and the digest to approval managers"),
        Job("running_timers", 900, _running_timers, "'timer still running' mails after the working day"),
        Job("seat_requests", 900, _seat_requests, "users refused for lack of a seat → collection admins"),
        Job("billing_mails", 900, _billing_mails, "invoice issued and payment failed → collection admins"),
        Job("work_item_sync", 900, _work_item_sync,
            "Azure DevOps tenants' work items and iterations mirrored (what changed since the last run)",
            every_from=lambda settings: settings.work_item_sync_minutes * 60),
        Job("activation_refresh", 900, _activation_refresh, "online activations ask the licence service"),
        Job("housekeeping", 3600, _housekeeping,
            "prunes job runs older than 14 days and idempotency keys older than 24 h"),
        Job("stripe_retry", 900, _stripe_retry, "pushes again invoices that did not reach Stripe"),
    )
}


def period(stint_settings: Settings, job: Job) -> int:
    own = job.every_from(stint_settings) if job.every_from is not None else job.every
    return int(stint_settings.jobs_every or own)


async def run_job(
    stint: Stint, name: str, *, run_key: str | None = None, enqueue: Enqueue | None = None,
    run: Callable[..., Awaitable[Counts]] | None = None,
) -> Counts:
    """Run job ``name`` once, recorded in ``job_run`` under ``run_key`` and logged with its counts.

    A failure is recorded and raised (Celery retries it with backoff; the embedded
    scheduler logs it and runs the job again at its next period).
    """
    work = run or JOBS[name].run
    key = run_key or f"{name}:{new_id()}"
    store = stint.jobs
    started = time.monotonic()
    async with stint.uow(write=True) as tx:
        await store.start_run(name, key, worker_name(), stint.clock.now())
        await tx.commit()
    status, error, counts = "ok", None, {}
    try:
        counts = await work(stint, enqueue)
    except asyncio.CancelledError:
        # Shutting down: leave the row "running" rather than wait on the database now.
        status = "cancelled"
        raise
    except Exception as exc:
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        seconds = round(time.monotonic() - started, 3)
        if status == "cancelled":
            log.warning("job %s cancelled after %ss", name, seconds, extra={"job": name})
        else:
            await _record(stint, store, name, key, status, counts, error, seconds)
    return counts


async def _record(
    stint: Stint, store: JobStore, name: str, key: str, status: str, counts: Counts, error: str | None,
    seconds: float,
) -> None:
    try:
        async with stint.uow(write=True) as tx:
            await store.finish_run(key, status, counts, error, stint.clock.now())
            await tx.commit()
    except Exception:
        log.exception("could not record a job run", extra={"job": name})
    # The schedule runs a dozen jobs every 30 s to an hour; most runs find nothing to do. Those
    # go to DEBUG (the run is recorded above either way, and counted in /metrics), so that the
    # log shows what the jobs did, not that they woke up.
    if status != "ok":
        logger = log.error
    elif any(value for value in (counts or {}).values()):
        logger = log.info
    else:
        logger = log.debug
    logger("job %s %s in %ss: %s", name, status, seconds, counts or error,
           extra={"job": name, "status": status, "seconds": seconds, "counts": counts})
