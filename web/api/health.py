"""Health for load balancers and orchestrators.

- ``GET /health/live``: the process is up (no I/O): restart it only when this fails.
- ``GET /health/ready``: the database answers with a current schema and Redis answers
  when configured; otherwise 503 problem+json naming what failed: send no traffic.
- ``GET /health``: the short public summary (database, schema, Redis, clock). What the
  background jobs did, and on which worker, is the operator's (``GET /api/v1/operator/jobs``).
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get

from plugins.bootstrap import health_report, readiness

from ..deps import StintDep
from ..lifecycle import draining
from ..problems import problem

__all__ = ["health", "live", "ready"]

@get("/health", tags=["operations"], summary="Health of this Stint")
async def health(stint: StintDep) -> Response[dict[str, Any]]:
    report = await health_report(stint)
    healthy = report.healthy
    return Response(
        {"status": "ok" if healthy else "unavailable", "checks": report.checks},
        status_code=200 if healthy else 503,
    )


@get("/health/live", tags=["operations"], summary="Liveness: the process is up")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@get("/health/ready", tags=["operations"], summary="Readiness: database, schema and Redis answer")
async def ready(stint: StintDep) -> Response[dict[str, Any]]:
    if draining():
        return problem(503, "not_ready", "Not ready: this process is shutting down.",
                       headers={"Retry-After": "5"}, checks={"draining": True})
    report = await readiness(stint)
    if report.healthy:
        return Response({"status": "ok", "checks": report.checks}, status_code=200)
    failing = ", ".join(
        name if not check.get("ok") else f"{name} schema (migrations pending: run `stint db upgrade`)"
        for name, check in report.checks.items()
        if not check.get("ok") or check.get("schema_current") is False
    )
    return problem(503, "not_ready", f"Not ready: {failing}.", headers={"Retry-After": "5"},
                   checks=report.checks)
