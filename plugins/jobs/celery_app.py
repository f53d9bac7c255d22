"""The Celery app: one task per job (thin wrappers over :mod:`.registry`), and the beat schedule.

Every task is idempotent (its effects have unique keys in the database), so all of them
use ``acks_late`` with ``reject_on_worker_lost``: a worker killed mid-task leaves the
message to be delivered again, and the rerun repeats nothing. Every task retries with
exponential backoff up to ``max_retries``; time limits and backoff countdowns stay below
Redis's visibility timeout, so a slow or waiting task is never handed out twice.

``stint worker`` / ``stint beat`` build the app from settings (:func:`create_celery`);
``celery -A plugins.jobs.celery_app`` finds the same app as ``app``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate

from celery import Celery, Task, signals

from plugins.settings import Settings, load_settings

from . import runtime
from .registry import JOBS, Counts, Enqueue, due_batches, period, renew_batch, run_job
from .status import queue_length

if TYPE_CHECKING:
    from plugins.stint import Stint

__all__ = ["BATCH", "SWEEP", "create_celery", "task_name"]

log = logging.getLogger("stint.jobs")

#: The renewals job fans out: the sweep lists due subscriptions, batches go to workers.
SWEEP = "stint.renewals"
BATCH = "stint.renewals.batch"
#: Queued tasks beyond which a renewals sweep leaves the fan-out to the next tick.
_BACKLOG = 4 * len(JOBS)
#: Tasks retry this often before they are given up (the next scheduled run starts afresh).
MAX_RETRIES = 5
#: A job's task body: bound, so it gets its task first (for ``request.id``, the run key).
JobTask = Callable[Concatenate[Task[Any, Any], ...], Counts]


def task_name(job: str) -> str:
    return f"stint.{job}"


def _limits(settings: Settings) -> tuple[int, int, int]:
    """(hard time limit, soft time limit, longest retry countdown), all below the visibility timeout."""
    visibility = settings.jobs_visibility_timeout
    hard = max(10, min(900, visibility // 2))
    return hard, max(5, hard - max(5, hard // 10)), max(5, min(600, visibility // 2))


def create_celery(settings: Settings | None = None) -> Celery:
    settings = settings or load_settings()
    if not settings.redis_url:
        raise RuntimeError(
            "Celery needs Redis: set STINT_REDIS_URL (without it, `stint serve` runs the jobs itself)"
        )
    hard, soft, backoff_max = _limits(settings)
    app = Celery("stint", broker=settings.redis_url, set_as_current=False)
    app.conf.update(
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue="stint",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_time_limit=hard,
        task_soft_time_limit=soft,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.jobs_visibility_timeout,
            "global_keyprefix": f"{settings.redis_prefix}celery:",
        },
        timezone="UTC",
        enable_utc=True,
        worker_hijack_root_logger=False,
        beat_schedule={
            job.name: {
                "task": task_name(job.name),
                "schedule": float(period(settings, job)),
                # A tick that waited longer than a period is stale: the next one does its work.
                "options": {"expires": float(period(settings, job))},
            }
            for job in JOBS.values()
        },
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
    )
    def enqueue(tenant_ids: list[str]) -> None:
        app.send_task(BATCH, args=[tenant_ids])

    async def sweep(stint: Stint, send: Enqueue | None = None) -> Counts:
        # Batches of an earlier sweep still waiting: sending more would only queue the same
        # subscriptions twice (harmless, but work piles up). The next tick looks again.
        queued = await queue_length(stint)
        if queued is not None and queued > _BACKLOG:
            log.warning("renewals sweep skipped: %s tasks still queued", queued)
            return {"skipped_queued": queued}
        return await due_batches(stint, send)

    @_task(app, SWEEP, backoff_max)
    def renewals(self: Task[Any, Any]) -> Counts:
        job = run_job(runtime.stint(), "renewals", run_key=self.request.id, enqueue=enqueue, run=sweep)
        return runtime.run_async(job)

    @_task(app, BATCH, backoff_max)
    def renewals_batch(self: Task[Any, Any], tenant_ids: list[str]) -> Counts:
        async def batch(stint: Stint, _: Enqueue | None = None) -> Counts:
            return await renew_batch(stint, tenant_ids)

        return runtime.run_async(
            run_job(runtime.stint(), "renewals.batch", run_key=self.request.id, run=batch)
        )

    for job in JOBS.values():
        if job.name != "renewals":
            _register(app, job.name, backoff_max)

    @signals.worker_process_init.connect(weak=False)
    def start_process(**_: Any) -> None:
        runtime.init_process(settings)

    @signals.worker_process_shutdown.connect(weak=False)
    def stop_process(**_: Any) -> None:
        runtime.shutdown_process()

    return app


def _task(app: Celery, name: str, backoff_max: int) -> Callable[[JobTask], Task[Any, Any]]:
    """Register a bound task with the retry policy every job shares (see the module docstring)."""
    return app.task(
        name=name,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        autoretry_for=(Exception,),
        max_retries=MAX_RETRIES,
        retry_backoff=2,
        retry_backoff_max=backoff_max,
        retry_jitter=True,
    )


def _register(app: Celery, name: str, backoff_max: int) -> None:
    @_task(app, task_name(name), backoff_max)
    def task(self: Task[Any, Any]) -> Counts:
        return runtime.run_async(run_job(runtime.stint(), name, run_key=self.request.id))


def __getattr__(attr: str) -> Any:
    # ``celery -A plugins.jobs.celery_app`` looks up ``app``: build it from the environment then.
    if attr == "app":
        return create_celery()
    raise AttributeError(attr)
