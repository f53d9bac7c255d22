"""What the health routes report.

- liveness: the process is up and its event loop turns (no I/O at all: a slow database
  must not get a healthy process restarted);
- readiness: the database answers, its schema has every migration this code expects, and
  Redis answers when it is configured — a process that is not ready should get no traffic;
- the public ``/health``: the same questions in short, without the jobs' details or any
  worker's host and pid (those are the operator's: ``GET /api/v1/operator/jobs``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plugins.storage.migrations import pending_migrations

if TYPE_CHECKING:
    from plugins.stint import Stint

__all__ = ["HealthReport", "health_report", "readiness"]

#: Seconds a readiness check may take: an unreachable host must not hang the probe.
CHECK_TIMEOUT = 3.0


@dataclass(frozen=True, slots=True)
class HealthReport:
    """``healthy``: the judgement; ``checks``: what was found, for the answer's body."""

    healthy: bool
    checks: dict[str, Any]


async def _database(stint: Stint) -> dict[str, Any]:
    try:
        pending = await asyncio.wait_for(pending_migrations(stint.engine), CHECK_TIMEOUT)
    except Exception as exc:  # any failure here is exactly what the check reports
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "engine": stint.engine.engine_type, "schema_current": not pending,
            "pending_migrations": len(pending)}


async def _redis(stint: Stint) -> dict[str, Any] | None:
    if stint.redis is None:
        return None
    try:
        await asyncio.wait_for(stint.redis.ping(), CHECK_TIMEOUT)
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


async def readiness(stint: Stint) -> HealthReport:
    """Ready: the database answers with a current schema, and Redis answers if configured."""
    checks: dict[str, Any] = {"database": await _database(stint)}
    ready = checks["database"]["ok"] and checks["database"]["schema_current"]
    redis = await _redis(stint)
    if redis is not None:
        checks["redis"] = redis
        ready = ready and redis["ok"]
    return HealthReport(bool(ready), checks)


async def health_report(stint: Stint) -> HealthReport:
    """The public ``/health``: healthy when the database answers; Redis and the clock are
    reported, not judged (without Redis the app keeps serving from the database)."""
    checks: dict[str, Any] = {"database": await _database(stint)}
    redis = await _redis(stint)
    if redis is not None:
        checks["redis"] = redis
    # A fake clock (tests only) must be visible from outside; the time itself is harmless.
    fake = bool(getattr(stint.clock, "fake", False))
    checks["clock"] = {"now": stint.clock.now().isoformat(), "fake": fake}
    return HealthReport(bool(checks["database"]["ok"]), checks)
