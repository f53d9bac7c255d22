"""Worklog writes and their history: every add, edit and delete of a worklog writes its
``worklog_change`` rows in the same transaction, through ``_record`` — but an import, which
writes one ``worklog_import`` row and leaves its worklogs' "added" entries implicit until a
worklog's first edit or deletion writes its entry out (m0034, ``_write_out_added``).
Separate from the reads because this is where the history
is kept complete and where the bulk paths live (COPY, a worker thread for a big add's
history rows, TEMP-table staging); the history's ids (``_change_ids``) and JSON with them."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from core.ids import new_id, new_ids
from core.origin import Source
from core.tracking import Worklog, WorklogFlag
from core.tracking.history import ChangeAction, JsonValue, added_source, edited_values, worklog_values
from core.tracking.ports import StagedWorklogs

from .bulk import constant, insert_rows, insert_staged, stage_rows, update_rows
from .changes import note_tracking
from .tracking_base import TrackingRepoBase
from .tracking_tables import WorklogRow
from .tracking_worklog_reads import implicit_added, worklog_from_row

WORKLOG_COLUMNS = (
    "id", "tenant_id", "user_id", "started_at", "length_s", "billable_length_s", "work_item", "comment",
    "activity_type", "added_by", "flags", "owner_edited", "stop_reason", "created_at", "updated_at",
    "activity_type_id",
)
#: A history entry to write: the worklog, what happened, the fields before and after.
_Change = tuple[Worklog, ChangeAction, Mapping[str, JsonValue] | None, Mapping[str, JsonValue] | None]
CHANGE_COLUMNS = (
    "id", "tenant_id", "worklog_id", "user_id", "at", "actor_id", "source", "action", "before", "after",
)
_IMPORT_COLUMNS = ("id", "tenant_id", "at", "actor_id", "source", "worklogs")
#: What an edit writes (then the keys, tenant_id and id).
_EDIT_COLUMNS = (
    "started_at", "length_s", "billable_length_s", "work_item", "comment", "activity_type",
    "activity_type_id", "flags", "owner_edited", "updated_at",
)
#: Ids per ``IN (…)`` list: well inside SQLite's oldest variable limit.
_IN_CHUNK = 900


@functools.cache
def _flags_text(flags: frozenset[WorklogFlag]) -> str:
    # Cached: a handful of flag sets exist, and an import writes 100,000 rows of them.
    return ",".join(sorted(flag.value for flag in flags))


_clock_lock = threading.Lock()
_last_change_ns = 0


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


def added_history(worklogs: Sequence[Worklog]) -> list[_Change]:
    return [(w, ChangeAction.ADDED, None, worklog_values(w)) for w in worklogs]


def _users_of(worklogs: Sequence[Worklog]) -> frozenset[str]:
    return frozenset(w.user_id for w in worklogs)


def _json(values: Mapping[str, JsonValue] | None) -> str | None:
    return None if values is None else _encode_json(values).decode()


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield list(ids[start : start + _IN_CHUNK])


class WorklogWrites(TrackingRepoBase):
    """The worklog writes (and their history rows) of ``PiccoloTrackingRepo``."""

    async def add_worklogs(
        self, worklogs: Sequence[Worklog], at: datetime, *, stop_reason: str | None = None
    ) -> None:
        """Any number at once: COPY on PostgreSQL, batched INSERTs on SQLite (``bulk.py``)."""
        stamp = constant(self._engine, at)
        if len(worklogs) < _HISTORY_IN_THREAD_FROM:
            await insert_rows(self._engine, "worklog", WORKLOG_COLUMNS,
                              self._worklog_rows(worklogs, stamp, stop_reason))
            await self._record(added_history(worklogs), stamp)
            return
        # The history rows (their JSON most of all) are made in a worker thread while the
        # database takes in the worklogs: the event loop mostly waits on the COPY meanwhile.
        history = asyncio.ensure_future(asyncio.to_thread(self._added_changes, worklogs, stamp))
        try:
            await insert_rows(self._engine, "worklog", WORKLOG_COLUMNS,
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
        # An import's ids ascend with its rows already (core.services.worklog_import's
        # _import_ids): the id-keyed B-trees take them as appends, with no sort here.
        worklogs = staged.worklogs
        # Building 100,000 tuples takes half a second of CPU: off the event loop, which goes
        # on serving the process's other requests meanwhile.
        rows = await asyncio.to_thread(self._worklog_rows, worklogs, stamp, None)
        await stage_rows(connection, "worklog", WORKLOG_COLUMNS, rows)
        return await asyncio.to_thread(_users_of, staged.worklogs)

    async def add_staged_worklogs(self, staged: StagedWorklogs) -> None:
        """An import's worklogs: one ``worklog_import`` row and the worklogs, no history row
        each (their "added" entries are implicit: ``implicit_added``). From the staged rows
        if the unit of work staged these very worklogs (SQLite), else written here."""
        transaction = self._engine.current_transaction.get()
        users = getattr(transaction, "staged_users", None)
        stamp = constant(self._engine, staged.at)
        await insert_rows(self._engine, "worklog_import", _IMPORT_COLUMNS, [
            (new_id(), self.tenant_id, stamp, self._origin.actor_id, Source.IMPORT.value,
             len(staged.worklogs)),
        ])
        if getattr(transaction, "staged", None) is not staged or staged.tenant_id != self.tenant_id \
                or users is None:
            await insert_rows(self._engine, "worklog", WORKLOG_COLUMNS,
                              self._worklog_rows(staged.worklogs, stamp, None))
            self._note_worklogs_of(_users_of(staged.worklogs))
            return
        await insert_staged(self._engine, "worklog", WORKLOG_COLUMNS)
        # Whose they are was noted while staging: no pass over the worklogs under the lock.
        self._note_worklogs_of(users)

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
        changes = added_history(worklogs)
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
        await insert_rows(self._engine, "worklog_change", CHANGE_COLUMNS, rows)

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

    async def _stored(self, ids: Sequence[str]) -> dict[str, tuple[Worklog, datetime]]:
        """The stored worklogs of ``ids`` (the history's "before"), each with its ``created_at``."""
        found: dict[str, tuple[Worklog, datetime]] = {}
        for chunk in _chunks(ids):
            rows = await WorklogRow.select().where(
                (WorklogRow.tenant_id == self.tenant_id) & WorklogRow.id.is_in(chunk)
            )
            found.update((row["id"], (worklog_from_row(row), row["created_at"])) for row in rows)
        return found

    async def _before_change(self, ids: Sequence[str]) -> dict[str, Worklog]:
        """What an edit or deletion of ``ids`` changes from: the stored worklogs, with the
        implicit "added" entries among them written out first (``_write_out_added``)."""
        found = await self._stored(ids)
        await self._write_out_added(list(found.values()))
        return {worklog_id: worklog for worklog_id, (worklog, _) in found.items()}

    async def _write_out_added(self, stored: Sequence[tuple[Worklog, datetime]]) -> None:
        """Before an imported worklog's first edit or deletion: its implicit "added" entry
        (m0034) written as a row, from its values before the change — which are still those
        it was imported with — so that the history goes on saying what was added."""
        entries = await implicit_added(self.tenant_id, stored)
        await insert_rows(self._engine, "worklog_change", CHANGE_COLUMNS, [
            (e.id, self.tenant_id, e.worklog_id, e.user_id, constant(self._engine, e.at), e.actor_id,
             e.source, e.action.value, None, _json(e.after))
            for e in entries
        ])

    async def save_worklog(self, worklog: Worklog, at: datetime) -> None:
        await self.save_worklogs([worklog], at)

    async def save_worklogs(self, worklogs: Sequence[Worklog], at: datetime) -> None:
        """One read of what is stored (the history's "before"), one ``executemany`` of the
        updates and one of the history rows. A worklog no longer stored stays deleted."""
        if not worklogs:
            return
        stored = await self._before_change([w.id for w in worklogs])
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
        stored = await self._before_change(worklog_ids)
        for chunk in _chunks(list(stored)):
            await WorklogRow.delete().where(
                (WorklogRow.tenant_id == self.tenant_id) & WorklogRow.id.is_in(chunk)
            )
        await self._record(
            [(w, ChangeAction.DELETED, worklog_values(w), None) for w in stored.values()],
            # Callers pass their clock's time; a caller that passes none gets the wall clock's.
            constant(self._engine, at if at is not None else datetime.now(UTC)),
        )
