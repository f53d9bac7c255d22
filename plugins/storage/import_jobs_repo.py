"""One tenant's background worklog imports; every query filters on the tenant (and reads
filter on the user who started the import)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from core.tracking.import_jobs import ImportJob, ImportState

from .import_jobs_tables import ImportJobRow

__all__ = ["PiccoloImportJobStore"]

#: At most this many bad lines are kept with a refused import (the report says how many more).
MAX_ERRORS = 1000


def _values(job: ImportJob) -> dict[Any, Any]:
    return {
        ImportJobRow.state: job.state.value, ImportJobRow.done: job.done, ImportJobRow.total: job.total,
        ImportJobRow.imported: job.imported, ImportJobRow.errors: json.dumps(list(job.errors)[:MAX_ERRORS]),
    }


class PiccoloImportJobStore:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    async def add(self, job: ImportJob) -> None:
        await ImportJobRow.insert(ImportJobRow(
            id=job.id, tenant_id=self.tenant_id, user_id=job.user_id, state=job.state.value, done=job.done,
            total=job.total, imported=job.imported, errors=json.dumps(list(job.errors)[:MAX_ERRORS]),
            created_at=job.created_at, updated_at=job.created_at,
        ))

    async def save(self, job: ImportJob, at: datetime) -> None:
        await ImportJobRow.update({**_values(job), ImportJobRow.updated_at: at}).where(
            (ImportJobRow.tenant_id == self.tenant_id) & (ImportJobRow.id == job.id)
        )

    async def get(self, user_id: str, job_id: str) -> ImportJob | None:
        row = await ImportJobRow.select().where(
            (ImportJobRow.tenant_id == self.tenant_id) & (ImportJobRow.user_id == user_id)
            & (ImportJobRow.id == job_id)
        ).first()
        if row is None:
            return None
        return ImportJob(
            id=row["id"], user_id=row["user_id"], state=ImportState(row["state"]), done=int(row["done"]),
            total=int(row["total"]), created_at=row["created_at"], imported=int(row["imported"]),
            errors=tuple(json.loads(row["errors"] or "[]")),
        )
