"""One tenant's time-tracking data. Every query here filters on ``self.tenant_id``."""

from __future__ import annotations

import asyncio
import functools
import json
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import msgspec
from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable
from piccolo.engine.base import Engine
from piccolo.query.functions.aggregate import Sum

from core.ids import new_id, new_ids
from core.licensing.catalogue import DEFAULT_CATALOGUE
from core.licensing.plan_dicts import plan_from_dict
from core.origin import Origin, current_origin
from core.tracking import LockPolicy, Timer, TrackingRules, WeekRecord, WeekStatus, Worklog, WorklogFlag
from core.tracking.automation import FieldsWritten, RemainingMode, WorkItemAutomation
from core.tracking.explorer import ExplorerRows, PageShape, TotalsBy, WorklogQuery, WorklogTotals
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

from .bulk import constant, insert_rows, insert_staged, stage_rows, update_rows, write_connection
from .changes import note_change, note_tracking, user_scope
from .explorer_sql import page_statement, page_where, worklog_totals
from .plain_sql import Sql, fetch, fetch_records
from .tables import TenantUser
from .tracking_tables import (
    EditingRuleRow,
    TrackingRule,
    TrackingTimer,
    UserApprover,
    WeekStatusRow,
    WorkItemAutomationRow,
    WorkItemOutbox,
    WorklogChangeRow,
    WorklogRow,
)
from .tracking_tables import (
    TrackingPreference as PreferenceRow,
)

__all__ = ["PiccoloTrackingDirectory", "PiccoloTrackingRepo", "worklog_from_row"]

# The ``type: ignore[arg-type]`` on upserts below are Piccolo's typing gaps: ``update`` wants
# ``dict[Column | str, Any]`` (a dict of column names is refused, dicts being invariant in their
# key) and a table's ``**kwargs`` of column values is checked against its own ``_data`` flags.


T = TypeVar("T")

_WORKLOG_COLUMNS = (
    "id", "tenant_id", "user_id", "started_at", "length_s", "billable_length_s", "work_item", "comment",
    "activity_type", "added_by", "flags", "owner_edited", "stop_reason", "created_at", "updated_at",
    "activity_type_id",
)
#: A history entry to write: the worklog, what happened, the fields before and after.
_Change = tuple[Worklog, ChangeAction, Mapping[str, JsonValue] | None, Mapping[str, JsonValue] | None]
_CHANGE_COLUMNS = (
    "id", "tenant_id", "worklog_id", "user_id", "at", "actor_id", "source", "action", "before", "after",
)
#: What an edit writes (then the keys, tenant_id and id).
_EDIT_COLUMNS = (
    "started_at", "length_s", "billable_length_s", "work_item", "comment", "activity_type",
    "activity_type_id", "flags", "owner_edited", "updated_at",
)
#: Ids per ``IN (…)`` list: well inside SQLite's oldest variable limit.
_IN_CHUNK = 900
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


_clock_lock = threading.Lock()
_last_change_ns = 0


def _by_id(worklog: Worklog) -> str:
    return worklog.id


def _change_ids(count: int) -> list[str]:
    """Ids that sort in the order they were made (in this process; across processes to the
    nanosecond), so changes at the same ``at`` — a fixed clock, one request — read back in
    write order: 16 hex digits of a strictly increasing nanosecond count, 16 random."""
    global _last_change_ns
    with _clock_lock:
        first = max(time.time_ns(), _last_change_ns + 1)
        _last_change_ns = first + count - 1
    return [f"{first + n:016x}{tail[:16]}" for n, tail in enumerate(new_ids(count))]


#: From this many new worklogs on, their history rows are made in a worker thread while the
#: worklogs are written (below it the thread hop costs more than it overlaps).
_HISTORY_IN_THREAD_FROM = 1000

#: Compact JSON, non-ASCII as is (what ``json.dumps(separators=(",", ":"),
#: ensure_ascii=False)`` wrote): msgspec's encoder takes a tenth of the time, and an
#: import writes one such object per row (1.4 of its 5.5 s on PostgreSQL, profiled).
_encode_json = msgspec.json.Encoder().encode


def _added(worklogs: Sequence[Worklog]) -> list[_Change]:
    return [(w, ChangeAction.ADDED, None, worklog_values(w)) for w in worklogs]


def _users_of(worklogs: Sequence[Worklog]) -> frozenset[str]:
    return frozenset(w.user_id for w in worklogs)


def _json(values: Mapping[str, JsonValue] | None) -> str | None:
    return None if values is None else _encode_json(values).decode()


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield list(ids[start : start + _IN_CHUNK])


def _change_from_row(row: dict[str, Any]) -> WorklogChange:
    return WorklogChange(
        id=row["id"], worklog_id=row["worklog_id"], user_id=row["user_id"], at=row["at"],
        actor_id=row["actor_id"],
        source=row["source"], action=ChangeAction(row["action"]),
        before=json.loads(row["before"]) if row["before"] else {},
        after=json.loads(row["after"]) if row["after"] else {},
    )


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


_WEEK_SHEET = """
SELECT m.time_zone, m.status, m.note, m.locked_until, m.approval_start, m.auto_lock_after_days,
       w.id, w.user_id, w.started_at, w.length_s,
       w.billable_length_s, w.work_item, w.comment, w.activity_type, w.added_by, w.flags, w.owner_edited,
       w.activity_type_id
FROM (SELECT
        (SELECT time_zone FROM tracking_preference WHERE tenant_id = {} AND user_id = {}) AS time_zone,
        (SELECT status FROM week_status WHERE tenant_id = {} AND user_id = {} AND week = {}) AS status,
        (SELECT note FROM week_status WHERE tenant_id = {} AND user_id = {} AND week = {}) AS note,
        (SELECT locked_until FROM tracking_rule WHERE tenant_id = {}) AS locked_until,
        (SELECT approval_start FROM tracking_rule WHERE tenant_id = {}) AS approval_start,
        (SELECT auto_lock_after_days FROM tracking_rule WHERE tenant_id = {}) AS auto_lock_after_days) AS m
LEFT JOIN worklog AS w
  ON w.tenant_id = {} AND w.user_id = {} AND w.started_at >= {} AND w.started_at < {}
ORDER BY w.started_at, w.id
"""
# The same statement with PostgreSQL's $n placeholders, built once: the Time tab's hot path
# skips Piccolo's per-call query building on PostgreSQL.
_WEEK_SHEET_PG = _WEEK_SHEET.format(*(f"${n}" for n in range(1, 16)))


def _day(value: Any) -> date | None:
    """SQLite cannot type a subquery's column: a date comes back as text there."""
    return date.fromisoformat(value) if isinstance(value, str) else value


@functools.lru_cache(maxsize=64)  # a handful of combinations ("manual", "manual,billable" …)
def _stored_flags(text: str) -> frozenset[WorklogFlag]:
    return frozenset(WorklogFlag(flag) for flag in text.split(",") if flag)


def _started(value: datetime | str) -> datetime:
    """A raw row's start: SQLite's join keeps it as text (read as ``_typed`` reads it)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """Raw rows on SQLite keep text for what a join's columns hold; make them values again."""
    started_at = row["started_at"]
    if isinstance(started_at, str):
        row = {**row, "started_at": datetime.fromisoformat(started_at)}
    return row


def _settings_from_row(row: Mapping[str, Any] | None) -> TrackingSettings:
    """The rules of a ``tracking_rule`` row; no row (or a join's empty side): the defaults."""
    if row is None or row["activity_check_minutes"] is None:
        return TrackingSettings(TrackingRules(), LockPolicy())
    rules = TrackingRules(
        tracking_without_work_item=bool(row["tracking_without_work_item"]),
        activity_check_every=timedelta(minutes=row["activity_check_minutes"]),
        answer_window=timedelta(minutes=row["answer_window_minutes"]),
        max_track_length=timedelta(minutes=row["max_track_minutes"]),
    )
    lock = LockPolicy(
        locked_until=_day(row["locked_until"]), approval_start=_day(row["approval_start"]),
        auto_lock_after_days=row["auto_lock_after_days"],
    )
    return TrackingSettings(rules, lock)


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
        parts.append(f"INSERT INTO worklog ({', '.join(_WORKLOG_COLUMNS)}) "
                     f"VALUES {values(_WORKLOG_COLUMNS, worklogs)}")
        parts.append(f"INSERT INTO worklog_change ({', '.join(_CHANGE_COLUMNS)}) "
                     f"VALUES {values(_CHANGE_COLUMNS, worklogs)}")
    if effects:
        parts.append(f"INSERT INTO work_item_outbox ({', '.join(_OUTBOX_COLUMNS)}) "
                     f"VALUES {values(_OUTBOX_COLUMNS, effects)}"
                     " ON CONFLICT (tenant_id, effect_key) DO NOTHING")
    *ctes, last = parts
    if not ctes:
        return last
    return "WITH " + ", ".join(f"w{k} AS ({part})" for k, part in enumerate(ctes)) + " " + last


class PiccoloTrackingRepo:
    """Every worklog write records its change (``worklog_change``) in the same transaction,
    under ``origin``: the scope's, set at the edge (``core.unit_of_work``)."""

    def __init__(self, engine: Engine[Any], tenant_id: str, origin: Origin | None = None) -> None:
        self._engine = engine
        self.tenant_id = tenant_id
        self._origin = origin if origin is not None else current_origin()

    # Rules and preferences ------------------------------------------------------------

    async def rules(self) -> TrackingSettings:
        row = await TrackingRule.select().where(TrackingRule.tenant_id == self.tenant_id).first()
        return _settings_from_row(row)

    async def editing_rule(self) -> str | None:
        row = await EditingRuleRow.select(EditingRuleRow.who).where(
            EditingRuleRow.tenant_id == self.tenant_id
        ).first()
        return row["who"] if row else None

    async def save_editing_rule(self, rule: str, by: str, at: datetime) -> None:
        where = EditingRuleRow.tenant_id == self.tenant_id
        values = {"who": rule, "updated_by": by, "updated_at": at}
        if await EditingRuleRow.exists().where(where):
            await EditingRuleRow.update(values).where(where)  # type: ignore[arg-type]
        else:
            await EditingRuleRow.insert(EditingRuleRow(tenant_id=self.tenant_id, **values))  # type: ignore[arg-type]

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

    async def save_approval_settings(
        self, approval_start: date | None, auto_lock_after_days: int | None, at: datetime
    ) -> None:
        values = {
            "approval_start": approval_start, "auto_lock_after_days": auto_lock_after_days, "updated_at": at,
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
        # The user's zone is cached under their generation (core.services.tracking_common).
        note_change(user_scope(user_id))
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
            return TimerReads(_settings_from_row(rows[0]), _timer_read(rows[0], user_id))
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
            _settings_from_row(row), _timer_read(row, user_id),
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
        changes = _added(worklogs)
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
        await insert_rows(self._engine, "worklog", _WORKLOG_COLUMNS, worklog_rows)
        await insert_rows(self._engine, "worklog_change", _CHANGE_COLUMNS, change_rows)
        await insert_rows(self._engine, "work_item_outbox", _OUTBOX_COLUMNS, outbox_rows,
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

    # Worklogs ---------------------------------------------------------------------------

    async def add_worklogs(
        self, worklogs: Sequence[Worklog], at: datetime, *, stop_reason: str | None = None
    ) -> None:
        """Any number at once: COPY on PostgreSQL, batched INSERTs on SQLite (``bulk.py``)."""
        stamp = constant(self._engine, at)
        if len(worklogs) < _HISTORY_IN_THREAD_FROM:
            await insert_rows(self._engine, "worklog", _WORKLOG_COLUMNS,
                              self._worklog_rows(worklogs, stamp, stop_reason))
            await self._record(_added(worklogs), stamp)
            return
        # The history rows (their JSON most of all) are made in a worker thread while the
        # database takes in the worklogs: the event loop mostly waits on the COPY meanwhile.
        history = asyncio.ensure_future(asyncio.to_thread(self._added_changes, worklogs, stamp))
        try:
            await insert_rows(self._engine, "worklog", _WORKLOG_COLUMNS,
                              self._worklog_rows(worklogs, stamp, stop_reason))
        except BaseException:
            await asyncio.wait([history])  # no thread left running past the failed unit of work
            raise
        changes, rows = await history
        await self._record(changes, stamp, made=rows)

    async def stage_worklogs(self, connection: Any, staged: StagedWorklogs) -> frozenset[str]:
        """SQLite, on the write unit of work's connection before it takes the lock: the
        rows ``add_worklogs`` would write, into TEMP tables (``bulk.stage_rows``). Returns
        the users whose worklogs they are (``add_staged_worklogs`` notes them)."""
        stamp = constant(self._engine, staged.at)
        # In id order: each B-tree keyed by the worklog's id (its own, and the history's by
        # worklog) then takes the rows left to right, each page once and filled, instead of
        # at random places that split pages half full; the history's ids are made in the
        # same order. The order of one import's rows means nothing to anyone.
        worklogs = await asyncio.to_thread(sorted, staged.worklogs, key=_by_id)
        # Building 200,000 tuples takes a second of CPU: off the event loop, which goes on
        # serving the process's other requests meanwhile.
        rows = await asyncio.to_thread(self._worklog_rows, worklogs, stamp, None)
        _, changes = await asyncio.to_thread(self._added_changes, worklogs, stamp)
        await stage_rows(connection, "worklog", _WORKLOG_COLUMNS, rows)
        await stage_rows(connection, "worklog_change", _CHANGE_COLUMNS, changes)
        return await asyncio.to_thread(_users_of, staged.worklogs)

    async def add_staged_worklogs(self, staged: StagedWorklogs) -> None:
        transaction = self._engine.current_transaction.get()
        users = getattr(transaction, "staged_users", None)
        if getattr(transaction, "staged", None) is not staged or staged.tenant_id != self.tenant_id \
                or users is None:
            await self.add_worklogs(staged.worklogs, staged.at)
            return
        await insert_staged(self._engine, "worklog", _WORKLOG_COLUMNS)
        # Their history rows are staged too, and whose they are was noted while staging: no
        # pass over the worklogs under the lock.
        self._note_worklogs_of(users)
        await insert_staged(self._engine, "worklog_change", _CHANGE_COLUMNS)

    def _worklog_rows(
        self, worklogs: Sequence[Worklog], stamp: Any, stop_reason: str | None
    ) -> list[tuple[Any, ...]]:
        return [
            (w.id, self.tenant_id, w.user_id, w.started_at, w.length_s, w.billable_length_s,
             w.work_item, w.comment, w.activity_type, w.added_by, _flags_text(w.flags), w.owner_edited,
             stop_reason, stamp, stamp, w.activity_type_id)
            for w in worklogs
        ]

    def _added_changes(
        self, worklogs: Sequence[Worklog], stamp: Any
    ) -> tuple[list[_Change], list[tuple[Any, ...]]]:
        """The history of adding ``worklogs``, and its rows."""
        changes = _added(worklogs)
        return changes, self._change_rows(changes, stamp)

    async def _record(
        self,
        changes: Sequence[_Change],
        stamp: Any,
        *,
        made: Sequence[tuple[Any, ...]] | None = None,
    ) -> None:
        """The history rows of ``changes`` (worklog, action, before, after), in one statement
        (COPY or multi-row INSERTs for many: ``bulk.py``). Every history write comes here,
        but for staged rows (``add_staged_worklogs``). ``made``: their rows, made already (a
        big add makes them in a worker thread)."""
        if not changes:
            return
        # Every worklog write records its history here (or in ``add_staged_worklogs``): the
        # one place that sees them all.
        self._note_worklogs_of({w.user_id for w, _, _, _ in changes})
        rows = made if made is not None else self._change_rows(changes, stamp)
        await insert_rows(self._engine, "worklog_change", _CHANGE_COLUMNS, rows)

    def _note_worklogs_of(self, user_ids: Collection[str]) -> None:
        for user_id in user_ids:
            note_tracking(self.tenant_id, user_id, timer=False)

    def _change_rows(self, changes: Sequence[_Change], stamp: Any) -> list[tuple[Any, ...]]:
        origin = self._origin
        actor, source = origin.actor_id, origin.source.value
        return [
            (change_id, self.tenant_id, w.id, w.user_id, stamp, actor,
             added_source(w, origin).value if action is ChangeAction.ADDED else source, action.value,
             _json(before), _json(after))
            for change_id, (w, action, before, after) in zip(_change_ids(len(changes)), changes, strict=True)
        ]

    async def _stored(self, ids: Sequence[str]) -> dict[str, Worklog]:
        found: dict[str, Worklog] = {}
        for chunk in _chunks(ids):
            rows = await WorklogRow.select().where(
                (WorklogRow.tenant_id == self.tenant_id) & WorklogRow.id.is_in(chunk)
            )
            found.update((row["id"], worklog_from_row(row)) for row in rows)
        return found

    def _worklog_where(self, worklog_id: str) -> Combinable:
        return (WorklogRow.tenant_id == self.tenant_id) & (WorklogRow.id == worklog_id)

    async def worklog(self, worklog_id: str) -> Worklog | None:
        row = await WorklogRow.select().where(self._worklog_where(worklog_id)).first()
        return worklog_from_row(row) if row else None

    async def save_worklog(self, worklog: Worklog, at: datetime) -> None:
        await self.save_worklogs([worklog], at)

    async def save_worklogs(self, worklogs: Sequence[Worklog], at: datetime) -> None:
        """One read of what is stored (the history's "before"), one ``executemany`` of the
        updates and one of the history rows. A worklog no longer stored stays deleted."""
        if not worklogs:
            return
        stored = await self._stored([w.id for w in worklogs])
        saved = [w for w in worklogs if w.id in stored]
        stamp = constant(self._engine, at)
        await update_rows(
            self._engine, "worklog", _EDIT_COLUMNS, ("tenant_id", "id"),
            [
                (w.started_at, w.length_s, w.billable_length_s, w.work_item, w.comment, w.activity_type,
                 w.activity_type_id, _flags_text(w.flags), w.owner_edited, stamp, self.tenant_id, w.id)
                for w in saved
            ],
        )
        changes: list[_Change] = []
        for w in saved:
            before, after = edited_values(stored[w.id], w)
            if before or after:
                changes.append((w, ChangeAction.EDITED, before, after))
        await self._record(changes, stamp)

    async def delete_worklog(self, worklog_id: str, at: datetime | None = None) -> None:
        await self.delete_worklogs([worklog_id], at)

    async def delete_worklogs(self, worklog_ids: Sequence[str], at: datetime | None = None) -> None:
        """The history keeps each deleted worklog's last values (its "before")."""
        if not worklog_ids:
            return
        stored = await self._stored(worklog_ids)
        for chunk in _chunks(list(stored)):
            await WorklogRow.delete().where(
                (WorklogRow.tenant_id == self.tenant_id) & WorklogRow.id.is_in(chunk)
            )
        await self._record(
            [(w, ChangeAction.DELETED, worklog_values(w), None) for w in stored.values()],
            # Callers pass their clock's time; a caller that passes none gets the wall clock's.
            constant(self._engine, at if at is not None else datetime.now(UTC)),
        )

    async def worklog_history(
        self, worklog_id: str, *, after: ChangeCursor | None = None, limit: int | None = None,
    ) -> list[WorklogChange]:
        """Through the (tenant_id, worklog_id, at, id) index."""
        c = WorklogChangeRow
        where: Combinable = (c.tenant_id == self.tenant_id) & (c.worklog_id == worklog_id)
        if after is not None:
            where &= (c.at > after.at) | ((c.at == after.at) & (c.id > after.id))
        query = c.select().where(where).order_by(c.at, c.id)
        if limit is not None:
            query = query.limit(limit)
        return [_change_from_row(row) for row in await query]

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

    async def worklog_times(self, ids: Collection[str]) -> dict[str, tuple[datetime, datetime]]:
        if not ids:
            return {}
        rows = await WorklogRow.select(WorklogRow.id, WorklogRow.created_at, WorklogRow.updated_at).where(
            (WorklogRow.tenant_id == self.tenant_id) & WorklogRow.id.is_in(sorted(ids))
        )
        return {row["id"]: (row["created_at"], row["updated_at"]) for row in rows}

    async def explore(
        self, query: WorklogQuery, *, after: WorklogCursor | None = None, limit: int | None = None,
    ) -> list[Worklog]:
        """One statement; the conditions ride on the (tenant_id, started_at) and
        (tenant_id, user_id, started_at) indexes (m0022 adds work item and activity type)."""
        if query.empty:
            return []
        w = WorklogRow
        text, args = page_where(self.tenant_id, query, after)
        where = WhereRaw(text, *args)
        select = w.select().where(where).order_by(w.started_at, w.id, ascending=not query.descending)
        if limit is not None:
            select = select.limit(limit)
        return [worklog_from_row(row) for row in await select]

    async def explore_rows(
        self, query: WorklogQuery, shape: PageShape[T], *, after: WorklogCursor | None = None, limit: int,
    ) -> ExplorerRows[T]:
        """One statement (:func:`~plugins.storage.explorer_sql.page_statement`)."""
        if query.empty:
            return ExplorerRows([], [], assigned=False)
        postgres = self._engine.engine_type == "postgres"
        template, args = page_statement(self.tenant_id, query, after, limit, postgres=postgres)
        # The text varies with the filters, so it is made per request; on PostgreSQL it
        # still skips Piccolo's compiling and runs on the unit of work's connection, and the
        # rows stay asyncpg's records, read by position (page_statement's column order).
        rows = await fetch_records(WorklogRow, Sql(template), *args)
        # Straight from the row into what the caller answers (no Worklog in between: the page
        # makes up to 501 per request), with shared flag sets.
        flags = _stored_flags
        if postgres:  # asyncpg's records hold the values typed already
            items = [shape(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                           flags(row[9]), row[10], row[11], row[12]) for row in rows]
        else:  # SQLite's join leaves the start as text and the flag as 0/1
            items = [shape(row[0], row[1], _started(row[2]), row[3], row[4], row[5], row[6], row[7], row[8],
                           flags(row[9]), bool(row[10]), row[11], row[12]) for row in rows]
        assigned = bool(rows and rows[0][13])
        return ExplorerRows(items, [(row[0], row[5]) for row in rows] if assigned else [], assigned)

    async def explore_totals(self, query: WorklogQuery, by: TotalsBy) -> list[WorklogTotals]:
        """One grouped statement; see :mod:`plugins.storage.explorer_sql`."""
        if query.empty:
            return []
        return await worklog_totals(self._engine, self.tenant_id, query, by) or []

    async def explore_totals_unassigned(
        self, query: WorklogQuery, by: TotalsBy,
    ) -> list[WorklogTotals] | None:
        """The same statement, with the tenant's budget assignments counted in it."""
        if query.empty:
            return []
        return await worklog_totals(self._engine, self.tenant_id, query, by, unless_assigned=True)

    async def week_sheet(self, user_id: str, week: str, start: datetime, end: datetime) -> WeekSheetData:
        """The timesheet's one query: the rules, preference and status ride along as scalar
        subqueries, and the worklogs come through the (tenant_id, user_id, started_at) index."""
        tenant, user = self.tenant_id, user_id
        args = (tenant, user, tenant, user, week, tenant, user, week, tenant, tenant, tenant,
                tenant, user, start, end)
        session = self._engine.current_transaction.get() if self._engine.engine_type == "postgres" else None
        if session is not None:  # inside a unit of work: its connection, asyncpg's records
            rows: Sequence[Any] = await session.connection.fetch(_WEEK_SHEET_PG, *args)
        else:
            rows = await WorklogRow.raw(_WEEK_SHEET, *args)
        first = rows[0]
        worklogs = [worklog_from_row(_typed(row)) for row in rows if row["id"] is not None]
        status = WeekStatus(first["status"]) if first["status"] else WeekStatus.OPEN
        days = first["auto_lock_after_days"]
        return WeekSheetData(
            first["time_zone"], status, _day(first["locked_until"]), worklogs,
            approval_start=_day(first["approval_start"]),
            auto_lock_after_days=None if days is None else int(days), note=first["note"],
        )

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

    async def week_record(self, user_id: str, week: str) -> WeekRecord:
        row = await WeekStatusRow.select().where(self._week_where(user_id, week)).first()
        return _week_from_row(row) if row else WeekRecord(user_id, week)

    async def save_week(self, record: WeekRecord, by: str, at: datetime) -> None:
        where = self._week_where(record.user_id, record.week)
        values = {
            "status": record.status.value, "updated_by": by, "updated_at": at,
            "submitted_at": record.submitted_at, "decided_by": record.decided_by,
            "decided_at": record.decided_at, "note": record.note,
        }
        if await WeekStatusRow.exists().where(where):
            await WeekStatusRow.update(values).where(where)  # type: ignore[arg-type]
        else:
            await WeekStatusRow.insert(
                WeekStatusRow(
                    id=new_id(), tenant_id=self.tenant_id, user_id=record.user_id, week=record.week,
                    **values,  # type: ignore[arg-type]
                )
            )

    async def week_records(
        self, *, statuses: Collection[WeekStatus], user_ids: Collection[str] | None = None,
        week: str | None = None, limit: int = 500,
    ) -> list[WeekRecord]:
        if not statuses or (user_ids is not None and not user_ids):
            return []
        where: Combinable = (WeekStatusRow.tenant_id == self.tenant_id) & WeekStatusRow.status.is_in(
            sorted(status.value for status in statuses)
        )
        if user_ids is not None:
            where &= WeekStatusRow.user_id.is_in(sorted(user_ids))
        if week is not None:
            where &= WeekStatusRow.week == week
        rows = await (
            WeekStatusRow.select().where(where)
            .order_by(WeekStatusRow.week, ascending=False).order_by(WeekStatusRow.user_id)
            .limit(limit)
        )
        return [_week_from_row(row) for row in rows]

    # Approvers ----------------------------------------------------------------------------

    async def approvers(self, user_id: str | None = None) -> dict[str, list[str]]:
        where: Combinable = UserApprover.tenant_id == self.tenant_id
        if user_id is not None:
            where &= UserApprover.user_id == user_id
        rows = await (
            UserApprover.select(UserApprover.user_id, UserApprover.approver_id).where(where)
            .order_by(UserApprover.user_id).order_by(UserApprover.approver_id)
        )
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row["user_id"], []).append(row["approver_id"])
        return found

    async def approvees(self, approver_id: str) -> list[str]:
        rows = await UserApprover.select(UserApprover.user_id).where(
            (UserApprover.tenant_id == self.tenant_id) & (UserApprover.approver_id == approver_id)
        ).order_by(UserApprover.user_id)
        return [row["user_id"] for row in rows]

    async def set_approvers(self, user_id: str, approver_ids: Collection[str], at: datetime) -> None:
        await UserApprover.delete().where(
            (UserApprover.tenant_id == self.tenant_id) & (UserApprover.user_id == user_id)
        )
        if approver_ids:
            await UserApprover.insert(*(
                UserApprover(id=new_id(), tenant_id=self.tenant_id, user_id=user_id,
                             approver_id=approver_id, created_at=at)
                for approver_id in sorted(set(approver_ids))
            ))

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


def _week_from_row(row: dict[str, Any]) -> WeekRecord:
    return WeekRecord(
        user_id=row["user_id"], week=row["week"], status=WeekStatus(row["status"]),
        submitted_at=row.get("submitted_at"), decided_by=row.get("decided_by"),
        decided_at=row.get("decided_at"), note=row.get("note"),
    )


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

    async def tenants_with_auto_lock(self) -> list[str]:
        rows = await TrackingRule.select(TrackingRule.tenant_id).where(
            TrackingRule.approval_start.is_not_null() | TrackingRule.auto_lock_after_days.is_not_null()
        )
        return sorted(row["tenant_id"] for row in rows)
