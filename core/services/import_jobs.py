"""Big worklog imports in the background (issue #17): accepted at once, then checked and
stored by :func:`run_import` while the Times Explorer shows their progress.

The import is the synchronous one (:func:`core.services.worklog_import.import_worklogs`),
all or nothing, with the same rules; only its state is recorded as it goes — ``queued``,
``checking``, ``storing``, then ``done`` or ``failed`` with every bad line — each in a
short transaction of its own, never inside the import's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from core.clock import Clock
from core.errors import NotFound, StintError
from core.ids import new_id
from core.tenancy import Tenant, User
from core.tracking import NumberedRow
from core.tracking.import_jobs import ImportJob, ImportState
from core.unit_of_work import UnitOfWorkFactory

from .worklog_import import ImportRejected, import_worklogs

__all__ = ["BACKGROUND_ROWS", "import_status", "run_import", "start_import"]

log = logging.getLogger("stint.imports")

#: Files with more rows than this import in the background, with a progress bar.
BACKGROUND_ROWS = 2000


async def start_import(uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User,
                       total: int) -> ImportJob:
    """A queued import of ``total`` rows, the actor's own."""
    job = ImportJob(id=new_id(), user_id=actor.id, state=ImportState.QUEUED, done=0, total=total,
                    created_at=clock.now())
    async with uow(write=True) as work:
        await work.tenant(tenant.id).import_jobs().add(job)
        await work.commit()
    return job


async def _record(uow: UnitOfWorkFactory, clock: Clock, tenant: Tenant, job: ImportJob) -> ImportJob:
    async with uow(write=True) as work:
        await work.tenant(tenant.id).import_jobs().save(job, clock.now())
        await work.commit()
    return job


async def run_import(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, job: ImportJob,
    rows: Sequence[NumberedRow], may_import_for_others: bool, time_zone: str,
) -> ImportJob:
    """Run the import of ``job`` to its end and record how it ended (never raises for a bad
    file: a refusal is the job's ``failed`` state with its lines)."""
    job = await _record(uow, clock, tenant, replace(job, state=ImportState.CHECKING, done=0, total=len(rows)))
    checked = job

    async def progress(stage: str, done: int) -> None:
        nonlocal checked
        state = ImportState.STORING if stage == "storing" else ImportState.CHECKING
        checked = await _record(uow, clock, tenant, replace(job, state=state, done=done))

    try:
        imported = await import_worklogs(
            uow, clock, tenant=tenant, actor=actor, rows=rows, may_import_for_others=may_import_for_others,
            time_zone=time_zone, progress=progress,
        )
    except ImportRejected as refused:
        errors = tuple(refused.extra.get("errors") or [{"line": 1, "reason": refused.detail}])
        return await _record(uow, clock, tenant, replace(checked, state=ImportState.FAILED, errors=errors))
    except StintError as refused:  # the plan's limit, a closed budget: the whole file is refused
        lines = ({"line": 1, "reason": refused.detail},)
        return await _record(uow, clock, tenant, replace(checked, state=ImportState.FAILED, errors=lines))
    except Exception:
        log.exception("background import %s stopped", job.id)
        lines = ({"line": 1, "reason": "the import stopped unexpectedly; nothing was imported"},)
        return await _record(uow, clock, tenant, replace(checked, state=ImportState.FAILED, errors=lines))
    return await _record(uow, clock, tenant, replace(checked, state=ImportState.DONE, done=len(rows),
                                                     imported=len(imported)))


async def import_status(uow: UnitOfWorkFactory, *, tenant: Tenant, user: User, job_id: str) -> ImportJob:
    """The user's own import; anyone else's is as absent as none (404)."""
    async with uow() as work:
        job = await work.tenant(tenant.id).import_jobs().get(user.id, job_id)
    if job is None:
        raise NotFound("there is no such import")
    return job
