"""What the jobs did last and what waits: for ``/health`` and ``stint jobs status``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from core.clock import today_in

from .registry import JOBS

if TYPE_CHECKING:
    from plugins.stint import Stint

__all__ = ["jobs_status", "queue_length"]

log = logging.getLogger("stint.jobs")


async def queue_length(stint: Stint) -> int | None:
    """Tasks waiting in the Celery queue (None without Redis, or when it cannot be asked)."""
    if stint.redis is None:
        return None
    try:
        key = f"{stint.settings.redis_prefix}celery:stint"
        return int(await stint.redis.llen(key))
    except Exception:
        return None  # Redis down: the health check's redis section says so


async def jobs_status(stint: Stint) -> dict[str, Any]:
    store = stint.jobs
    async with stint.uow():
        runs = await store.last_runs()
        backlog = await store.backlog(today_in(stint.clock), grace_days=stint.settings.grace_days)
    queued = await queue_length(stint)
    if queued is not None:
        backlog["celery_queue"] = queued
    return {
        "mode": "celery" if stint.settings.redis_url else "embedded",
        "last_runs": {
            run.job: {
                "status": run.status,
                "started_at": run.started_at.isoformat(),
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "counts": run.counts,
                "error": run.error,
                "worker": run.worker,
            }
            for run in runs
        },
        "never_run": sorted(set(JOBS) - {run.job for run in runs}),
        "backlog": backlog,
    }
