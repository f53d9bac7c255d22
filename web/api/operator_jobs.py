"""Operator API: what the background jobs did last, on which worker, and what waits.

This left the public ``/health`` (issue #22): a job's errors and a worker's host and pid
are for the operator, not for anyone who can reach the load balancer.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, get

from plugins.bootstrap import jobs_status

from ..deps import StintDep

__all__ = ["OperatorJobsController"]


class OperatorJobsController(Controller):
    path = "/jobs"
    tags = ("operator",)

    @get("/", summary="The background jobs' last runs and backlog")
    async def status(self, stint: StintDep) -> dict[str, Any]:
        return await jobs_status(stint)
