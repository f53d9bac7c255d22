"""The running timers (``tracking_timer``): the user's lock, the timer's one pre-built read and
its one write. Separate because it is the hot path of start and stop, plain SQL built once
per shape (no Piccolo query building). Stopping writes the worklog, its history row and the
outbox rows in the timer's statement, so this part builds on ``tracking_worklog_writes``
(its row makers and column lists) and takes the outbox's column list."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from piccolo.custom_types import Combinable

from core.ids import new_id
from core.licensing.catalogue import DEFAULT_CATALOGUE
from core.licensing.plan_dicts import plan_from_dict
from core.tracking import Timer, WeekStatus, Worklog
from core.tracking.ports import TimerReads, WorkItemEffect

from .bulk import constant, insert_rows, write_connection
from .changes import note_tracking
from .plain_sql import Sql, fetch
from .tables import TenantUser
from .tracking_outbox import OUTBOX_COLUMNS
from .tracking_settings import settings_from_row
from .tracking_tables import TrackingRule, TrackingTimer
from .tracking_worklog_writes import CHANGE_COLUMNS, WORKLOG_COLUMNS, WorklogWrites, added_history

# The ``type: ignore[arg-type]`` on upserts below are Piccolo's typing gaps: ``update`` wants
# ``dict[Column | str, Any]`` (a dict of column names is refused, dicts being invariant in their
# key) and a table's ``**kwargs`` of column values is checked against its own ``_data`` flags.


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


def _instant(value: Any) -> Any:
    """A timestamptz a raw SQLite join hands back as text (Piccolo's stored form, UTC)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


def _timer_read(row: Mapping[str, Any], user_id: str) -> Timer | None:
    if row["started_at"] is None:
        return None
    return Timer(
        user_id=user_id,
        started_at=_instant(row["started_at"]),
        work_item=row["work_item"],
        comment=row["comment"],
        next_activity_check_at=_instant(row["next_activity_check_at"]),
        check_asked_at=_instant(row["check_asked_at"]),
        activity_type_id=row["activity_type_id"],
        activity_type=row["activity_type"],
        billable=bool(row["billable"]),
    )


@functools.lru_cache(maxsize=64)
def _stored_limits(data: str) -> tuple[int | None, int | None]:
    # A handful of plans exist; parsing one's JSON on every start would be wasted.
    plan = plan_from_dict(json.loads(data))
    return plan.worklog_limit_per_tenant, plan.worklog_limit_per_user


def _limits(
    plan_id: str | None, data: str | None, catalogue_stored: bool
) -> tuple[int | None, int | None] | None:
    """The plan's worklog limits as ``CatalogueRepo.plan_of`` would find them; None where it
    would need more (no subscription, a plan the stored catalogue lacks): the caller asks it."""
    if plan_id is None:
        return None
    if data is not None:
        return _stored_limits(data)
    if catalogue_stored or plan_id not in {plan.id for plan in DEFAULT_CATALOGUE.plans}:
        return None
    plan = DEFAULT_CATALOGUE.get(plan_id)
    return plan.worklog_limit_per_tenant, plan.worklog_limit_per_user


_LOCK_USER = Sql("SELECT id FROM tenant_user WHERE tenant_id = {} AND id = {} FOR UPDATE")
_RULE_COLUMNS = (
    "r.tracking_without_work_item, r.activity_check_minutes, r.answer_window_minutes, r.max_track_minutes, "
    "r.locked_until, r.approval_start, r.auto_lock_after_days"
)
_TIMER_READ_COLUMNS = (
    "t.started_at, t.work_item, t.comment, t.next_activity_check_at, t.check_asked_at, "
    "t.activity_type_id, t.activity_type, t.billable"
)
_RULE_AND_TIMER = (
    " FROM (SELECT 1 AS one) AS o"
    " LEFT JOIN tracking_rule AS r ON r.tenant_id = {}"
    " LEFT JOIN tracking_timer AS t ON t.tenant_id = {} AND t.user_id = {}"
)
# What stopping reads under the user's lock: the rules and the timer, one row.
_TIMER_READS = Sql("SELECT " + _RULE_COLUMNS + ", " + _TIMER_READ_COLUMNS + _RULE_AND_TIMER)
# What starting reads under the user's lock. Everything the lock guards (the timer, week
# statuses) is read *after* it is held: a statement's snapshot is taken when it starts, so
# one that waited for the lock would not see what the holder committed meanwhile.
_START_READS = Sql(
    "SELECT " + _RULE_COLUMNS + ", " + _TIMER_READ_COLUMNS + ","
    " (SELECT time_zone FROM tracking_preference WHERE tenant_id = {} AND user_id = {}) AS time_zone,"
    " (SELECT status FROM week_status WHERE tenant_id = {} AND user_id = {} AND week = {}) AS first_status,"
    " (SELECT status FROM week_status WHERE tenant_id = {} AND user_id = {} AND week = {}) AS last_status,"
    " EXISTS (SELECT 1 FROM work_item WHERE tenant_id = {} AND item_id = {}) AS item_exists,"
    " EXISTS (SELECT 1 FROM budget WHERE tenant_id = {} AND NOT is_open) AS closed_budget,"
    " (SELECT s.plan_id FROM tenant AS n JOIN subscription AS s ON s.id = n.subscription_id"
    "  WHERE n.id = {}) AS plan_id,"
    " (SELECT p.data FROM tenant AS n JOIN subscription AS s ON s.id = n.subscription_id"
    "  JOIN plan_catalogue AS p ON p.id = s.plan_id WHERE n.id = {}) AS plan_data,"
    " EXISTS (SELECT 1 FROM plan_catalogue) AS catalogue_stored"
    + _RULE_AND_TIMER
)

_TIMER_COLUMNS = (
    "id", "tenant_id", "user_id", "started_at", "work_item", "comment", "next_activity_check_at",
    "check_asked_at", "activity_type_id", "activity_type", "billable", "updated_at",
)
# Replacing a running timer keeps nothing of it (as deleting it and inserting the new one would).
_TIMER_UPDATE = ", ".join(f"{column} = EXCLUDED.{column}" for column in ("id", *_TIMER_COLUMNS[3:]))
_TIMER_NAMES = ", ".join(_TIMER_COLUMNS)
_UPSERT_TIMER_SQLITE = (
    f"INSERT INTO tracking_timer ({_TIMER_NAMES}) VALUES ({', '.join('?' * len(_TIMER_COLUMNS))})"
    f" ON CONFLICT (tenant_id, user_id) DO UPDATE SET {_TIMER_UPDATE}"
)
_DELETE_TIMER_SQLITE = "DELETE FROM tracking_timer WHERE tenant_id = ? AND user_id = ?"


def _timer_row(timer_id: str, tenant_id: str, timer: Timer, stamp: Any) -> tuple[Any, ...]:
    return (timer_id, tenant_id, timer.user_id, timer.started_at, timer.work_item, timer.comment,
            timer.next_activity_check_at, timer.check_asked_at, timer.activity_type_id, timer.activity_type,
            timer.billable, stamp)


@functools.cache
def _write_timer_sql(upsert: bool, worklogs: int, effects: int) -> str:
    """``write_timer``'s PostgreSQL statement for one shape: the timer's upsert (else its
    ``DELETE`` by tenant and user, ``$1``, ``$2``), then ``worklogs`` worklogs and as many
    history rows, then ``effects`` outbox rows; each writing part but the last is a CTE."""
    n = 0

    def values(columns: Sequence[str], rows: int) -> str:
        nonlocal n
        groups = []
        for _ in range(rows):
            groups.append("(" + ", ".join(f"${n + k}" for k in range(1, len(columns) + 1)) + ")")
            n += len(columns)
        return ", ".join(groups)

    if upsert:
        parts = [f"INSERT INTO tracking_timer ({_TIMER_NAMES}) VALUES {values(_TIMER_COLUMNS, 1)}"
                 f" ON CONFLICT (tenant_id, user_id) DO UPDATE SET {_TIMER_UPDATE}"]
    else:
        n = 2
        parts = ["DELETE FROM tracking_timer WHERE tenant_id = $1 AND user_id = $2"]
    if worklogs:
        parts.append(f"INSERT INTO worklog ({', '.join(WORKLOG_COLUMNS)}) "
                     f"VALUES {values(WORKLOG_COLUMNS, worklogs)}")
        parts.append(f"INSERT INTO worklog_change ({', '.join(CHANGE_COLUMNS)}) "
                     f"VALUES {values(CHANGE_COLUMNS, worklogs)}")
    if effects:
        parts.append(f"INSERT INTO work_item_outbox ({', '.join(OUTBOX_COLUMNS)}) "
                     f"VALUES {values(OUTBOX_COLUMNS, effects)}"
                     " ON CONFLICT (tenant_id, effect_key) DO NOTHING")
    *ctes, last = parts
    if not ctes:
        return last
    return "WITH " + ", ".join(f"w{k} AS ({part})" for k, part in enumerate(ctes)) + " " + last


class TimerRows(WorklogWrites):
    """The timers part of ``PiccoloTrackingRepo``; on ``WorklogWrites`` because stopping
    writes the worklog and its history rows in the timer's own statement."""

    async def lock_user(self, user_id: str) -> None:
        """``FOR UPDATE`` on the user's row (PostgreSQL); on SQLite the write unit of work
        already holds the database's write lock."""
        if self._engine.engine_type == "postgres":
            await fetch(TenantUser, _LOCK_USER, self.tenant_id, user_id)

    def _timer_where(self, user_id: str) -> Combinable:
        return (TrackingTimer.tenant_id == self.tenant_id) & (TrackingTimer.user_id == user_id)

    async def timer(self, user_id: str) -> Timer | None:
        row = await TrackingTimer.select().where(self._timer_where(user_id)).first()
        return _timer_from_row(row) if row else None

    async def timer_reads(
        self, user_id: str, *, start: bool = False, weeks: Sequence[str] = (), work_item: int | None = None,
    ) -> TimerReads:
        """One statement, pre-built (no query building on the timer's path): the rules and
        timer rows joined to one row, the rest as scalar subqueries. Only the two weeks
        ``weeks`` starts and ends with are read (a start asks the one or two weeks "now"
        may fall in, whatever the user's zone)."""
        tenant = self.tenant_id
        if not start:
            rows = await fetch(TrackingRule, _TIMER_READS, tenant, tenant, user_id)
            return TimerReads(settings_from_row(rows[0]), _timer_read(rows[0], user_id))
        first_week = weeks[0] if weeks else ""
        last_week = weeks[-1] if weeks else ""
        rows = await fetch(
            TrackingRule, _START_READS, tenant, user_id, tenant, user_id, first_week, tenant, user_id,
            last_week, tenant, work_item, tenant, tenant, tenant, tenant, tenant, user_id,
        )
        row = rows[0]
        statuses = {}
        for week, status in ((first_week, row["first_status"]), (last_week, row["last_status"])):
            if week:
                statuses[week] = WeekStatus(status) if status else WeekStatus.OPEN
        return TimerReads(
            settings_from_row(row), _timer_read(row, user_id),
            time_zone=row["time_zone"], week_statuses=statuses,
            work_item_exists=None if work_item is None else bool(row["item_exists"]),
            closed_budget=bool(row["closed_budget"]),
            worklog_limits=_limits(row["plan_id"], row["plan_data"], bool(row["catalogue_stored"])),
        )

    async def write_timer(
        self, user_id: str, timer: Timer | None, at: datetime, *,
        worklog: Worklog | None = None, stop_reason: str | None = None,
        effects: Sequence[WorkItemEffect] = (),
    ) -> None:
        """On PostgreSQL one statement: the timer's ``DELETE`` or upsert, the worklog, its
        history row and the outbox rows as data-modifying CTEs (the statement text is made
        once per shape). SQLite has no writing CTEs: there each is its own statement, on the
        unit of work's connection, without Piccolo's query building."""
        note_tracking(self.tenant_id, user_id, timer=True, state=timer, carries_state=True)
        stamp = constant(self._engine, at)
        worklogs = [] if worklog is None else [worklog]
        changes = added_history(worklogs)
        if worklog is not None:
            note_tracking(self.tenant_id, worklog.user_id, timer=False)
        worklog_rows = self._worklog_rows(worklogs, stamp, stop_reason)
        change_rows = self._change_rows(changes, stamp)
        outbox_rows = [(new_id(), self.tenant_id, item, key, delta, stamp) for item, key, delta in effects]
        timer_row = None if timer is None else _timer_row(new_id(), self.tenant_id, timer, stamp)
        if self._engine.engine_type == "postgres":
            sql = _write_timer_sql(timer is not None, len(worklog_rows), len(outbox_rows))
            args = [self.tenant_id, user_id] if timer_row is None else list(timer_row)
            for row in (*worklog_rows, *change_rows, *outbox_rows):
                args.extend(row)
            await write_connection(self._engine).execute(sql, *args)
            return
        connection = write_connection(self._engine)
        if timer_row is None:
            cursor = await connection.execute(_DELETE_TIMER_SQLITE, (self.tenant_id, user_id))
        else:
            cursor = await connection.execute(_UPSERT_TIMER_SQLITE, timer_row)
        await cursor.close()
        await insert_rows(self._engine, "worklog", WORKLOG_COLUMNS, worklog_rows)
        await insert_rows(self._engine, "worklog_change", CHANGE_COLUMNS, change_rows)
        await insert_rows(self._engine, "work_item_outbox", OUTBOX_COLUMNS, outbox_rows,
                          skip_conflicts_on=("tenant_id", "effect_key"))

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
        note_tracking(self.tenant_id, timer.user_id, timer=True, state=timer, carries_state=True)
        where = self._timer_where(timer.user_id)
        if await TrackingTimer.exists().where(where):
            await TrackingTimer.update(values).where(where)  # type: ignore[arg-type]
        else:
            await TrackingTimer.insert(
                TrackingTimer(id=new_id(), tenant_id=self.tenant_id, user_id=timer.user_id, **values)  # type: ignore[arg-type]
            )

    async def delete_timer(self, user_id: str) -> None:
        note_tracking(self.tenant_id, user_id, timer=True, state=None, carries_state=True)
        await TrackingTimer.delete().where(self._timer_where(user_id))
