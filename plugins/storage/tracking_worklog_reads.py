"""Worklog reads: one worklog, worklogs by user and time, the explorer's pages and totals
(their SQL in ``explorer_where`` and ``explorer_sql``), the timesheet's one query
(``week_sheet``), counts and a worklog's history. Separate from the writes: nothing here
writes, and the hot reads (the Time tab, the explorer's page) skip Piccolo's query building
in their own ways.
``worklog_from_row`` is the one reading of a worklog row (the writes use it for the
history's "before"); ``implicit_added`` finds the "added" history entries an import left
unwritten (m0034), for the history's reads and for the writes that write them out."""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar

from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable
from piccolo.query.functions.aggregate import Sum

from core.tracking import WeekStatus, Worklog, WorklogFlag
from core.tracking.explorer import ExplorerRows, PageShape, TotalsBy, WorklogQuery, WorklogTotals
from core.tracking.history import ChangeAction, ChangeCursor, WorklogChange, worklog_values
from core.tracking.ports import WeekSheetData, WorklogCursor

from .explorer_sql import worklog_totals
from .explorer_where import page_statement, page_where
from .plain_sql import Sql, fetch_records
from .tracking_base import TrackingRepoBase
from .tracking_settings import as_date
from .tracking_tables import WorklogChangeRow, WorklogImportRow, WorklogRow

T = TypeVar("T")


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


#: Ids per ``IN (…)`` list: well inside SQLite's oldest variable limit.
_IN_CHUNK = 900


def implicit_added_id(worklog_id: str) -> str:
    """The id of an imported worklog's implicit "added" entry: the same whether it is read
    as implicit or has been written out, so a history cursor past it stays past it. It sorts
    before every written change's id at the same ``at`` (those begin with a nanosecond
    count, ``18…`` in hex these decades), as an addition comes before anything else."""
    return "0000" + worklog_id[:28]


def _change_from_row(row: dict[str, Any]) -> WorklogChange:
    return WorklogChange(
        id=row["id"], worklog_id=row["worklog_id"], user_id=row["user_id"], at=row["at"],
        actor_id=row["actor_id"],
        source=row["source"], action=ChangeAction(row["action"]),
        before=json.loads(row["before"]) if row["before"] else {},
        after=json.loads(row["after"]) if row["after"] else {},
    )


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


async def implicit_added(tenant_id: str, stored: Sequence[tuple[Worklog, datetime]]) -> list[WorklogChange]:
    """The "added" entries an import left implicit (m0034) among ``stored`` (``tenant_id``'s
    stored worklogs, each with its ``created_at``): those imported, with no "added" row
    written, and added by an import at their ``created_at``. Each is the worklog as it stands (unchanged since
    the import: its first edit or deletion writes the entry out first), dated then, by
    the import's actor and source."""
    imported = [(w, at) for w, at in stored if WorklogFlag.IMPORTED in w.flags]
    if not imported:
        return []
    c = WorklogChangeRow
    written: set[str] = set()
    ids = [w.id for w, _ in imported]
    for start in range(0, len(ids), _IN_CHUNK):
        rows = await c.select(c.worklog_id).where(
            (c.tenant_id == tenant_id) & (c.action == ChangeAction.ADDED.value)
            & c.worklog_id.is_in(ids[start:start + _IN_CHUNK])
        )
        written.update(row["worklog_id"] for row in rows)
    unwritten = [(w, at) for w, at in imported if w.id not in written]
    if not unwritten:
        return []
    i = WorklogImportRow
    imports = {
        row["at"]: (row["actor_id"], row["source"])
        for row in await i.select(i.at, i.actor_id, i.source).where(
            (i.tenant_id == tenant_id) & i.at.is_in(sorted({at for _, at in unwritten}))
        )
    }
    return [
        WorklogChange(
            id=implicit_added_id(w.id), worklog_id=w.id, user_id=w.user_id, at=at,
            actor_id=imports[at][0], source=imports[at][1], action=ChangeAction.ADDED,
            before={}, after=worklog_values(w),
        )
        for w, at in unwritten if at in imports
    ]


class WorklogReads(TrackingRepoBase):
    """The worklog reads of ``PiccoloTrackingRepo``."""

    def _worklog_where(self, worklog_id: str) -> Combinable:
        return (WorklogRow.tenant_id == self.tenant_id) & (WorklogRow.id == worklog_id)

    async def worklog(self, worklog_id: str) -> Worklog | None:
        row = await WorklogRow.select().where(self._worklog_where(worklog_id)).first()
        return worklog_from_row(row) if row else None

    async def worklog_history(
        self, worklog_id: str, *, after: ChangeCursor | None = None, limit: int | None = None,
    ) -> list[WorklogChange]:
        """Through the (tenant_id, worklog_id, at, id) index, with an imported worklog's
        implicit "added" entry (``implicit_added``) in its place when one is due."""
        c = WorklogChangeRow
        where: Combinable = (c.tenant_id == self.tenant_id) & (c.worklog_id == worklog_id)
        if after is not None:
            where &= (c.at > after.at) | ((c.at == after.at) & (c.id > after.id))
        query = c.select().where(where).order_by(c.at, c.id)
        if limit is not None:
            query = query.limit(limit)
        changes = [_change_from_row(row) for row in await query]
        if any(change.action is ChangeAction.ADDED for change in changes):
            return changes  # its "added" entry is written
        row = await WorklogRow.select().where(self._worklog_where(worklog_id)).first()
        if row is None:  # deleted: a deletion writes the "added" entry out first
            return changes
        due = await implicit_added(self.tenant_id, [(worklog_from_row(row), row["created_at"])])
        implicit = [
            entry for entry in due
            if after is None or (entry.at, entry.id) > (after.at, after.id)
        ]
        if not implicit:
            return changes
        merged = sorted([*implicit, *changes], key=lambda change: (change.at, change.id))
        return merged if limit is None else merged[:limit]


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
        """One statement (:func:`~plugins.storage.explorer_where.page_statement`)."""
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
            first["time_zone"], status, as_date(first["locked_until"]), worklogs,
            approval_start=as_date(first["approval_start"]),
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
