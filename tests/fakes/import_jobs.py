"""In-memory background imports, as ``plugins/storage/import_jobs_repo.py`` keeps them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from core.tracking.import_jobs import ImportJob

if TYPE_CHECKING:
    from tests.fakes.unit_of_work import FakeDatabase

__all__ = ["FakeImportJobStore"]


class FakeImportJobStore:
    def __init__(self, store: FakeDatabase, tenant_id: str) -> None:
        self._store = store
        self.tenant_id = tenant_id

    def _jobs(self) -> dict[str, ImportJob]:
        return self._store.import_jobs.setdefault(self.tenant_id, {})

    async def add(self, job: ImportJob) -> None:
        self._store.check_write("add an import job")
        self._jobs()[job.id] = replace(job, errors=tuple(job.errors)[:1000])

    async def save(self, job: ImportJob, at: datetime) -> None:
        self._store.check_write("save an import job")
        if job.id in self._jobs():
            self._jobs()[job.id] = replace(job, errors=tuple(job.errors)[:1000])

    async def get(self, user_id: str, job_id: str) -> ImportJob | None:
        job = self._jobs().get(job_id)
        return job if job is not None and job.user_id == user_id else None
