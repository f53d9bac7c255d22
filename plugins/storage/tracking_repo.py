"""One tenant's time-tracking data. Every query here filters on ``self.tenant_id``."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from piccolo.custom_types import Combinable
from piccolo.engine.base import Engine
from piccolo.query.functions.aggregate import Sum

from core.ids import new_id
from core.tracking import LockPolicy, Timer, TrackingRules, WeekStatus, Worklog, WorklogFlag
from core.tracking.automation import FieldsWritten, RemainingMode, WorkItemAutomation
from core.tracking.explorer import TotalsBy, WorklogQuery, WorklogTotals
from core.tracking.ports import (
    OutboxEntry,
    TrackingPreference,
    TrackingSettings,
    UserWeek,
    WeekSheetData,
    WorkItemEffect,
    WorklogCursor,
)

from .bulk import constant, insert_rows
from .explorer_sql import explore_where, worklog_totals
from .tables import TenantUser
from .tracking_tables import (
    TrackingPreference as PreferenceRow,
)
from .tracking_tables import (
    TrackingRule,
    TrackingTimer,
    WeekStatusRow,
    WorkItemAutomationRow,
    WorkItemOutbox,
    WorklogRow,
)

__all__ = ["PiccoloTrackingDirectory", "PiccoloTrackingRepo", "worklog_from_row"]

# The ``type: ignore[arg-type]`` on upserts below are Piccolo's typing gaps: ``update`` wants
# ``dict[Column | str, Any]`` (a dict of column names is refused, dicts being invariant in their
# key) and a table's ``**kwargs`` of column values is checked against its own ``_data`` flags.


_WORKLOG_COLUMNS = (
    "id", "tenant_id", "user_id", "started_at", "length_s", "billable_length_s", "work_item", "comment",
    "activity_type", "added_by", "flags", "owner_edited", "stop_reason", "created_at", "updated_at",
    "activity_type_id",
)
_OUTBOX_COLUMNS = ("id", "tenant_id", "work_item", "effect_key", "remaining_delta_s", "created_at")


@functools.cache
def _flags_text(flags: frozenset[WorklogFlag]) -> str:
    # Cached: a handful of flag sets exist, and an import writes 100,000 rows of them.
    return ",".join(sorted(flag.value for flag in flags))


def worklog_from_row(row: dict[str, Any]) -> Worklog:
    return Worklog(
        id=row["id"],
        user_id=row["user_id"],
        started_at=row["started_at"],
        length_s=row["length_s"],
        billable_length_s=row["billable_length_s"],
        work_item=row["work_item"],
        comment=row["comment"],
        activity_type=row["activity_type"],
        added_by=row["added_by"],
        flags=frozenset(WorklogFlag(flag) for flag in row["flags"].split(",") if flag),
        owner_edited=bool(row["owner_edited"]),
        activity_type_id=row.get("activity_type_id"),
    )


def _timer_from_row(row: dict[str, Any]) -> Timer:
    return Timer(
        user_id=row["user_id"],
        started_at=row["started_at"],
        work_item=row["work_item"],
        comment=row["comment"],
        next_activity_check_at=row["next_activity_check_at"],
        check_asked_at=row["check_asked_at"],
        activity_type_id=row.get("activity_type_id"),
        activity_type=row.get("activity_type"),
        billable=bool(row.get("billable")),
    )


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


_WEEK_SHEET = """
SELECT m.time_zone, m.status, m.locked_until, w.id, w.user_id, w.started_at, w.length_s,
       w.billable_length_s, w.work_item, w.comment, w.activity_type, w.added_by, w.flags, w.owner_edited,
       w.activity_type_id
FROM (SELECT
        (SELECT time_zone FROM tracking_preference WHERE tenant_id = {} AND user_id = {}) AS time_zone,
        (SELECT status FROM week_status WHERE tenant_id = {} AND user_id = {} AND week = {}) AS status,
        (SELECT locked_until FROM tracking_rule WHERE tenant_id = {}) AS locked_until) AS m
LEFT JOIN worklog AS w
  ON w.tenant_id = {} AND w.user_id = {} AND w.started_at >= {} AND w.started_at < {}
ORDER BY w.started_at, w.id
"""
# The same statement with PostgreSQL's $n placeholders, built once: the Time tab's hot path
# skips Piccolo's per-call query building on PostgreSQL.
_WEEK_SHEET_PG = _WEEK_SHEET.format(*(f"${n}" for n in range(1, 11)))


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """Raw rows on SQLite keep text for what a join's columns hold; make them values again."""
    started_at = row["started_at"]
    if isinstance(started_at, str):
        row = {**row, "started_at": datetime.fromisoformat(started_at)}
    return row


class PiccoloTrackingRepo:
    def __init__(self, engine: Engine[Any], tenant_id: str) -> None:
        self._engine = engine
        self.tenant_id = tenant_id

    # Rules and preferences ------------------------------------------------------------

    async def rules(self) -> TrackingSettings:
        row = await TrackingRule.select().where(TrackingRule.tenant_id == self.tenant_id).first()
        if row is None:
            return TrackingSettings(TrackingRules(), LockPolicy())
        rules = TrackingRules(
            tracking_without_work_item=bool(row["tracking_without_work_item"]),
            activity_check_every=timedelta(minutes=row["activity_check_minutes"]),
            answer_window=timedelta(minutes=row["answer_window_minutes"]),
            max_track_length=timedelta(minutes=row["max_track_minutes"]),
        )
        return TrackingSettings(rules, LockPolicy(locked_until=row["locked_until"]))

    async def save_rules(self, rules: TrackingRules, lock: LockPolicy, at: datetime) -> None:
        values = {
            "tracking_without_work_item": rules.tracking_without_work_item,
            "activity_check_minutes": int(rules.activity_check_every.total_seconds() // 60),
            "answer_window_minutes": int(rules.answer_window.total_seconds() // 60),
            "max_track_minutes": int(rules.max_track_length.total_seconds() // 60),
            "locked_until": lock.locked_until,
            "updated_at": at,
        }
        where = TrackingRule.tenant_id == self.tenant_id
        if await TrackingRule.exists().where(where):
            await TrackingRule.update(values).where(where)  # type: ignore[arg-type]
        else:
            await TrackingRule.insert(TrackingRule(tenant_id=self.tenant_id, **values))  # type: ignore[arg-type]

    async def work_item_automation(self) -> WorkItemAutomation:
        row = await WorkItemAutomationRow.select().where(
            WorkItemAutomationRow.tenant_id == self.tenant_id
        ).first()
        if row is None:
            return WorkItemAutomation()
        return WorkItemAutomation(
            enabled=bool(row["enabled"]), fields=FieldsWritten(row["fields"]),
            remaining=RemainingMode(row["remaining"]),
        )

    async def save_work_item_automation(self, settings: WorkItemAutomation, by: str, at: datetime) -> None:
        values = {
            "enabled": settings.enabled, "fields": settings.fields.value,
            "remaining": settings.remaining.value, "updated_by": by, "updated_at": at,
        }
        where = WorkItemAutomationRow.tenant_id == self.tenant_id
        if await WorkItemAutomationRow.exists().where(where):
            await WorkItemAutomationRow.update(values).where(where)  # type: ignore[arg-type]
        else:
            await WorkItemAutomationRow.insert(
                WorkItemAutomationRow(tenant_id=self.tenant_id, **values)  # type: ignore[arg-type]
            )

    async def preference(self, user_id: str) -> TrackingPreference:
        row = await PreferenceRow.select().where(
            (PreferenceRow.tenant_id == self.tenant_id) & (PreferenceRow.user_id == user_id)
        ).first()
        if row is None:
            return TrackingPreference()
        return TrackingPreference(row["time_zone"], bool(row["mail_on_system_stop"]))

    async def time_zones(self) -> dict[str, str]:
        """Each user's own time zone; users who chose none (the tenant's) are left out."""
        rows = await PreferenceRow.select(PreferenceRow.user_id, PreferenceRow.time_zone).where(
            (PreferenceRow.tenant_id == self.tenant_id) & PreferenceRow.time_zone.is_not_null()
        )
        return {row["user_id"]: row["time_zone"] for row in rows}

    async def save_preference(self, user_id: str, preference: TrackingPreference, at: datetime) -> None:
        where = (PreferenceRow.tenant_id == self.tenant_id) & (PreferenceRow.user_id == user_id)
        values = {
            "time_zone": preference.time_zone,
            "mail_on_system_stop": preference.mail_on_system_stop,
            "updated_at": at,
        }
        if await PreferenceRow.exists().where(where):
            await PreferenceRow.update(values).where(where)  # type: ignore[arg-type]
        else:
            await PreferenceRow.insert(
                PreferenceRow(id=new_id(), tenant_id=self.tenant_id, user_id=user_id, **values)  # type: ignore[arg-type]
            )

    # Timers -----------------------------------------------------------------------------

    async def lock_user(self, user_id: str) -> None:
        """``FOR UPDATE`` on the user's row (PostgreSQL); on SQLite the write unit of work
        already holds the database's write lock."""
        if self._engine.engine_type == "postgres":
            await TenantUser.select(TenantUser.id).where(
                (TenantUser.tenant_id == self.tenant_id) & (TenantUser.id == user_id)
            ).lock_rows("UPDATE")

    def _timer_where(self, user_id: str) -> Combinable:
        return (TrackingTimer.tenant_id == self.tenant_id) & (TrackingTimer.user_id == user_id)

    async def timer(self, user_id: str) -> Timer | None:
        row = await TrackingTimer.select().where(self._timer_where(user_id)).first()
        return _timer_from_row(row) if row else None

    async def timers(self) -> list[Timer]:
        rows = await TrackingTimer.select().where(TrackingTimer.tenant_id == self.tenant_id)
        return [_timer_from_row(row) for row in rows]

    async def save_timer(self, timer: Timer, at: datetime) -> None:
        values = {
            "started_at": timer.started_at,
            "work_item": timer.work_item,
            "comment": timer.comment,
            "next_activity_check_at": timer.next_activity_check_at,
            "check_asked_at": timer.check_asked_at,
            "activity_type_id": timer.activity_type_id,
            "activity_type": timer.activity_type,
            "billable": timer.billable,
            "updated_at": at,
        }
        where = self._timer_where(timer.user_id)
        if await TrackingTimer.exists().where(where):
            await TrackingTimer.update(values).where(where)  # type: ignore[arg-type]
        else:
            await TrackingTimer.insert(
                TrackingTimer(id=new_id(), tenant_id=self.tenant_id, user_id=timer.user_id, **values)  # type: ignore[arg-type]
            )

    async def delete_timer(self, user_id: str) -> None:
        await TrackingTimer.delete().where(self._timer_where(user_id))

    # Worklogs ---------------------------------------------------------------------------

    async def add_worklogs(
        self, worklogs: Sequence[Worklog], at: datetime, *, stop_reason: str | None = None
    ) -> None:
        """Any number at once: COPY on PostgreSQL, batched INSERTs on SQLite (``bulk.py``)."""
        stamp = constant(self._engine, at)
        rows = [
            (w.id, self.tenant_id, w.user_id, w.started_at, w.length_s, w.billable_length_s,
             w.work_item, w.comment, w.activity_type, w.added_by, _flags_text(w.flags), w.owner_edited,
             stop_reason, stamp, stamp, w.activity_type_id)
            for w in worklogs
        ]
        await insert_rows(self._engine, "worklog", _WORKLOG_COLUMNS, rows)

    def _worklog_where(self, worklog_id: str) -> Combinable:
        return (WorklogRow.tenant_id == self.tenant_id) & (WorklogRow.id == worklog_id)

    async def worklog(self, worklog_id: str) -> Worklog | None:
        row = await WorklogRow.select().where(self._worklog_where(worklog_id)).first()
        return worklog_from_row(row) if row else None

    async def save_worklog(self, worklog: Worklog, at: datetime) -> None:
        await WorklogRow.update(
            {
                "started_at": worklog.started_at,
                "length_s": worklog.length_s,
                "billable_length_s": worklog.billable_length_s,
                "work_item": worklog.work_item,
                "comment": worklog.comment,
                "activity_type": worklog.activity_type,
                "activity_type_id": worklog.activity_type_id,
                "flags": _flags_text(worklog.flags),
                "owner_edited": worklog.owner_edited,
                "updated_at": at,
            }
        ).where(self._worklog_where(worklog.id))

    async def delete_worklog(self, worklog_id: str) -> None:
        await WorklogRow.delete().where(self._worklog_where(worklog_id))

    async def worklogs(
        self, *, user_id: str | None = None, start: datetime | None = None, end: datetime | None = None,
        after: WorklogCursor | None = None, limit: int | None = None,
    ) -> list[Worklog]:
        where: Combinable = WorklogRow.tenant_id == self.tenant_id
        if user_id is not None:
            where &= WorklogRow.user_id == user_id
        if start is not None:
            where &= WorklogRow.started_at >= start
        if end is not None:
            where &= WorklogRow.started_at < end
        if after is not None:
            when, last_id = after.started_at, after.id
            where &= (WorklogRow.started_at > when) | (
                (WorklogRow.started_at == when) & (WorklogRow.id > last_id)
            )
        query = WorklogRow.select().where(where).order_by(WorklogRow.started_at, WorklogRow.id)
        if limit is not None:
            query = query.limit(limit)
        return [worklog_from_row(row) for row in await query]

    async def explore(
        self, query: WorklogQuery, *, after: WorklogCursor | None = None, limit: int | None = None,
    ) -> list[Worklog]:
        """One statement; the conditions ride on the (tenant_id, started_at) and
        (tenant_id, user_id, started_at) indexes (m0022 adds work item and activity type)."""
        if query.empty:
            return []
        w = WorklogRow
        where = explore_where(self.tenant_id, query)
        if after is not None:
            when, last_id = after.started_at, after.id
            if query.descending:
                where &= (w.started_at < when) | ((w.started_at == when) & (w.id < last_id))
            else:
                where &= (w.started_at > when) | ((w.started_at == when) & (w.id > last_id))
        select = w.select().where(where).order_by(w.started_at, w.id, ascending=not query.descending)
        if limit is not None:
            select = select.limit(limit)
        return [worklog_from_row(row) for row in await select]

    async def explore_totals(self, query: WorklogQuery, by: TotalsBy) -> list[WorklogTotals]:
        """One grouped statement; see :mod:`plugins.storage.explorer_sql`."""
        if query.empty:
            return []
        return await worklog_totals(self._engine, self.tenant_id, query, by)

    async def week_sheet(self, user_id: str, week: str, start: datetime, end: datetime) -> WeekSheetData:
        """The timesheet's one query: the rules, preference and status ride along as scalar
        subqueries, and the worklogs come through the (tenant_id, user_id, started_at) index."""
        args = (*([self.tenant_id, user_id] * 2), week, self.tenant_id, self.tenant_id, user_id, start, end)
        session = self._engine.current_transaction.get() if self._engine.engine_type == "postgres" else None
        if session is not None:  # inside a unit of work: its connection, asyncpg's records
            rows: Sequence[Any] = await session.connection.fetch(_WEEK_SHEET_PG, *args)
        else:
            rows = await WorklogRow.raw(_WEEK_SHEET, *args)
        first = rows[0]
        locked_until = first["locked_until"]
        if isinstance(locked_until, str):  # SQLite cannot type a subquery's column
            locked_until = date.fromisoformat(locked_until)
        worklogs = [worklog_from_row(_typed(row)) for row in rows if row["id"] is not None]
        status = WeekStatus(first["status"]) if first["status"] else WeekStatus.OPEN
        return WeekSheetData(first["time_zone"], status, locked_until, worklogs)

    async def count_worklogs(self, user_id: str | None = None) -> int:
        where: Combinable = WorklogRow.tenant_id == self.tenant_id
        if user_id is not None:
            where &= WorklogRow.user_id == user_id
        return int(await WorklogRow.count().where(where))

    async def work_item_seconds(self, work_item: str) -> int:
        row = await WorklogRow.select(Sum(WorklogRow.length_s, alias="total")).where(
            (WorklogRow.tenant_id == self.tenant_id) & (WorklogRow.work_item == work_item)
        ).first()
        return int(row["total"] or 0) if row else 0

    # Weeks ------------------------------------------------------------------------------

    async def week_statuses(self, user_id: str | None = None) -> dict[UserWeek, WeekStatus]:
        where: Combinable = (WeekStatusRow.tenant_id == self.tenant_id) & (
            WeekStatusRow.status != WeekStatus.OPEN.value
        )
        if user_id is not None:
            where &= WeekStatusRow.user_id == user_id
        columns = (WeekStatusRow.user_id, WeekStatusRow.week, WeekStatusRow.status)
        rows = await WeekStatusRow.select(*columns).where(where)
        return {UserWeek(row["user_id"], row["week"]): WeekStatus(row["status"]) for row in rows}

    def _week_where(self, user_id: str, week: str) -> Combinable:
        return (
            (WeekStatusRow.tenant_id == self.tenant_id)
            & (WeekStatusRow.user_id == user_id)
            & (WeekStatusRow.week == week)
        )

    async def week_status(self, user_id: str, week: str) -> WeekStatus:
        row = await WeekStatusRow.select(WeekStatusRow.status).where(self._week_where(user_id, week)).first()
        return WeekStatus(row["status"]) if row else WeekStatus.OPEN

    async def save_week_status(
        self, user_id: str, week: str, status: WeekStatus, by: str, at: datetime
    ) -> None:
        where = self._week_where(user_id, week)
        values = {"status": status.value, "updated_by": by, "updated_at": at}
        if await WeekStatusRow.exists().where(where):
            await WeekStatusRow.update(values).where(where)  # type: ignore[arg-type]
        else:
            await WeekStatusRow.insert(
                WeekStatusRow(id=new_id(), tenant_id=self.tenant_id, user_id=user_id, week=week, **values)  # type: ignore[arg-type]
            )

    # Work-item outbox ---------------------------------------------------------------------

    async def enqueue_work_item(
        self, work_item: str, effect_key: str, remaining_delta_s: int, at: datetime,
        *, remaining_set: Decimal | None = None,
    ) -> None:
        where = (WorkItemOutbox.tenant_id == self.tenant_id) & (WorkItemOutbox.effect_key == effect_key)
        if await WorkItemOutbox.exists().where(where):
            return  # this effect is queued (or done) already: never twice
        await WorkItemOutbox.insert(
            WorkItemOutbox(
                id=new_id(),
                tenant_id=self.tenant_id,
                work_item=work_item,
                effect_key=effect_key,
                remaining_delta_s=remaining_delta_s,
                remaining_set=None if remaining_set is None else str(remaining_set),
                created_at=at,
            )
        )

    async def enqueue_work_items(self, effects: Sequence[WorkItemEffect], at: datetime) -> None:
        """Many (work item, effect key, remaining delta) at once; keys queued already are skipped."""
        stamp = constant(self._engine, at)
        rows = [(new_id(), self.tenant_id, item, key, delta, stamp) for item, key, delta in effects]
        await insert_rows(self._engine, "work_item_outbox", _OUTBOX_COLUMNS, rows,
                          skip_conflicts_on=("tenant_id", "effect_key"))

    def _pending(self) -> Any:
        return (WorkItemOutbox.tenant_id == self.tenant_id) & WorkItemOutbox.done_at.is_null()

    async def pending_work_items(self, limit: int = 100) -> list[str]:
        rows = (
            await WorkItemOutbox.select(WorkItemOutbox.work_item)
            .where(self._pending())
            .distinct()
            .order_by(WorkItemOutbox.work_item)
            .limit(limit)
        )
        return [row["work_item"] for row in rows]

    async def pending_effects(self, work_item: str) -> list[OutboxEntry]:
        rows = (
            await WorkItemOutbox.select()
            .where(self._pending() & (WorkItemOutbox.work_item == work_item))
            .order_by(WorkItemOutbox.created_at, WorkItemOutbox.id)
        )
        return [
            OutboxEntry(
                id=row["id"],
                work_item=row["work_item"],
                effect_key=row["effect_key"],
                remaining_delta_s=row["remaining_delta_s"],
                attempts=row["attempts"],
                attempt_rev=row["attempt_rev"],
                attempt_completed=_decimal(row["attempt_completed"]),
                attempt_remaining=_decimal(row["attempt_remaining"]),
                remaining_set=_decimal(row["remaining_set"]),
            )
            for row in rows
        ]

    def _ids(self, ids: Sequence[str]) -> Combinable:
        return (WorkItemOutbox.tenant_id == self.tenant_id) & WorkItemOutbox.id.is_in(list(ids))

    async def record_attempt(
        self, ids: Sequence[str], rev: int, completed: Decimal | None, remaining: Decimal | None
    ) -> None:
        if ids:
            await WorkItemOutbox.update(
                {
                    "attempt_rev": rev,
                    "attempt_completed": None if completed is None else str(completed),
                    "attempt_remaining": None if remaining is None else str(remaining),
                    "attempts": WorkItemOutbox.attempts + 1,
                }
            ).where(self._ids(ids))

    async def finish_effects(self, ids: Sequence[str], at: datetime) -> None:
        if ids:
            await WorkItemOutbox.update({"done_at": at, "last_error": None}).where(self._ids(ids))

    async def fail_effects(self, ids: Sequence[str], error: str) -> None:
        if ids:
            await WorkItemOutbox.update({"last_error": error[:2000]}).where(self._ids(ids))


class PiccoloTrackingDirectory:
    """Which tenants have work for the tracking jobs; tenant ids only, never their rows."""

    def __init__(self, engine: Engine[Any]) -> None:
        self._engine = engine

    async def tenants_with_timers(self) -> list[str]:
        rows = await TrackingTimer.select(TrackingTimer.tenant_id).distinct()
        return sorted(row["tenant_id"] for row in rows)

    async def tenants_with_pending_work_items(self) -> list[str]:
        rows = (
            await WorkItemOutbox.select(WorkItemOutbox.tenant_id)
            .where(WorkItemOutbox.done_at.is_null())
            .distinct()
        )
        return sorted(row["tenant_id"] for row in rows)
