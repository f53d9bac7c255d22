"""One tenant's work items mirror. Every query here filters on ``self.tenant_id``.

The rows' mapping to the model is in ``work_items_rows.py``; the history the writes here
record, in ``work_items_history.py``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable
from piccolo.query.functions.aggregate import Max

from core.ids import new_id
from core.work_items.burndown import HistoryPoint
from core.work_items.model import Iteration, WorkItem, WorkItemDraft, category_of, iteration_order
from core.work_items.ports import SyncState, WorkItemFilter, WorkItemPage

from .tracking_tables import WorklogRow
from .work_items_history import history_entry, record_history
from .work_items_rows import UPSERT_CHUNK, item_from_row, item_values, iteration_from_row
from .work_items_tables import (
    IterationRow,
    WorkItemCounter,
    WorkItemHistoryRow,
    WorkItemRow,
    WorkItemSyncRow,
)

__all__ = ["PiccoloWorkItemRepo", "search_pattern"]

_ITEM_UPDATED = (
    WorkItemRow.title, WorkItemRow.search_title, WorkItemRow.type, WorkItemRow.state,
    WorkItemRow.state_category, WorkItemRow.parent_id, WorkItemRow.iteration_id, WorkItemRow.area_path,
    WorkItemRow.assigned_name, WorkItemRow.assigned_user_id, WorkItemRow.assigned_unique_name,
    WorkItemRow.original_estimate_centihours, WorkItemRow.remaining_centihours,
    WorkItemRow.completed_centihours, WorkItemRow.rev, WorkItemRow.tags, WorkItemRow.changed_at,
)


def search_pattern(text: str) -> str:
    """A ``LIKE`` pattern (escape ``\\``) for titles containing ``text``, lower-cased by Stint."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class PiccoloWorkItemRepo:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    def _mine(self) -> Combinable:
        return WorkItemRow.tenant_id == self.tenant_id

    # Work items -------------------------------------------------------------------------

    async def get(self, work_item_id: int) -> WorkItem | None:
        row = await WorkItemRow.select().where(self._mine() & (WorkItemRow.item_id == work_item_id)).first()
        return item_from_row(row) if row else None

    async def many(self, ids: Sequence[int]) -> dict[int, WorkItem]:
        wanted = sorted(set(ids))
        found: dict[int, WorkItem] = {}
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            rows = await WorkItemRow.select().where(self._mine() & WorkItemRow.item_id.is_in(chunk))
            found.update((int(row["item_id"]), item_from_row(row)) for row in rows)
        return found

    async def find(self, where: WorkItemFilter, cursor: str | None, limit: int) -> WorkItemPage:
        clause = self._mine()
        if where.state is not None:
            clause &= WorkItemRow.state == where.state
        if where.type is not None:
            clause &= WorkItemRow.type == where.type
        if where.iteration_id is not None:
            clause &= WorkItemRow.iteration_id == where.iteration_id
        if where.assigned_to_user is not None:
            clause &= WorkItemRow.assigned_user_id == where.assigned_to_user
        if where.parent_id is not None:
            clause &= WorkItemRow.parent_id == where.parent_id
        if where.search:
            text = where.search.strip()
            title = WhereRaw("search_title LIKE {} ESCAPE '\\'", search_pattern(text))
            if text.isdecimal() and len(text) <= 18:
                clause &= title | (WorkItemRow.item_id == int(text))
            else:
                clause &= title
        if cursor:
            clause &= WorkItemRow.item_id > _cursor_id(cursor)
        rows = await WorkItemRow.select().where(clause).order_by(WorkItemRow.item_id).limit(limit + 1)
        items = [item_from_row(row) for row in rows[:limit]]
        more = len(rows) > limit
        return WorkItemPage(items, str(items[-1].id) if more and items else None)

    async def create(self, draft: WorkItemDraft, at: datetime) -> WorkItem:
        item_id = await self._next_id(WorkItemCounter.next_work_item_id, WorkItemRow.item_id, WorkItemRow)
        item = WorkItem(
            id=item_id, title=draft.title, type=draft.type, state=draft.state,
            state_category=category_of(draft.state), changed_at=at, parent_id=draft.parent_id,
            iteration_id=draft.iteration_id, area_path=draft.area_path, assigned_to=draft.assigned_to,
            original_estimate_h=draft.original_estimate_h, remaining_h=draft.remaining_h,
            completed_h=draft.completed_h, rev=1,
        )
        await WorkItemRow.insert(self._row(item))
        await record_history(self.tenant_id, [history_entry(item)])
        return item

    def _row(self, item: WorkItem) -> WorkItemRow:
        return WorkItemRow(id=new_id(), tenant_id=self.tenant_id, item_id=item.id, **item_values(item))

    async def save(self, item: WorkItem) -> None:
        # Piccolo wants dict[Column | str, Any], and a dict of column names is refused.
        await WorkItemRow.update(item_values(item)).where(  # type: ignore[arg-type]
            self._mine() & (WorkItemRow.item_id == item.id)
        )
        await record_history(self.tenant_id, [history_entry(item)])

    async def upsert(self, items: Sequence[WorkItem]) -> None:
        # The last of two entries for one id wins, as if they were written one after another.
        latest = list({item.id: item for item in items}.values())
        for start in range(0, len(latest), UPSERT_CHUNK):
            rows = [self._row(item) for item in latest[start : start + UPSERT_CHUNK]]
            await WorkItemRow.insert(*rows).on_conflict(
                target=(WorkItemRow.tenant_id, WorkItemRow.item_id), action="DO UPDATE", values=_ITEM_UPDATED
            )
        await record_history(self.tenant_id, [history_entry(item) for item in latest])

    async def parents(self) -> dict[int, int | None]:
        rows = await WorkItemRow.select(WorkItemRow.item_id, WorkItemRow.parent_id).where(self._mine())
        return {
            int(row["item_id"]): None if row["parent_id"] is None else int(row["parent_id"]) for row in rows
        }

    async def tracked(self, ids: Sequence[int]) -> dict[int, int]:
        """Seconds tracked on each of ``ids`` (its own worklogs only); absent: none."""
        keys = sorted({str(item_id) for item_id in ids})
        totals: dict[int, int] = {}
        for start in range(0, len(keys), 1000):
            rows = await WorklogRow.raw(
                "SELECT work_item, SUM(length_s) AS total FROM worklog "
                "WHERE tenant_id = {} AND work_item IN ("
                + ", ".join(["{}"] * len(keys[start : start + 1000]))
                + ") GROUP BY work_item",
                self.tenant_id, *keys[start : start + 1000],
            )
            totals.update((int(row["work_item"]), int(row["total"])) for row in rows)
        return totals

    async def history(self, iteration_id: int, until: date) -> list[HistoryPoint]:
        ever = WorkItemHistoryRow.select(WorkItemHistoryRow.item_id).where(
            (WorkItemHistoryRow.tenant_id == self.tenant_id)
            & (WorkItemHistoryRow.iteration_id == iteration_id)
        ).distinct()
        rows = await WorkItemHistoryRow.select(
            WorkItemHistoryRow.item_id, WorkItemHistoryRow.day, WorkItemHistoryRow.iteration_id,
            WorkItemHistoryRow.remaining_centihours, WorkItemHistoryRow.completed_centihours,
        ).where(
            (WorkItemHistoryRow.tenant_id == self.tenant_id) & (WorkItemHistoryRow.day <= until)
            & WorkItemHistoryRow.item_id.is_in(ever)
        )
        return [
            HistoryPoint(
                item_id=int(row["item_id"]), day=row["day"],
                iteration_id=None if row["iteration_id"] is None else int(row["iteration_id"]),
                remaining=row["remaining_centihours"], completed=row["completed_centihours"],
            )
            for row in rows
        ]

    # Iterations -------------------------------------------------------------------------

    async def iterations(self) -> list[Iteration]:
        rows = await IterationRow.select().where(IterationRow.tenant_id == self.tenant_id)
        return sorted((iteration_from_row(row) for row in rows), key=iteration_order)

    async def iteration(self, iteration_id: int) -> Iteration | None:
        row = await IterationRow.select().where(
            (IterationRow.tenant_id == self.tenant_id) & (IterationRow.iteration_id == iteration_id)
        ).first()
        return iteration_from_row(row) if row else None

    async def create_iteration(
        self, path: str, start: date | None, finish: date | None, at: datetime
    ) -> Iteration:
        """Store a new standalone iteration under the tenant's next iteration id."""
        iteration_id = await self._next_id(
            WorkItemCounter.next_iteration_id, IterationRow.iteration_id, IterationRow
        )
        iteration = Iteration(iteration_id, path, start, finish)
        await self.upsert_iterations([iteration], at=at)
        return iteration

    async def add_iteration(self, iteration: Iteration) -> Iteration:
        await self.upsert_iterations([iteration])
        return iteration

    async def upsert_iterations(self, iterations: Sequence[Iteration], at: datetime | None = None) -> None:
        stamp = at or datetime.now(UTC)
        latest = list({it.id: it for it in iterations}.values())
        for start in range(0, len(latest), UPSERT_CHUNK):
            rows = [
                IterationRow(
                    id=new_id(), tenant_id=self.tenant_id, iteration_id=it.id, path=it.path,
                    start_on=it.start, finish_on=it.finish, external_id=it.external_id, changed_at=stamp,
                )
                for it in latest[start : start + UPSERT_CHUNK]
            ]
            await IterationRow.insert(*rows).on_conflict(
                target=(IterationRow.tenant_id, IterationRow.iteration_id), action="DO UPDATE",
                values=(IterationRow.path, IterationRow.start_on, IterationRow.finish_on,
                        IterationRow.external_id, IterationRow.changed_at),
            )

    async def _next_id(self, counter: Any, key: Any, table: Any) -> int:
        """The tenant's next id of ``counter``'s kind: past the counter and every stored id
        (a tenant that was mirrored from DevOps before going standalone has ids of its own)."""
        await WorkItemCounter.insert(
            WorkItemCounter(tenant_id=self.tenant_id, next_work_item_id=1, next_iteration_id=1)
        ).on_conflict(action="DO NOTHING")
        # The UPDATE locks the tenant's counter row on PostgreSQL: creates take turns.
        [row] = await WorkItemCounter.update({counter: counter + 1}).where(
            WorkItemCounter.tenant_id == self.tenant_id
        ).returning(counter)
        candidate = int(row[counter._meta.name]) - 1
        [top] = await table.select(Max(key, alias="top")).where(table.tenant_id == self.tenant_id)
        if top["top"] is not None and int(top["top"]) >= candidate:
            candidate = int(top["top"]) + 1
            await WorkItemCounter.update({counter: candidate + 1}).where(
                WorkItemCounter.tenant_id == self.tenant_id
            )
        return candidate

    # Sync state -------------------------------------------------------------------------

    async def sync_state(self) -> SyncState:
        row = await WorkItemSyncRow.select().where(WorkItemSyncRow.tenant_id == self.tenant_id).first()
        if row is None:
            return SyncState()
        return SyncState(
            watermark=row["watermark"], last_run_at=row["last_run_at"],
            last_success_at=row["last_success_at"],
            last_error=row["last_error"], items_seen=int(row["items_seen"]),
        )

    async def save_sync_state(self, state: SyncState) -> None:
        row = WorkItemSyncRow(
            tenant_id=self.tenant_id, watermark=state.watermark, last_run_at=state.last_run_at,
            last_success_at=state.last_success_at, last_error=state.last_error, items_seen=state.items_seen,
        )
        await WorkItemSyncRow.insert(row).on_conflict(
            target=WorkItemSyncRow.tenant_id, action="DO UPDATE",
            values=[WorkItemSyncRow.watermark, WorkItemSyncRow.last_run_at, WorkItemSyncRow.last_success_at,
                    WorkItemSyncRow.last_error, WorkItemSyncRow.items_seen],
        )


def _cursor_id(cursor: str) -> int:
    if not (cursor.isdecimal() and len(cursor) <= 18):
        raise ValueError(f"not a work item cursor: {cursor!r}")
    return int(cursor)
