"""What ``/health`` reports: the database and its schema, Redis, the clock and the jobs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plugins.jobs.status import jobs_status
from plugins.storage.migrations import MIGRATIONS, applied_migrations

if TYPE_CHECKING:
    from plugins.stint import Stint

__all__ = ["HealthReport", "health_report"]


@dataclass(frozen=True, slots=True)
class HealthReport:
    """Healthy only when the database answers; the other checks are reported, not judged."""

    healthy: bool
    checks: dict[str, Any]


async def health_report(stint: Stint) -> HealthReport:
    checks: dict[str, Any] = {}
    healthy = True
    try:
        applied = await applied_migrations(stint.engine)
        latest = MIGRATIONS[-1].ID
        checks["database"] = {
            "ok": True,
            "engine": stint.engine.engine_type,
            "schema": applied[-1] if applied else None,
            "schema_current": bool(applied) and applied[-1] == latest,
        }
    except Exception as exc:  # any failure here is exactly what /health reports
        healthy = False
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    # Redis, the clock and the jobs: none of them makes the app unhealthy — without Redis
    # the app keeps serving from the database.
    if stint.redis is not None:
        try:
            await stint.redis.ping()
            checks["redis"] = {"ok": True}
        except Exception as exc:
            checks["redis"] = {"ok": False, "error": type(exc).__name__}
    fake = bool(getattr(stint.clock, "fake", False))
    checks["clock"] = {"now": stint.clock.now().isoformat(), "fake": fake}
    try:
        checks["jobs"] = await jobs_status(stint)
    except Exception as exc:
        checks["jobs"] = {"ok": False, "error": type(exc).__name__}
    return HealthReport(healthy, checks)
