"""``GET /api/v1/import-jobs/{job_id}``: a background import's state and progress, and
once refused every bad line (issue #17); and where background imports run.

A big import started from the Times Explorer runs as a task of the process that took the
file (the rows are in its memory); its state is stored as it goes, so any process answers
this route. A process that stops mid-import leaves the job ``checking`` or ``storing`` and
stores nothing of it (the import is one transaction).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import msgspec
from litestar import Controller, get
from litestar.params import FromPath

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.import_jobs import import_status
from core.tracking.import_jobs import ImportJob

from ..access import requires
from ..auth import TenantRequest
from ..deps import StintDep

__all__ = ["ImportJobOut", "ImportJobsController", "import_job_out", "in_background"]


#: The running imports: held so that the event loop does not drop a task before it ends.
_RUNNING: set[asyncio.Task[Any]] = set()


def in_background(work: Coroutine[Any, Any, Any]) -> None:
    """Run ``work`` on this process's event loop after the request has been answered."""
    task = asyncio.get_running_loop().create_task(work)
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)


class LineError(msgspec.Struct):
    line: int
    reason: str


class ImportJobOut(msgspec.Struct):
    id: str
    #: queued, checking, storing, done or failed.
    state: str
    done: int
    total: int
    imported: int
    errors: list[LineError]


def import_job_out(job: ImportJob) -> ImportJobOut:
    return ImportJobOut(
        id=job.id, state=job.state.value, done=job.done, total=job.total, imported=job.imported,
        errors=[LineError(int(e.get("line", 1)), str(e.get("reason", ""))) for e in job.errors],
    )


class ImportJobsController(Controller):
    # Not /worklogs/import/{job_id}: beside /worklogs/{worklog_id}/history that path is
    # ambiguous (a worklog id "import"; OpenAPI lint, no-ambiguous-paths).
    path = "/import-jobs"
    tags = ("worklogs",)

    @get("/{job_id:str}", summary="A background import's state and progress",
         guards=[requires(Action.EDIT_OWN_WORKLOGS, Scope.WORKLOGS_WRITE)])
    async def status(self, request: TenantRequest, job_id: FromPath[str], stint: StintDep) -> ImportJobOut:
        principal = request.user
        job = await import_status(stint.uow, tenant=principal.tenant, user=principal.user, job_id=job_id)
        return import_job_out(job)
