"""The named records that cross the tracking repository port (:mod:`core.tracking.ports`):
what it is handed and what it answers — staged worklogs, settings and preferences, timer
and timesheet reads, worklog cursors, user weeks and the work-item outbox's entries.
Re-exported by :mod:`core.tracking.ports`, where the other contexts find them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from core.tracking import LockPolicy, Timer, TrackingRules, WeekStatus, Worklog, WorklogFlag

__all__ = [
    "OutboxEntry",
    "StagedWorklogs",
    "TimerReads",
    "TrackingPreference",
    "TrackingSettings",
    "UserWeek",
    "WeekSheetData",
    "WorkItemEffect",
    "WorklogCursor",
]

@dataclass(frozen=True, slots=True, eq=False)
class StagedWorklogs:
    """New worklogs handed to a write unit of work *before* it starts: ``uow(write=True,
    staged=…)``. Storage whose write lock is the whole database's (SQLite) copies their
    rows to its connection's own scratch space before taking the lock, so that under it
    ``TrackingRepository.add_staged_worklogs`` only moves them across in one statement;
    elsewhere they are written then, as ``add_worklogs`` would. Private to the one unit of
    work and its connection: gone with it, whether it commits or not. Compared by identity:
    staging is for these very worklogs. They are an import's: each flagged imported (their
    history may record the import once, ``add_staged_worklogs``)."""

    tenant_id: str
    worklogs: Sequence[Worklog]
    at: datetime

    def __post_init__(self) -> None:
        if not all(WorklogFlag.IMPORTED in worklog.flags for worklog in self.worklogs):
            raise ValueError("staged worklogs are an import's: each is flagged imported")


@dataclass(frozen=True, slots=True)
class TrackingSettings:
    """A tenant's tracking rules and its week-locking policy."""

    rules: TrackingRules
    lock: LockPolicy


@dataclass(frozen=True, slots=True)
class TimerReads:
    """What starting or stopping a timer decides on, read at once under the user's lock
    (:meth:`TrackingRepository.timer_reads`). A field left ``None`` was not read here: the
    use case asks the repository that owns it, as it would without this read."""

    settings: TrackingSettings
    timer: Timer | None
    #: The user's own zone (None: the tenant's, or not asked).
    time_zone: str | None = None
    #: The statuses of the weeks asked; a week missing was not asked.
    week_statuses: Mapping[str, WeekStatus] = field(default_factory=dict)
    #: Whether the work item asked is in the tenant's mirror.
    work_item_exists: bool | None = None
    #: Whether the tenant has a closed budget.
    closed_budget: bool | None = None
    #: The worklog limits (per tenant, per user) of the tenant's plan as the stored catalogue has it.
    worklog_limits: tuple[int | None, int | None] | None = None


@dataclass(frozen=True, slots=True)
class WorklogCursor:
    """A position in the worklogs ordered by ``started_at``, then ``id``."""

    started_at: datetime
    id: str


class WorkItemEffect(NamedTuple):
    """A work-item update to queue once: lower Remaining Work by ``remaining_delta_s`` (0: only
    recompute Completed Work), under ``effect_key``."""

    work_item: str
    effect_key: str
    remaining_delta_s: int


class UserWeek(NamedTuple):
    """A user's week (ISO week id ``2026-W49``): the key of week statuses."""

    user_id: str
    week: str


@dataclass(frozen=True, slots=True)
class TrackingPreference:
    """One user's tracking settings: their time zone (None: the tenant's) and stop mails."""

    time_zone: str | None = None
    mail_on_system_stop: bool = False


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A pending work-item update, written with the worklog change that caused it.

    ``remaining_delta_s`` > 0 lowers Remaining Work once (its ``effect_key`` is unique);
    every entry also asks for Completed Work to be recomputed from the stored worklogs.
    ``attempt_*`` remember what the last try was about to write, so a retry after a
    crash can tell whether that write landed. ``remaining_set``: the Remaining Work (hours)
    the user set on a new worklog, which the ``per_worklog`` automation mode writes.
    """

    id: str
    work_item: str
    effect_key: str
    remaining_delta_s: int
    attempts: int
    attempt_rev: int | None = None
    attempt_completed: Decimal | None = None
    attempt_remaining: Decimal | None = None
    remaining_set: Decimal | None = None


@dataclass(frozen=True, slots=True)
class WeekSheetData:
    """What one timesheet week needs, read at once: the user's own zone (None: the
    tenant's), the week's status, the lock date and the worklogs of the UTC window asked."""

    time_zone: str | None
    status: WeekStatus
    locked_until: date | None
    worklogs: list[Worklog]
    #: The approval settings (see ``LockPolicy``) and the note of a rejected week.
    approval_start: date | None = None
    auto_lock_after_days: int | None = None
    note: str | None = None

    @property
    def lock(self) -> LockPolicy:
        return LockPolicy(self.locked_until, self.approval_start, self.auto_lock_after_days)
