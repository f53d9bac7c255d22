"""What the work items context needs from the outside: a tenant's mirror and DevOps' side.

A tenant's mirror is handed out by its scope (``uow.tenant(t).work_items()``); every query
behind it filters on that tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from core.work_items.burndown import HistoryPoint
from core.work_items.model import Iteration, WorkItem, WorkItemDraft

__all__ = [
    "DevOpsWorkItems",
    "SyncPage",
    "SyncState",
    "WorkItemFilter",
    "WorkItemPage",
    "WorkItemRepository",
]


@dataclass(frozen=True, slots=True)
class WorkItemFilter:
    search: str | None = None
    state: str | None = None
    type: str | None = None
    iteration_id: int | None = None
    assigned_to_user: str | None = None
    parent_id: int | None = None


@dataclass(frozen=True, slots=True)
class WorkItemPage:
    items: list[WorkItem]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class SyncState:
    """Where the last Azure DevOps sync of a tenant got to.

    ``watermark`` is the newest ``System.ChangedDate`` fully stored; a run reads only items
    changed after it and moves it only when every page of the run is stored, so a run that
    fails mid-way is repeated from the same watermark (upserts make the repeat harmless).
    """

    watermark: datetime | None = None
    last_run_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    items_seen: int = 0


class WorkItemRepository(Protocol):
    async def get(self, work_item_id: int) -> WorkItem | None: ...

    async def many(self, ids: Sequence[int]) -> dict[int, WorkItem]: ...

    async def find(self, where: WorkItemFilter, cursor: str | None, limit: int) -> WorkItemPage:
        """Items matching ``where`` in id order, after ``cursor`` (the last id of the previous
        page, as text; anything else raises ``ValueError``). ``search`` matches the title
        case-insensitively, or the id itself."""
        ...

    async def create(self, draft: WorkItemDraft, at: datetime) -> WorkItem:
        """Store a new standalone item under the tenant's next id."""
        ...

    async def save(self, item: WorkItem) -> None: ...

    async def upsert(self, items: Sequence[WorkItem]) -> None:
        """Insert or replace mirrored items by id (the sync's write; repeating it is harmless).

        Like ``create`` and ``save``, it also keeps each item's Remaining and Completed Work
        as its history point for the UTC day of its ``changed_at`` (the day's last wins)."""
        ...

    async def history(self, iteration_id: int, until: date) -> list[HistoryPoint]:
        """Every history point on or before ``until`` of the items that were ever in the
        iteration (points in other iterations included: they say when an item left)."""
        ...

    async def parents(self) -> dict[int, int | None]:
        """Every item's parent id: the tree the budget resolution and the totals walk."""
        ...

    async def tracked(self, ids: Sequence[int]) -> dict[int, int]:
        """Seconds tracked on each of ``ids`` by its own worklogs (absent: none)."""
        ...

    async def iterations(self) -> list[Iteration]:
        """The tenant's iterations in :func:`~core.work_items.model.iteration_order`."""
        ...

    async def iteration(self, iteration_id: int) -> Iteration | None: ...

    async def create_iteration(
        self, path: str, start: date | None, finish: date | None, at: datetime
    ) -> Iteration:
        """Store a new standalone iteration under the tenant's next iteration id."""
        ...

    async def add_iteration(self, iteration: Iteration) -> Iteration: ...

    async def upsert_iterations(self, iterations: Sequence[Iteration]) -> None: ...

    async def sync_state(self) -> SyncState: ...

    async def save_sync_state(self, state: SyncState) -> None: ...


@dataclass(frozen=True, slots=True)
class SyncPage:
    """One page of changed items; ``continuation`` None when it was the last.

    ``iteration_paths`` (item id → DevOps iteration path) is how the sync places an item in
    the mirrored iterations: the source knows paths, only the mirror knows their ids.
    """

    items: list[WorkItem]
    continuation: str | None
    iteration_paths: dict[int, str] = field(default_factory=dict)


class DevOpsWorkItems(Protocol):
    """Reading a tenant's Azure DevOps project (WIQL + workitemsbatch, iterations)."""

    async def changed_since(self, watermark: datetime | None, continuation: str | None) -> SyncPage: ...

    async def iterations(self) -> list[Iteration]: ...
