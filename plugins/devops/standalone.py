"""Standalone mode: work items are Stint's own rows (``local_work_item``), one tenant each.

Any name used on a worklog is a local work item; one never written to reads as
revision 0 with no estimates. Writes check the revision in the ``UPDATE`` itself,
so two writers at the same revision cannot both succeed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core.clock import Clock
from core.ids import new_id
from core.tracking.ports import StaleWorkItem, WorkItemState
from plugins.storage.tracking_tables import LocalWorkItem

__all__ = ["StandaloneConnector"]

_HUNDRED = Decimal(100)


def _hours(centihours: int | None) -> Decimal | None:
    return None if centihours is None else Decimal(centihours) / _HUNDRED


def _centihours(hours: Decimal | None) -> int | None:
    return None if hours is None else int((hours * _HUNDRED).to_integral_value())


class StandaloneConnector:
    def __init__(self, tenant_id: str, clock: Clock) -> None:
        self.tenant_id = tenant_id
        self._clock = clock

    def _where(self, work_item: str) -> Any:
        return (LocalWorkItem.tenant_id == self.tenant_id) & (LocalWorkItem.item == work_item)

    async def work_item(self, work_item: str) -> WorkItemState:
        row = await LocalWorkItem.select().where(self._where(work_item)).first()
        if row is None:
            return WorkItemState(work_item, 0, None, None)
        return WorkItemState(
            work_item, row["rev"], _hours(row["completed_centihours"]), _hours(row["remaining_centihours"])
        )

    async def revision(self, work_item: str, rev: int) -> WorkItemState | None:
        # Local items keep no history; the current revision is the only one known.
        current = await self.work_item(work_item)
        return current if current.rev == rev else None

    async def set_remaining(self, work_item: str, remaining_work: Decimal | None) -> WorkItemState:
        """Set the estimate (standalone mode's stand-in for editing the item in DevOps)."""
        for _ in range(5):
            current = await self.work_item(work_item)
            try:
                return await self._write(
                    work_item, current.rev, current.completed_work or Decimal(0), remaining_work
                )
            except StaleWorkItem:
                continue
        raise StaleWorkItem(f"work item {work_item} kept changing")

    async def update_work_item(
        self, work_item: str, *, rev: int, completed_work: Decimal | None, remaining_work: Decimal | None
    ) -> WorkItemState:
        if completed_work is None or remaining_work is None:
            # A field not given keeps its value; the write below still checks ``rev``.
            current = await self.work_item(work_item)
            if current.rev != rev:
                raise StaleWorkItem(f"work item {work_item} changed", rev=rev)
            completed_work = current.completed_work if completed_work is None else completed_work
            remaining_work = current.remaining_work if remaining_work is None else remaining_work
        return await self._write(work_item, rev, completed_work, remaining_work)

    async def _write(
        self, work_item: str, rev: int, completed_work: Decimal | None, remaining_work: Decimal | None
    ) -> WorkItemState:
        now = self._clock.now()
        values = {
            "completed_centihours": _centihours(completed_work),
            "remaining_centihours": _centihours(remaining_work),
            "updated_at": now,
        }
        if rev == 0:
            if await LocalWorkItem.exists().where(self._where(work_item)):
                raise StaleWorkItem(f"work item {work_item} changed", rev=rev)
            # Piccolo checks a table's **kwargs of column values against its own flags (a typing gap).
            await LocalWorkItem.insert(
                LocalWorkItem(id=new_id(), tenant_id=self.tenant_id, item=work_item, rev=1, **values)  # type: ignore[arg-type]
            )
        else:
            # Piccolo wants dict[Column | str, Any], and a dict of column names is refused.
            changed = await LocalWorkItem.update({**values, "rev": rev + 1}).where(  # type: ignore[dict-item]
                self._where(work_item) & (LocalWorkItem.rev == rev)
            ).returning(LocalWorkItem.id)
            if not changed:
                raise StaleWorkItem(f"work item {work_item} changed", rev=rev)
        return WorkItemState(work_item, rev + 1, completed_work, remaining_work)
