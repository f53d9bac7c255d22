"""The work item history (``work_item_history``): each item's Remaining and Completed Work
and iteration, one point per UTC day, that the burndown draws. ``record_history`` is its one
writer; the repository's ``history`` (``work_items_repo.py``) reads it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from piccolo.columns.combination import WhereRaw

from core.ids import new_id
from core.work_items.model import WorkItem

from .work_items_rows import UPSERT_CHUNK, centihours
from .work_items_tables import WorkItemHistoryRow

__all__ = ["HistoryEntry", "history_entry", "record_history"]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """What the history keeps of a mirror row as it was just written."""

    item_id: int
    iteration_id: int | None
    remaining_centihours: int | None
    completed_centihours: int | None
    changed_at: datetime


def history_entry(item: WorkItem) -> HistoryEntry:
    remaining, completed = centihours(item.remaining_h), centihours(item.completed_h)
    return HistoryEntry(item.id, item.iteration_id, remaining, completed, item.changed_at)


async def record_history(tenant_id: str, entries: Sequence[HistoryEntry]) -> None:
    """Keep each entry as its item's point for the UTC day of its ``changed_at``.

    The one writer of ``work_item_history``: the mirror's writes (the sync's upsert, a
    standalone create or edit) and the standalone write-back of Remaining/Completed Work all
    call it in the transaction that writes the row. One row per item per day: a later change
    that day replaces the values, an older one (a repeated sync page, a retried job) is
    ignored, and the same change again changes nothing — so a re-sync is harmless.
    """
    latest: dict[tuple[int, date], HistoryEntry] = {}
    for entry in entries:
        key = (entry.item_id, entry.changed_at.astimezone(UTC).date())
        if key not in latest or latest[key].changed_at <= entry.changed_at:
            latest[key] = entry
    rows = [
        WorkItemHistoryRow(
            id=new_id(), tenant_id=tenant_id, item_id=item_id, day=day, iteration_id=entry.iteration_id,
            remaining_centihours=entry.remaining_centihours, completed_centihours=entry.completed_centihours,
            changed_at=entry.changed_at,
        )
        for (item_id, day), entry in latest.items()
    ]
    for start in range(0, len(rows), UPSERT_CHUNK):
        await WorkItemHistoryRow.insert(*rows[start : start + UPSERT_CHUNK]).on_conflict(
            target=(WorkItemHistoryRow.tenant_id, WorkItemHistoryRow.item_id, WorkItemHistoryRow.day),
            action="DO UPDATE",
            values=(WorkItemHistoryRow.iteration_id, WorkItemHistoryRow.remaining_centihours,
                    WorkItemHistoryRow.completed_centihours, WorkItemHistoryRow.changed_at),
            where=WhereRaw("work_item_history.changed_at <= excluded.changed_at"),
        )
