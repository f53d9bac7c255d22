"""``/health``: is the database reachable, which schema version is installed, is Redis up,
what the background jobs did last and what waits for them."""

from __future__ import annotations

from typing import Any

from litestar import Response, get

from plugins.bootstrap import health_report

from ..deps import StintDep

__all__ = ["health"]


@get("/health", tags=["operations"], summary="Health of this Stint")
async def health(stint: StintDep) -> Response[dict[str, Any]]:
    report = await health_report(stint)
    healthy = report.healthy
    return Response(
        {"status": "ok" if healthy else "unavailable", "checks": report.checks},
        status_code=200 if healthy else 503,
    )
