"""``/health``: is the database reachable, and which schema version is installed."""

from __future__ import annotations

from typing import Any

from litestar import Response, get

from plugins.storage.migrations import MIGRATIONS, applied_migrations

from ..deps import StintDep

__all__ = ["health"]


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
    status = 200 if healthy else 503
    return Response({"status": "ok" if healthy else "unavailable", "checks": checks}, status_code=status)
