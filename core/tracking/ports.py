"""Tracking's ports: a tenant's timers, worklogs, weeks and work-item outbox, the
DevOps platform the outbox writes to, and the tenant's connection to it (SPEC §8).

This module owns the tracking repository (:class:`TrackingRepository`) and
:class:`TrackingDirectory`. The value types the repository reads and writes live in
:mod:`core.tracking.repository_records`, the DevOps ports in
:mod:`core.tracking.devops_ports` and the spreadsheet port in
:mod:`core.tracking.spreadsheet_ports`; they are re-exported here, the one ports module the
other contexts may import (the import contract allows ``core.*.ports``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol, TypeVar

from core.tracking import LockPolicy, Timer, TrackingRules, WeekRecord, WeekStatus, Worklog
from core.tracking.automation import WorkItemAutomation
from core.tracking.devops_ports import (
    ConnectorKind,
    DevOpsConnectionStore,
    DevOpsConnector,
    SealFn,
    StaleWorkItem,
    StoredDevOpsConnection,
    WorkItemState,
)
from core.tracking.explorer import ExplorerRows, PageShape, TotalsBy, WorklogQuery, WorklogTotals
from core.tracking.history import ChangeCursor, WorklogChange
from core.tracking.repository_records import (
    OutboxEntry,
    StagedWorklogs,
    TimerReads,
    TrackingPreference,
    TrackingSettings,
    UserWeek,
    WeekSheetData,
    WorkItemEffect,
    WorklogCursor,
)
from core.tracking.spreadsheet_ports import Spreadsheets

__all__ = [
    "ConnectorKind",
    "DevOpsConnectionStore",
    "DevOpsConnector",
    "OutboxEntry",
    "SealFn",
    "Spreadsheets",
    "StagedWorklogs",
    "StaleWorkItem",
    "StoredDevOpsConnection",
    "TimerReads",
    "TrackingDirectory",
    "TrackingPreference",
    "TrackingRepository",
    "TrackingSettings",
    "UserWeek",
    "WeekSheetData",
    "WorkItemEffect",
    "WorkItemState",
    "WorklogCursor",
]

T = TypeVar("T")


class TrackingRepository(Protocol):
    """One tenant's timers, worklogs, week statuses, rules and work-item outbox.

    Every method that writes a worklog (add, save, delete, one or many) also records the
    change in the worklog's history, in the same transaction, under the scope's origin.
    """

    async def week_sheet(self, user_id: str, week: str, start: datetime, end: datetime) -> WeekSheetData:
        """One round trip: zone, status of ``week``, lock date, worklogs starting in ``[start, end)``."""
        ...

    async def rules(self) -> TrackingSettings: ...

    async def save_rules(self, rules: TrackingRules, lock: LockPolicy, at: datetime) -> None:
        """Store the rules and ``lock.locked_until`` (the approval settings are left alone)."""
        ...

    async def save_approval_settings(
        self, approval_start: date | None, auto_lock_after_days: int | None, at: datetime
    ) -> None:
        """Store the approval settings of the lock policy (the rest is left alone)."""
        ...

    async def work_item_automation(self) -> WorkItemAutomation:
        """The tenant's work item automation settings (never saved: the defaults)."""
        ...

    async def save_work_item_automation(self, settings: WorkItemAutomation, by: str, at: datetime) -> None:
        ...

    async def editing_rule(self) -> str | None:
        """Who may edit other people's time (``core.licensing.editing``); None: never set."""
        ...

    async def save_editing_rule(self, rule: str, by: str, at: datetime) -> None: ...

    async def preference(self, user_id: str) -> TrackingPreference: ...

    async def time_zones(self) -> dict[str, str]:
        """Every user's own time zone in one query; users on the tenant's zone are left out."""
        ...

    async def save_preference(self, user_id: str, preference: TrackingPreference, at: datetime) -> None:
        ...

    async def lock_user(self, user_id: str) -> None:
        """Serialise this user's timer and worklog changes until the transaction ends."""
        ...

    async def timer(self, user_id: str) -> Timer | None: ...

    async def timer_reads(
        self, user_id: str, *, start: bool = False, weeks: Sequence[str] = (), work_item: int | None = None,
    ) -> TimerReads:
        """The rules and the user's running timer in one statement (call it under
        :meth:`lock_user`); ``start`` adds what starting checks: the user's zone, the
        statuses of ``weeks``, whether ``work_item`` exists, closed budgets, plan limits."""
        ...

    async def write_timer(
        self, user_id: str, timer: Timer | None, at: datetime, *,
        worklog: Worklog | None = None, stop_reason: str | None = None,
        effects: Sequence[WorkItemEffect] = (),
    ) -> None:
        """In as few statements as the storage allows: the user's timer replaced by
        ``timer`` (None: deleted), ``worklog`` (the one the old timer left) added with its
        history as :meth:`add_worklogs` does, ``effects`` queued as :meth:`enqueue_work_items`
        does (a key queued already is skipped)."""
        ...

    async def timers(self) -> list[Timer]: ...

    async def save_timer(self, timer: Timer, at: datetime) -> None: ...

    async def delete_timer(self, user_id: str) -> None: ...

    async def add_worklogs(
        self, worklogs: Sequence[Worklog], at: datetime, *, stop_reason: str | None = None
    ) -> None:
        """Store any number of new worklogs (an import's 100,000 too) in few statements."""
        ...

    async def add_staged_worklogs(self, staged: StagedWorklogs) -> None:
        """An import's worklogs, as ``add_worklogs(staged.worklogs, staged.at)`` would add
        them, from what the unit of work staged for them before it took the lock
        (``uow(write=True, staged=staged)``) if it did. Their history may record the import
        once rather than each worklog's addition, but ``worklog_history`` shows each one's
        "added" entry (by the import's actor, dated ``staged.at``) all the same, also after
        an edit or deletion."""
        ...

    async def worklog(self, worklog_id: str) -> Worklog | None: ...

    async def save_worklog(self, worklog: Worklog, at: datetime) -> None:
        """Store an edited worklog (none with its id: nothing happens)."""
        ...

    async def save_worklogs(self, worklogs: Sequence[Worklog], at: datetime) -> None:
        """Store many edited worklogs at once (a batch edit); their history in one statement."""
        ...

    async def delete_worklog(self, worklog_id: str, at: datetime | None = None) -> None:
        """Delete a worklog; ``at`` (None: the wall clock) dates its history's deletion."""
        ...

    async def delete_worklogs(self, worklog_ids: Sequence[str], at: datetime | None = None) -> None:
        """Delete many worklogs at once (a batch delete); their history is kept."""
        ...

    async def worklog_history(
        self, worklog_id: str, *, after: ChangeCursor | None = None, limit: int | None = None,
    ) -> list[WorklogChange]:
        """The recorded changes of the worklog (a deleted one's too), oldest first by
        ``(at, id)``; with ``after`` only those after it, at most ``limit`` of them."""
        ...

    async def worklogs(
        self, *, user_id: str | None = None, start: datetime | None = None, end: datetime | None = None,
        after: WorklogCursor | None = None, limit: int | None = None,
    ) -> list[Worklog]:
        """Worklogs starting in ``[start, end)``, oldest first (by ``started_at``, then ``id``);
        with ``after`` only those after that position, at most ``limit`` of them."""
        ...

    async def explore(
        self, query: WorklogQuery, *, after: WorklogCursor | None = None, limit: int | None = None,
    ) -> list[Worklog]:
        """The team-wide list: worklogs matching every condition of ``query`` (in SQL),
        by ``(started_at, id)`` (``query.descending``: newest first), after ``after``."""
        ...

    async def explore_rows(
        self, query: WorklogQuery, shape: PageShape[T], *, after: WorklogCursor | None = None, limit: int,
    ) -> ExplorerRows[T]:
        """:meth:`explore`'s page in one statement with what the list shows beside it: the
        title of the work item each worklog names, and whether the tenant assigns any
        budget; each worklog made into what ``shape`` makes of it."""
        ...

    async def worklog_times(self, ids: Collection[str]) -> dict[str, tuple[datetime, datetime]]:
        """When each of ``ids`` was stored and last changed (the explorer's Created and Edited
        columns); unknown ids are left out."""
        ...

    async def explore_totals(self, query: WorklogQuery, by: TotalsBy) -> list[WorklogTotals]:
        """The worklogs matching ``query`` summed (in SQL) per distinct value of what ``by``
        names: tracked and billable seconds, and the amount — each worklog priced by
        ``by.prices`` and rounded half-even once, then summed (one row when ``by`` splits
        by nothing and something matched; none when nothing did)."""
        ...

    async def explore_totals_unassigned(
        self, query: WorklogQuery, by: TotalsBy,
    ) -> list[WorklogTotals] | None:
        """:meth:`explore_totals` for prices that know no budget: ``None`` (nothing summed)
        when the tenant has any budget assignment, checked in the same statement."""
        ...

    async def count_worklogs(self, user_id: str | None = None) -> int: ...

    async def work_item_seconds(self, work_item: str) -> int: ...

    async def week_statuses(self, user_id: str | None = None) -> dict[UserWeek, WeekStatus]:
        """Every user's week whose status is not ``open``."""
        ...

    async def week_status(self, user_id: str, week: str) -> WeekStatus: ...

    async def save_week_status(
        self, user_id: str, week: str, status: WeekStatus, by: str, at: datetime
    ) -> None: ...

    async def week_record(self, user_id: str, week: str) -> WeekRecord:
        """The week with its particulars (an ``open`` record when none is stored)."""
        ...

    async def save_week(self, record: WeekRecord, by: str, at: datetime) -> None:
        """Store the week's status and particulars as ``record`` has them."""
        ...

    async def week_records(
        self, *, statuses: Collection[WeekStatus], user_ids: Collection[str] | None = None,
        week: str | None = None, limit: int = 500,
    ) -> list[WeekRecord]:
        """Stored weeks in one of ``statuses`` (of these users, of that week), newest week
        first, then by user id."""
        ...

    async def approvers(self, user_id: str | None = None) -> dict[str, list[str]]:
        """Each user's approvers (sorted), or one user's; users without any are left out."""
        ...

    async def approvees(self, approver_id: str) -> list[str]:
        """The users who name ``approver_id`` among their approvers."""
        ...

    async def set_approvers(self, user_id: str, approver_ids: Collection[str], at: datetime) -> None:
        """Replace the user's approvers."""
        ...

    async def enqueue_work_item(
        self, work_item: str, effect_key: str, remaining_delta_s: int, at: datetime,
        *, remaining_set: Decimal | None = None,
    ) -> None: ...

    async def enqueue_work_items(self, effects: Sequence[WorkItemEffect], at: datetime) -> None:
        """Queue many effects at once (an import's);
        an effect key queued already is skipped, as in :meth:`enqueue_work_item`."""
        ...

    async def pending_work_items(self, limit: int = 100) -> list[str]: ...

    async def pending_effects(self, work_item: str) -> list[OutboxEntry]: ...

    async def record_attempt(
        self, ids: Sequence[str], rev: int, completed: Decimal | None, remaining: Decimal | None
    ) -> None:
        """Remember what a try is about to leave the item at (its fields after the write)."""
        ...

    async def finish_effects(self, ids: Sequence[str], at: datetime) -> None: ...

    async def fail_effects(self, ids: Sequence[str], error: str) -> None: ...


class TrackingDirectory(Protocol):
    """The cross-tenant questions background jobs ask (never another tenant's rows)."""

    async def tenants_with_timers(self) -> list[str]: ...

    async def tenants_with_pending_work_items(self) -> list[str]: ...

    async def tenants_with_auto_lock(self) -> list[str]:
        """Tenants whose approval settings lock weeks by the calendar."""
        ...
