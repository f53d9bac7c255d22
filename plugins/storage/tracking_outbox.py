"""The work-item outbox (``work_item_outbox``): what worklogs owe the DevOps work items
(remaining-work deltas), queued with the worklogs that made them and worked off by the
tracking jobs. Separate because it is a queue with its own life (attempts, errors, done),
not tracking data; its effect keys make each effect queued once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from piccolo.custom_types import Combinable

from core.ids import new_id
from core.tracking.ports import OutboxEntry, WorkItemEffect

from .bulk import constant, insert_rows
from .tracking_base import TrackingRepoBase
from .tracking_tables import WorkItemOutbox

OUTBOX_COLUMNS = ("id", "tenant_id", "work_item", "effect_key", "remaining_delta_s", "created_at")


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


class WorkItemOutboxRows(TrackingRepoBase):
    """The work-item outbox part of ``PiccoloTrackingRepo``."""

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
        await insert_rows(self._engine, "work_item_outbox", OUTBOX_COLUMNS, rows,
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
