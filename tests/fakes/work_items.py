"""In-memory work items mirror: one tenant's items, iterations, id counters and sync state.

Behaves like ``plugins/storage/work_items_repo.py``: ids in order, a page of ``limit`` items
after the cursor (the previous page's last id, as text; anything else is a ``ValueError``),
search over the title lower-cased (as the stored ``search_title``) or the id itself, new ids
past the counter and every stored id, upserts keyed by id (the last entry for an id wins).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from core.work_items.burndown import HistoryPoint
from core.work_items.model import Iteration, WorkItem, WorkItemDraft, category_of, iteration_order
from core.work_items.ports import SyncState, WorkItemFilter, WorkItemPage

if TYPE_CHECKING:
    from tests.fakes.unit_of_work import FakeDatabase

__all__ = ["FakeWorkItemRepository", "IdCounter", "mirror_items"]


@dataclass
class IdCounter:
    """The ``work_item_counter`` row of a tenant."""

    next_work_item_id: int = 1
    next_iteration_id: int = 1


def _cursor_id(cursor: str) -> int:
    if not (cursor.isdecimal() and len(cursor) <= 18):
        raise ValueError(f"not a work item cursor: {cursor!r}")
    return int(cursor)


def _matches(item: WorkItem, where: WorkItemFilter) -> bool:
    if where.state is not None and item.state != where.state:
        return False
    if where.type is not None and item.type != where.type:
        return False
    if where.iteration_id is not None and item.iteration_id != where.iteration_id:
        return False
    if where.assigned_to_user is not None and (
        item.assigned_to is None or item.assigned_to.user_id != where.assigned_to_user
    ):
        return False
    if where.parent_id is not None and item.parent_id != where.parent_id:
        return False
    if where.search:
        text = where.search.strip()
        by_id = text.isdecimal() and len(text) <= 18 and item.id == int(text)
        if not by_id and text.lower() not in item.title.lower():
            return False
    return True


class FakeWorkItemRepository:
    """One tenant's mirror in ``store``; touches only ``tenant_id``'s entries."""

    def __init__(self, store: FakeDatabase, tenant_id: str) -> None:
        self._store = store
        self.tenant_id = tenant_id

    def _items(self) -> dict[int, WorkItem]:
        return self._store.work_items.setdefault(self.tenant_id, {})

    def _iterations(self) -> dict[int, Iteration]:
        return self._store.iterations.setdefault(self.tenant_id, {})

    # Work items -------------------------------------------------------------------------

    async def get(self, work_item_id: int) -> WorkItem | None:
        return self._store.work_items.get(self.tenant_id, {}).get(work_item_id)

    async def many(self, ids: Sequence[int]) -> dict[int, WorkItem]:
        items = self._store.work_items.get(self.tenant_id, {})
        return {item_id: items[item_id] for item_id in set(ids) if item_id in items}

    async def find(self, where: WorkItemFilter, cursor: str | None, limit: int) -> WorkItemPage:
        after = _cursor_id(cursor) if cursor else 0
        found = [
            item
            for item_id, item in sorted(self._store.work_items.get(self.tenant_id, {}).items())
            if item_id > after and _matches(item, where)
        ]
        page = found[:limit]
        return WorkItemPage(page, str(page[-1].id) if len(found) > limit and page else None)

    async def create(self, draft: WorkItemDraft, at: datetime) -> WorkItem:
        self._store.check_write("create a work item")
        counter = self._counter()
        item_id = max(counter.next_work_item_id, max(self._items(), default=0) + 1)
        counter.next_work_item_id = item_id + 1
        item = WorkItem(
            id=item_id, title=draft.title, type=draft.type, state=draft.state,
            state_category=category_of(draft.state), changed_at=at, parent_id=draft.parent_id,
            iteration_id=draft.iteration_id, area_path=draft.area_path, assigned_to=draft.assigned_to,
            original_estimate_h=draft.original_estimate_h, remaining_h=draft.remaining_h,
            completed_h=draft.completed_h, rev=1,
        )
        self._items()[item_id] = item
        self._record([item])
        return item

    def _record(self, items: Sequence[WorkItem]) -> None:
        # As ``record_history``: one point per item per UTC day, the latest change wins.
        def centi(value: Decimal | None) -> int | None:
            return None if value is None else int(value * 100)

        days = self._store.work_item_history.setdefault(self.tenant_id, {})
        for item in items:
            day = item.changed_at.astimezone(UTC).date()
            known = days.get((item.id, day))
            if known is None or known[1] <= item.changed_at:
                point = HistoryPoint(item.id, day, item.iteration_id, centi(item.remaining_h),
                                     centi(item.completed_h))
                days[(item.id, day)] = (point, item.changed_at)

    async def history(self, iteration_id: int, until: date) -> list[HistoryPoint]:
        points = [p for p, _ in self._store.work_item_history.get(self.tenant_id, {}).values()]
        ever = {p.item_id for p in points if p.iteration_id == iteration_id}
        return [p for p in points if p.item_id in ever and p.day <= until]

    def _counter(self) -> IdCounter:
        return self._store.work_item_counters.setdefault(self.tenant_id, IdCounter())

    async def save(self, item: WorkItem) -> None:
        self._store.check_write("save a work item")
        if item.id in self._items():
            self._items()[item.id] = item
            self._record([item])

    async def upsert(self, items: Sequence[WorkItem]) -> None:
        self._store.check_write("upsert work items")
        for item in items:
            self._items()[item.id] = item
        self._record(items)

    async def parents(self) -> dict[int, int | None]:
        items = self._store.work_items.get(self.tenant_id, {})
        return {item_id: item.parent_id for item_id, item in items.items()}

    async def tracked(self, ids: Sequence[int]) -> dict[int, int]:
        keys = {str(item_id) for item_id in ids}
        totals: dict[int, int] = {}
        for worklog in self._store.worklogs.get(self.tenant_id, {}).values():
            if worklog.work_item in keys:
                totals[int(worklog.work_item)] = totals.get(int(worklog.work_item), 0) + worklog.length_s
        return totals

    # Iterations -------------------------------------------------------------------------

    async def iterations(self) -> list[Iteration]:
        return sorted(self._store.iterations.get(self.tenant_id, {}).values(), key=iteration_order)

    async def iteration(self, iteration_id: int) -> Iteration | None:
        return self._store.iterations.get(self.tenant_id, {}).get(iteration_id)

    async def create_iteration(
        self, path: str, start: date | None, finish: date | None, at: datetime
    ) -> Iteration:
        self._store.check_write("create an iteration")
        counter = self._counter()
        iteration_id = max(counter.next_iteration_id, max(self._iterations(), default=0) + 1)
        counter.next_iteration_id = iteration_id + 1
        iteration = Iteration(iteration_id, path, start, finish)
        self._iterations()[iteration_id] = iteration
        return iteration

    async def add_iteration(self, iteration: Iteration) -> Iteration:
        await self.upsert_iterations([iteration])
        return iteration

    async def upsert_iterations(self, iterations: Sequence[Iteration], at: datetime | None = None) -> None:
        self._store.check_write("upsert iterations")
        for iteration in iterations:
            self._iterations()[iteration.id] = replace(iteration)

    # Sync state -------------------------------------------------------------------------

    async def sync_state(self) -> SyncState:
        return self._store.work_item_syncs.get(self.tenant_id, SyncState())

    async def save_sync_state(self, state: SyncState) -> None:
        self._store.check_write("save the sync state")
        self._store.work_item_syncs[self.tenant_id] = state




def mirror_items(
    store: FakeDatabase, tenant_id: str, *ids: int | str, at: datetime | None = None
) -> list[int]:
    """Put work items ``ids`` in a tenant's mirror, as a test database would be prepared (a
    worklog or timer may only name an item the mirror holds). Titled "Work item N"."""
    from datetime import UTC

    from core.work_items import StateCategory

    stamp = at or datetime(2026, 1, 1, tzinfo=UTC)
    items = store.work_items.setdefault(tenant_id, {})
    made = []
    for value in ids:
        item_id = int(value)
        items.setdefault(item_id, WorkItem(
            id=item_id, title=f"Work item {item_id}", type="Task", state="New",
            state_category=StateCategory.PROPOSED, changed_at=stamp,
        ))
        made.append(item_id)
    return made
