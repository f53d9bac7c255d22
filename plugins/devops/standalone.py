"""Standalone mode: work items are the tenant's own rows of the mirror (``work_item``).

Remaining and Completed Work live on the mirror row with its revision, so the write-back
job works as against Azure DevOps: it reads the item, and writes both fields only if the
row is still at the revision it read (checked in the ``UPDATE`` itself, so two writers at
the same revision cannot both succeed). An id the mirror does not hold reads as ``None``
("the work item does not exist").
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core.clock import Clock
from core.tracking.ports import StaleWorkItem, WorkItemState
from plugins.storage.work_items_history import HistoryEntry, record_history
from plugins.storage.work_items_rows import centihours, hours
from plugins.storage.work_items_tables import WorkItemRow

__all__ = ["StandaloneConnector"]


def _item_id(work_item: str) -> int | None:
    text = work_item.strip()
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= 18 else None


class StandaloneConnector:
    def __init__(self, tenant_id: str, clock: Clock) -> None:
        self.tenant_id = tenant_id
        self._clock = clock

    def _where(self, item_id: int) -> Any:
        return (WorkItemRow.tenant_id == self.tenant_id) & (WorkItemRow.item_id == item_id)

    async def work_item(self, work_item: str) -> WorkItemState | None:
        item_id = _item_id(work_item)
        if item_id is None:
            return None
        row = await WorkItemRow.select(
            WorkItemRow.rev, WorkItemRow.completed_centihours, WorkItemRow.remaining_centihours
        ).where(self._where(item_id)).first()
        if row is None:
            return None
        return WorkItemState(
            work_item, row["rev"], hours(row["completed_centihours"]), hours(row["remaining_centihours"])
        )

    async def revision(self, work_item: str, rev: int) -> WorkItemState | None:
        # The mirror keeps no history; the current revision is the only one known.
        current = await self.work_item(work_item)
        return current if current is not None and current.rev == rev else None

    async def set_remaining(self, work_item: str, remaining_work: Decimal | None) -> WorkItemState:
        """Set Remaining Work as someone editing the item would (a new revision)."""
        for _ in range(5):
            current = await self.work_item(work_item)
            if current is None:
                raise LookupError(f"there is no work item {work_item}")
            try:
                return await self.update_work_item(
                    work_item, rev=current.rev, completed_work=current.completed_work or Decimal(0),
                    remaining_work=remaining_work,
                )
            except StaleWorkItem:
                continue
        raise StaleWorkItem(f"work item {work_item} kept changing")

    async def update_work_item(
        self, work_item: str, *, rev: int, completed_work: Decimal | None, remaining_work: Decimal | None
    ) -> WorkItemState:
        item_id = _item_id(work_item)
        if item_id is None:
            raise StaleWorkItem(f"there is no work item {work_item}", rev=rev)
        if completed_work is None or remaining_work is None:
            # A field not given keeps its value (the automation settings may write only one);
            # the write below still checks ``rev``.
            current = await self.work_item(work_item)
            if current is None or current.rev != rev:
                raise StaleWorkItem(f"work item {work_item} changed", rev=rev)
            completed_work = current.completed_work if completed_work is None else completed_work
            remaining_work = current.remaining_work if remaining_work is None else remaining_work
        now = self._clock.now()
        changed = await WorkItemRow.update({
            WorkItemRow.completed_centihours: centihours(completed_work),
            WorkItemRow.remaining_centihours: centihours(remaining_work),
            WorkItemRow.rev: rev + 1,
            WorkItemRow.changed_at: now,
        }).where(self._where(item_id) & (WorkItemRow.rev == rev)).returning(WorkItemRow.iteration_id)
        if not changed:
            raise StaleWorkItem(f"work item {work_item} changed", rev=rev)
        # The burndown's history, by the same writer the sync's upsert uses.
        iteration = changed[0]["iteration_id"]
        await record_history(self.tenant_id, [HistoryEntry(
            item_id, None if iteration is None else int(iteration), centihours(remaining_work),
            centihours(completed_work), now,
        )])
        return WorkItemState(work_item, rev + 1, completed_work, remaining_work)
