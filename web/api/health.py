"""``/health``: is the database reachable, which schema version is installed, is Redis up,
what the background jobs did last and what waits for them."""

from __future__ import annotations

from typing import Any

from litestar import Response, get

from plugins.storage.migrations import MIGRATIONS, applied_migrations

from ..deps import StintDep

__all__ = ["health"]


async def _jobs_checks(stint: Any, checks: dict[str, Any]) -> None:
    """Redis, the clock and the jobs: reported, but none of them makes the app unhealthy —
    without Redis the app keeps serving from the database."""
    from plugins.jobs.status import jobs_status

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


@get("/health", tags=["operations"], summary="Health of this Stint")
async def health(stint: StintDep) -> Response[dict[str, Any]]:
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
    await _jobs_checks(stint, checks)
    status = 200 if healthy else 503
    return Response({"status": "ok" if healthy else "unavailable", "checks": checks}, status_code=status)
