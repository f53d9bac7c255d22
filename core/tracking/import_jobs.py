"""A big worklog import running in the background (issue #17): its state, how far it got and,
once refused, every bad line — what the Times Explorer's progress bar and report read.

States: ``queued`` (accepted, not started), ``checking`` (the rows are being checked),
``storing`` (all rows passed; they are being stored in one transaction), then ``done`` (every
row stored) or ``failed`` (nothing stored; ``errors`` lists every bad line, as the
synchronous import's 422 does). The import itself is all or nothing either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

__all__ = ["ImportJob", "ImportJobStore", "ImportState"]


class ImportState(StrEnum):
    QUEUED = "queued"
    CHECKING = "checking"
    STORING = "storing"
    DONE = "done"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (ImportState.DONE, ImportState.FAILED)


@dataclass(frozen=True, slots=True)
class ImportJob:
    id: str
    user_id: str
    state: ImportState
    #: Rows handled so far, out of ``total`` (the file's rows).
    done: int
    total: int
    created_at: datetime
    #: Worklogs stored (``done`` state only).
    imported: int = 0
    #: ``[{line, reason}]``: why nothing was stored (``failed`` state only).
    errors: Sequence[Mapping[str, Any]] = field(default_factory=tuple)


class ImportJobStore(Protocol):
    """One tenant's import jobs; each is read by the user who started it only."""

    async def add(self, job: ImportJob) -> None: ...

    async def save(self, job: ImportJob, at: datetime) -> None: ...

    async def get(self, user_id: str, job_id: str) -> ImportJob | None:
        """The user's own job (another user's is as absent as none)."""
        ...
