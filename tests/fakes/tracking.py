"""In-memory tracking: a tenant's timers, worklogs, weeks and outbox, the directory the
tracking jobs ask, a DevOps platform holding work items, and the connection store.

They behave like ``plugins/storage/tracking_repo.py`` where the use cases depend on it:
worklogs oldest first by ``(started_at, id)``, an effect key queued once ever (done or
not), ``lock_user`` a no-op (one unit of work runs at a time in memory, as on SQLite).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from core.ids import new_id
from core.money import Money
from core.origin import Origin, current_origin
from core.rates import amount
from core.tracking import LockPolicy, Timer, TrackingRules, WeekRecord, WeekStatus, Worklog
from core.tracking.automation import WorkItemAutomation
from core.tracking.explorer import ExplorerRows, PageShape, TotalsBy, UserWindow, WorklogQuery, WorklogTotals
from core.tracking.history import (
    ChangeAction,
    ChangeCursor,
    JsonValue,
    WorklogChange,
    added_source,
    edited_values,
    worklog_values,
)
from core.tracking.ports import (
    ConnectorKind,
    OutboxEntry,
    StagedWorklogs,
    StaleWorkItem,
    StoredDevOpsConnection,
    TimerReads,
    TrackingPreference,
    TrackingSettings,
    UserWeek,
    WeekSheetData,
    WorkItemEffect,
    WorkItemState,
    WorklogCursor,
)
from core.tracking.weeks import local_day

if TYPE_CHECKING:
    from tests.fakes.unit_of_work import FakeDatabase

__all__ = [
    "FakeDevOpsConnectionStore",
    "FakeDevOpsConnector",
    "FakeTrackingDirectory",
    "FakeTrackingRepository",
]

T = TypeVar("T")


class FakeTrackingRepository:
    """One tenant's tracking data in ``store``; touches only ``tenant_id``'s entries."""

    def __init__(self, store: FakeDatabase, tenant_id: str, origin: Origin | None = None) -> None:
        self._store = store
        self.tenant_id = tenant_id
        self._origin = origin if origin is not None else current_origin()

    # The tenant's own tables, created on first write like rows under a tenant id.
    def _worklogs(self) -> dict[str, Worklog]:
        return self._store.worklogs.setdefault(self.tenant_id, {})

    def _timers(self) -> dict[str, Timer]:
        return self._store.timers.setdefault(self.tenant_id, {})

    def _weeks(self) -> dict[UserWeek, WeekStatus]:
        return self._store.week_statuses.setdefault(self.tenant_id, {})

    def _outbox(self) -> list[OutboxEntry]:
        return self._store.outbox.setdefault(self.tenant_id, [])

    def _done(self) -> dict[str, datetime]:
        return self._store.outbox_done_at.setdefault(self.tenant_id, {})

    # Rules and preferences ------------------------------------------------------------

    async def rules(self) -> TrackingSettings:
        found = self._store.tracking_settings.get(self.tenant_id)
        return found or TrackingSettings(TrackingRules(), LockPolicy())

    async def save_rules(self, rules: TrackingRules, lock: LockPolicy, at: datetime) -> None:
        self._store.check_write("save tracking rules")
        # Like the real table's row: the approval settings are columns this leaves alone.
        kept = (await self.rules()).lock
        lock = replace(kept, locked_until=lock.locked_until)
        self._store.tracking_settings[self.tenant_id] = TrackingSettings(rules, lock)

    async def save_approval_settings(
        self, approval_start: date | None, auto_lock_after_days: int | None, at: datetime
    ) -> None:
        self._store.check_write("save approval settings")
        settings = await self.rules()
        lock = replace(
            settings.lock, approval_start=approval_start, auto_lock_after_days=auto_lock_after_days
        )
        self._store.tracking_settings[self.tenant_id] = TrackingSettings(settings.rules, lock)

    async def work_item_automation(self) -> WorkItemAutomation:
        return self._store.work_item_automation.get(self.tenant_id, WorkItemAutomation())

    async def save_work_item_automation(self, settings: WorkItemAutomation, by: str, at: datetime) -> None:
        self._store.check_write("save the work item automation")
        self._store.work_item_automation[self.tenant_id] = settings

    async def editing_rule(self) -> str | None:
        return self._store.editing_rules.get(self.tenant_id)

    async def save_editing_rule(self, rule: str, by: str, at: datetime) -> None:
        self._store.check_write("save the editing rule")
        self._store.editing_rules[self.tenant_id] = rule

    async def preference(self, user_id: str) -> TrackingPreference:
        return self._store.preferences.get(self.tenant_id, {}).get(user_id, TrackingPreference())

    async def time_zones(self) -> dict[str, str]:
        preferences = self._store.preferences.get(self.tenant_id, {})
        return {user_id: p.time_zone for user_id, p in preferences.items() if p.time_zone is not None}

    async def save_preference(self, user_id: str, preference: TrackingPreference, at: datetime) -> None:
        self._store.check_write("save a tracking preference")
        self._store.preferences.setdefault(self.tenant_id, {})[user_id] = preference

    # Timers -----------------------------------------------------------------------------

    async def lock_user(self, user_id: str) -> None:
        """Nothing to wait for (units of work on the fake run one at a time), but a read
        unit of work may not lock, as PostgreSQL refuses ``FOR UPDATE`` there."""
        self._store.check_write("lock a user")

    async def timer(self, user_id: str) -> Timer | None:
        return self._store.timers.get(self.tenant_id, {}).get(user_id)

    async def timers(self) -> list[Timer]:
        return list(self._store.timers.get(self.tenant_id, {}).values())

    async def timer_reads(
        self, user_id: str, *, start: bool = False, weeks: Sequence[str] = (), work_item: int | None = None,
    ) -> TimerReads:
        """What the storage reads in one statement; work items, budgets and plans live in
        other fakes, so those are left for the use case to ask (as ``None`` allows)."""
        settings, timer = await self.rules(), await self.timer(user_id)
        if not start:
            return TimerReads(settings, timer)
        return TimerReads(
            settings, timer, time_zone=(await self.preference(user_id)).time_zone,
            week_statuses={week: await self.week_status(user_id, week) for week in weeks},
        )

    async def write_timer(
        self, user_id: str, timer: Timer | None, at: datetime, *,
        worklog: Worklog | None = None, stop_reason: str | None = None,
        effects: Sequence[WorkItemEffect] = (),
    ) -> None:
        if timer is None:
            await self.delete_timer(user_id)
        else:
            await self.save_timer(timer, at)
        if worklog is not None:
            await self.add_worklogs([worklog], at, stop_reason=stop_reason)
        await self.enqueue_work_items(effects, at)

    async def save_timer(self, timer: Timer, at: datetime) -> None:
        self._store.check_write("save a timer")
        self._timers()[timer.user_id] = timer

    async def delete_timer(self, user_id: str) -> None:
        self._store.check_write("delete a timer")
        self._timers().pop(user_id, None)

    # Worklogs ---------------------------------------------------------------------------

    def _record(
        self, worklog: Worklog, action: ChangeAction, at: datetime,
        before: dict[str, JsonValue] | None, after: dict[str, JsonValue] | None,
    ) -> None:
        """The history row the real repository writes with every worklog write."""
        changes = self._store.worklog_changes.setdefault(self.tenant_id, [])
        changes.append(WorklogChange(
            # Sorts in write order, as the real ids do.
            id=f"{len(changes):016x}{new_id()[:16]}", worklog_id=worklog.id, user_id=worklog.user_id,
            at=at, actor_id=self._origin.actor_id,
            source=(added_source(worklog, self._origin) if action is ChangeAction.ADDED
                    else self._origin.source).value, action=action, before=before or {}, after=after or {},
        ))

    async def add_worklogs(
        self, worklogs: Sequence[Worklog], at: datetime, *, stop_reason: str | None = None
    ) -> None:
        self._store.check_write("add worklogs")
        table = self._worklogs()
        for worklog in worklogs:
            if worklog.id in table:
                raise ValueError(f"worklog {worklog.id} exists (the primary key would refuse it)")
            table[worklog.id] = worklog
            self._store.stop_reasons.setdefault(self.tenant_id, {})[worklog.id] = stop_reason
            self._store.worklog_times.setdefault(self.tenant_id, {})[worklog.id] = (at, at)
            self._record(worklog, ChangeAction.ADDED, at, None, worklog_values(worklog))

    async def add_staged_worklogs(self, staged: StagedWorklogs) -> None:
        await self.add_worklogs(staged.worklogs, staged.at)

    async def worklog(self, worklog_id: str) -> Worklog | None:
        return self._store.worklogs.get(self.tenant_id, {}).get(worklog_id)

    async def save_worklog(self, worklog: Worklog, at: datetime) -> None:
        await self.save_worklogs([worklog], at)

    async def save_worklogs(self, worklogs: Sequence[Worklog], at: datetime) -> None:
        self._store.check_write("save worklogs")
        table = self._worklogs()
        for worklog in worklogs:
            stored = table.get(worklog.id)
            if stored is None:  # an UPDATE … WHERE id: a deleted worklog stays deleted
                continue
            table[worklog.id] = worklog
            times = self._store.worklog_times.setdefault(self.tenant_id, {})
            times[worklog.id] = (times.get(worklog.id, (at, at))[0], at)
            before, after = edited_values(stored, worklog)
            if before or after:
                self._record(worklog, ChangeAction.EDITED, at, before, after)

    async def worklog_times(self, ids: Collection[str]) -> dict[str, tuple[datetime, datetime]]:
        times = self._store.worklog_times.get(self.tenant_id, {})
        table = self._store.worklogs.get(self.tenant_id, {})
        return {i: times[i] for i in ids if i in times and i in table}

    async def delete_worklog(self, worklog_id: str, at: datetime | None = None) -> None:
        await self.delete_worklogs([worklog_id], at)

    async def delete_worklogs(self, worklog_ids: Sequence[str], at: datetime | None = None) -> None:
        self._store.check_write("delete worklogs")
        when = at if at is not None else datetime.now(UTC)
        for worklog_id in worklog_ids:
            gone = self._worklogs().pop(worklog_id, None)
            if gone is not None:
                self._record(gone, ChangeAction.DELETED, when, worklog_values(gone), None)

    async def worklog_history(
        self, worklog_id: str, *, after: ChangeCursor | None = None, limit: int | None = None,
    ) -> list[WorklogChange]:
        changes = self._store.worklog_changes.get(self.tenant_id, [])
        found = sorted((c for c in changes if c.worklog_id == worklog_id), key=lambda c: (c.at, c.id))
        if after is not None:
            found = [c for c in found if (c.at, c.id) > (after.at, after.id)]
        return found if limit is None else found[:limit]

    async def worklogs(
        self, *, user_id: str | None = None, start: datetime | None = None, end: datetime | None = None,
        after: WorklogCursor | None = None, limit: int | None = None,
    ) -> list[Worklog]:
        found = [
            w for w in self._store.worklogs.get(self.tenant_id, {}).values()
            if (user_id is None or w.user_id == user_id)
            and (start is None or w.started_at >= start)
            and (end is None or w.started_at < end)
            and (after is None or (w.started_at, w.id) > (after.started_at, after.id))
        ]
        found.sort(key=lambda w: (w.started_at, w.id))
        return found if limit is None else found[:limit]

    async def explore(
        self, query: WorklogQuery, *, after: WorklogCursor | None = None, limit: int | None = None,
    ) -> list[Worklog]:
        times = self._store.worklog_times.get(self.tenant_id, {})

        def inside(w: Worklog, window: UserWindow) -> bool:
            return w.user_id == window.user_id and window.start <= w.started_at < window.end

        def matches(w: Worklog) -> bool:
            created, updated = times.get(w.id, (None, None))
            in_budget = query.budget_items is None or w.id in query.budget_ids or (
                w.work_item in query.budget_items and w.id not in query.not_ids
            )
            return (
                (query.ids is None or w.id in query.ids)
                and (query.user_ids is None or w.user_id in query.user_ids)
                and (query.start is None or w.started_at >= query.start)
                and (query.end is None or w.started_at < query.end)
                and (query.work_items is None or w.work_item in query.work_items)
                and (query.activity_type_ids is None or w.activity_type_id in query.activity_type_ids)
                and (query.billable is None or (w.billable_length_s > 0) == query.billable)
                and (query.created_from is None or (created is not None and created >= query.created_from))
                and (query.created_to is None or (created is not None and created < query.created_to))
                and (query.edited_since is None or (updated is not None and updated >= query.edited_since))
                and in_budget
                and (query.in_windows is None or any(inside(w, window) for window in query.in_windows))
                and not any(inside(w, window) for window in query.out_windows)
            )

        def beyond(w: Worklog) -> bool:
            if after is None:
                return True
            here, there = (w.started_at, w.id), (after.started_at, after.id)
            return here < there if query.descending else here > there

        found = [w for w in self._worklogs().values() if matches(w) and beyond(w)]
        found.sort(key=lambda w: (w.started_at, w.id), reverse=query.descending)
        return found if limit is None else found[:limit]

    async def explore_rows(
        self, query: WorklogQuery, shape: PageShape[T], *, after: WorklogCursor | None = None, limit: int,
    ) -> ExplorerRows[T]:
        found = await self.explore(query, after=after, limit=limit)
        items = self._store.work_items.get(self.tenant_id, {})
        titles = {
            str(int(name)): items[int(name)].title for name in (w.work_item for w in found)
            if name and name.isascii() and name.isdecimal() and len(name) <= 18 and int(name) in items
        }
        assigned = bool(self._store.budget_assignments.get(self.tenant_id))
        return ExplorerRows(
            [shape(w.id, w.user_id, w.started_at, w.length_s, w.billable_length_s, w.work_item, w.comment,
                   w.activity_type, w.added_by, w.flags, w.owner_edited, w.activity_type_id,
                   titles.get(w.work_item or "")) for w in found],
            [(w.id, w.work_item) for w in found] if assigned else [], assigned,
        )

    async def explore_totals_unassigned(
        self, query: WorklogQuery, by: TotalsBy,
    ) -> list[WorklogTotals] | None:
        if self._store.budget_assignments.get(self.tenant_id):
            return None
        return await self.explore_totals(query, by)

    async def explore_totals(self, query: WorklogQuery, by: TotalsBy) -> list[WorklogTotals]:
        """The sums, worklog by worklog in Python (what the SQL statement does in one go)."""
        prices = by.prices
        sums: dict[tuple[object, ...], list[int]] = {}
        for w in await self.explore(query):
            if w.id in prices.direct:
                rate = prices.direct[w.id]
            else:
                rate = prices.items.get(w.work_item) if w.work_item is not None else None
            if rate is None and w.activity_type_id is not None:
                rate = prices.activity_types.get(w.activity_type_id)
            if rate is None:
                rate = prices.users.get(w.user_id)
            day = local_day(w.started_at, by.day_zone) if by.day_zone is not None else None
            if day is not None and by.week_starts:
                day -= timedelta(days=day.weekday())
            key = (
                w.user_id if by.user else None,
                w.work_item if by.work_item else None,
                w.activity_type_id if by.activity_type else None,
                by.direct_budget.get(w.id) if by.direct_budget is not None else None,
                day,
            )
            line = sums.setdefault(key, [0, 0, 0])
            line[0] += w.length_s
            line[1] += w.billable_length_s
            line[2] += amount(w.billable_length_s, Money(rate, "USD")).amount if rate is not None else 0
        return [WorklogTotals(*key, *line) for key, line in sums.items()]  # type: ignore[arg-type]

    async def week_sheet(self, user_id: str, week: str, start: datetime, end: datetime) -> WeekSheetData:
        lock = (await self.rules()).lock
        record = await self.week_record(user_id, week)
        return WeekSheetData(
            (await self.preference(user_id)).time_zone,
            record.status,
            lock.locked_until,
            await self.worklogs(user_id=user_id, start=start, end=end),
            approval_start=lock.approval_start,
            auto_lock_after_days=lock.auto_lock_after_days,
            note=record.note,
        )

    async def count_worklogs(self, user_id: str | None = None) -> int:
        return len(await self.worklogs(user_id=user_id))

    async def work_item_seconds(self, work_item: str) -> int:
        worklogs = self._store.worklogs.get(self.tenant_id, {}).values()
        return sum(w.length_s for w in worklogs if w.work_item == work_item)

    # Weeks ------------------------------------------------------------------------------

    async def week_statuses(self, user_id: str | None = None) -> dict[UserWeek, WeekStatus]:
        return {
            key: status for key, status in self._store.week_statuses.get(self.tenant_id, {}).items()
            if status is not WeekStatus.OPEN and (user_id is None or key.user_id == user_id)
        }

    async def week_status(self, user_id: str, week: str) -> WeekStatus:
        return self._store.week_statuses.get(self.tenant_id, {}).get(UserWeek(user_id, week), WeekStatus.OPEN)

    async def save_week_status(
        self, user_id: str, week: str, status: WeekStatus, by: str, at: datetime
    ) -> None:
        self._store.check_write("save a week status")
        self._weeks()[UserWeek(user_id, week)] = status
        records = self._store.week_records.setdefault(self.tenant_id, {})
        key = UserWeek(user_id, week)
        records[key] = replace(records.get(key, WeekRecord(user_id, week)), status=status)

    async def week_record(self, user_id: str, week: str) -> WeekRecord:
        key = UserWeek(user_id, week)
        found = self._store.week_records.get(self.tenant_id, {}).get(key)
        if found is not None:
            return found
        return WeekRecord(user_id, week, await self.week_status(user_id, week))

    async def save_week(self, record: WeekRecord, by: str, at: datetime) -> None:
        self._store.check_write("save a week")
        key = UserWeek(record.user_id, record.week)
        self._weeks()[key] = record.status
        self._store.week_records.setdefault(self.tenant_id, {})[key] = record

    async def week_records(
        self, *, statuses: Collection[WeekStatus], user_ids: Collection[str] | None = None,
        week: str | None = None, limit: int = 500,
    ) -> list[WeekRecord]:
        found = [
            await self.week_record(key.user_id, key.week)
            for key, status in self._store.week_statuses.get(self.tenant_id, {}).items()
            if status in statuses and (user_ids is None or key.user_id in user_ids)
            and (week is None or key.week == week)
        ]
        found.sort(key=lambda r: r.user_id)
        found.sort(key=lambda r: r.week, reverse=True)
        return found[:limit]

    # Approvers ----------------------------------------------------------------------------

    async def approvers(self, user_id: str | None = None) -> dict[str, list[str]]:
        every = self._store.approvers.get(self.tenant_id, {})
        return {
            user: sorted(ids) for user, ids in sorted(every.items())
            if ids and (user_id is None or user == user_id)
        }

    async def approvees(self, approver_id: str) -> list[str]:
        every = self._store.approvers.get(self.tenant_id, {})
        return sorted(user for user, ids in every.items() if approver_id in ids)

    async def set_approvers(self, user_id: str, approver_ids: Collection[str], at: datetime) -> None:
        self._store.check_write("set approvers")
        self._store.approvers.setdefault(self.tenant_id, {})[user_id] = sorted(set(approver_ids))

    # Work-item outbox ---------------------------------------------------------------------

    async def enqueue_work_item(
        self, work_item: str, effect_key: str, remaining_delta_s: int, at: datetime,
        *, remaining_set: Decimal | None = None,
    ) -> None:
        self._store.check_write("queue a work-item effect")
        outbox = self._outbox()
        if any(entry.effect_key == effect_key for entry in outbox):
            return  # queued (or done) already: never twice
        outbox.append(OutboxEntry(new_id(), work_item, effect_key, remaining_delta_s, attempts=0,
                                  remaining_set=remaining_set))

    async def enqueue_work_items(self, effects: Sequence[WorkItemEffect], at: datetime) -> None:
        for work_item, effect_key, remaining_delta_s in effects:
            await self.enqueue_work_item(work_item, effect_key, remaining_delta_s, at)

    def _pending(self) -> list[OutboxEntry]:
        done = self._store.outbox_done_at.get(self.tenant_id, {})
        # Appended in the order they were queued: the real store's (created_at, id).
        return [e for e in self._store.outbox.get(self.tenant_id, []) if e.id not in done]

    async def pending_work_items(self, limit: int = 100) -> list[str]:
        return sorted({entry.work_item for entry in self._pending()})[:limit]

    async def pending_effects(self, work_item: str) -> list[OutboxEntry]:
        return [entry for entry in self._pending() if entry.work_item == work_item]

    async def record_attempt(
        self, ids: Sequence[str], rev: int, completed: Decimal | None, remaining: Decimal | None
    ) -> None:
        self._store.check_write("record a work-item attempt")
        wanted = set(ids)
        outbox = self._outbox()
        for n, entry in enumerate(outbox):
            if entry.id in wanted:
                outbox[n] = replace(
                    entry, attempts=entry.attempts + 1, attempt_rev=rev,
                    attempt_completed=completed, attempt_remaining=remaining,
                )

    async def finish_effects(self, ids: Sequence[str], at: datetime) -> None:
        self._store.check_write("finish work-item effects")
        known = {entry.id for entry in self._outbox()}
        for entry_id in ids:
            if entry_id in known:
                self._done()[entry_id] = at
                self._store.outbox_errors.get(self.tenant_id, {}).pop(entry_id, None)

    async def fail_effects(self, ids: Sequence[str], error: str) -> None:
        self._store.check_write("fail work-item effects")
        known = {entry.id for entry in self._outbox()}
        errors = self._store.outbox_errors.setdefault(self.tenant_id, {})
        for entry_id in ids:
            if entry_id in known:
                errors[entry_id] = error[:2000]


class FakeTrackingDirectory:
    """Which tenants have timers or pending work-item effects (sorted, like the real one).

    Give it the factory's shared store: it reads the unit of work open in the same task,
    or the committed store when none is (see :meth:`FakeDatabase.joined`)."""

    def __init__(self, store: FakeDatabase) -> None:
        self._store = store

    async def tenants_with_timers(self) -> list[str]:
        db = self._store.joined()
        return sorted(tenant for tenant, timers in db.timers.items() if timers)

    async def tenants_with_pending_work_items(self) -> list[str]:
        db = self._store.joined()
        return sorted(
            tenant for tenant, entries in db.outbox.items()
            if any(e.id not in db.outbox_done_at.get(tenant, {}) for e in entries)
        )

    async def tenants_with_auto_lock(self) -> list[str]:
        db = self._store.joined()
        return sorted(
            tenant for tenant, settings in db.tracking_settings.items()
            if settings.lock.approval_start is not None or settings.lock.auto_lock_after_days is not None
        )


@dataclass
class FakeDevOpsConnector:
    """A DevOps platform in memory: work items with revisions, as Azure DevOps keeps them.

    Every update adds a revision; ``update_work_item`` refuses a stale ``rev`` with
    :class:`StaleWorkItem`. ``unreachable`` makes every call fail (a network error);
    ``meanwhile`` holds edits someone else makes on the platform, (completed, remaining),
    one just before each of the next updates lands, so that update finds the item changed
    since it was read; ``lose_acknowledgements`` makes the next that many updates land and
    then fail, like a reply lost on the wire.
    """

    #: work item → its revisions, oldest first (revision n is ``revisions[item][n - 1]``).
    revisions: dict[str, list[WorkItemState]] = field(default_factory=dict)
    unreachable: bool = False
    meanwhile: list[tuple[Decimal | None, Decimal | None]] = field(default_factory=list)
    lose_acknowledgements: int = 0
    #: Every update that landed: (work item, completed, remaining), None for a field not written.
    writes: list[tuple[str, Decimal | None, Decimal | None]] = field(default_factory=list)

    def add_item(
        self, work_item: str, *, completed: Decimal | None = None, remaining: Decimal | None = None
    ) -> WorkItemState:
        state = WorkItemState(work_item, 1, completed, remaining)
        self.revisions[work_item] = [state]
        return state

    def edit_item(
        self, work_item: str, *, completed: Decimal | None = None, remaining: Decimal | None = None
    ) -> WorkItemState:
        """Someone changes the item on the platform: a new revision."""
        current = self.revisions[work_item][-1]
        state = WorkItemState(work_item, current.rev + 1, completed, remaining)
        self.revisions[work_item].append(state)
        return state

    def state(self, work_item: str) -> WorkItemState:
        return self.revisions[work_item][-1]

    def _reach(self) -> None:
        if self.unreachable:
            raise ConnectionError("the DevOps platform cannot be reached")

    async def work_item(self, work_item: str) -> WorkItemState | None:
        self._reach()
        history = self.revisions.get(work_item)
        return history[-1] if history else None

    async def revision(self, work_item: str, rev: int) -> WorkItemState | None:
        self._reach()
        history = self.revisions.get(work_item, [])
        return history[rev - 1] if 1 <= rev <= len(history) else None

    async def update_work_item(
        self, work_item: str, *, rev: int, completed_work: Decimal | None, remaining_work: Decimal | None
    ) -> WorkItemState:
        self._reach()
        history = self.revisions.get(work_item)
        if not history:
            raise LookupError(f"work item {work_item} does not exist")
        if self.meanwhile:
            completed, remaining = self.meanwhile.pop(0)
            self.edit_item(work_item, completed=completed, remaining=remaining)
        if history[-1].rev != rev:
            raise StaleWorkItem(f"work item {work_item} is at revision {history[-1].rev}, not {rev}")
        current = history[-1]
        # A field not given is left as it is, as a JSON Patch without that field leaves it.
        state = WorkItemState(
            work_item, rev + 1,
            current.completed_work if completed_work is None else completed_work,
            current.remaining_work if remaining_work is None else remaining_work,
        )
        history.append(state)
        self.writes.append((work_item, completed_work, remaining_work))
        if self.lose_acknowledgements > 0:
            self.lose_acknowledgements -= 1
            raise TimeoutError("the reply to the update was lost")
        return state


class FakeDevOpsConnectionStore:
    """Tenants' DevOps connections (an upsert per tenant: the last save wins). Like the real
    store it runs in the caller's unit of work: give it the factory's shared store."""

    def __init__(self, store: FakeDatabase) -> None:
        self._store = store

    async def load(self, tenant_id: str) -> StoredDevOpsConnection | None:
        return self._store.joined().devops_connections.get(tenant_id)

    async def save(self, tenant_id: str, connection: StoredDevOpsConnection, at: datetime) -> None:
        db = self._store.joined()
        db.check_write("save a DevOps connection")
        db.devops_connections[tenant_id] = replace(connection, updated_at=at)

    async def connected(self) -> dict[str, StoredDevOpsConnection]:
        """Every tenant's connection that is not standalone."""
        return {
            tenant: c for tenant, c in self._store.joined().devops_connections.items()
            if c.kind is not ConnectorKind.STANDALONE
        }
