"""The work items mirror's rows and the model (``core.work_items.model``): a row read into a
``WorkItem`` or ``Iteration``, a ``WorkItem`` written as a row's values, and the centihours
(hundredths of an hour, whole numbers) the rows store hours as. Shared by the repository
(``work_items_repo.py``) and the history (``work_items_history.py``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core.work_items.model import Assignee, Iteration, StateCategory, WorkItem

__all__ = ["UPSERT_CHUNK", "centihours", "hours", "item_from_row", "item_values", "iteration_from_row"]

_HUNDRED = Decimal(100)
#: Rows per multi-row upsert: 20 columns each stay far below SQLite's variable limit.
UPSERT_CHUNK = 400


def hours(centihours: int | None) -> Decimal | None:
    return None if centihours is None else Decimal(centihours) / _HUNDRED


def centihours(value: Decimal | None) -> int | None:
    # The rules allow two places at most, so this is exact; rounding only guards old rows.
    return None if value is None else int((value * _HUNDRED).to_integral_value())


def item_from_row(row: dict[str, Any]) -> WorkItem:
    assignee = None
    if row["assigned_name"] is not None:
        assignee = Assignee(row["assigned_name"], row["assigned_user_id"], row["assigned_unique_name"])
    return WorkItem(
        id=int(row["item_id"]),
        title=row["title"],
        type=row["type"],
        state=row["state"],
        state_category=StateCategory(row["state_category"]),
        changed_at=row["changed_at"],
        parent_id=None if row["parent_id"] is None else int(row["parent_id"]),
        iteration_id=None if row["iteration_id"] is None else int(row["iteration_id"]),
        area_path=row["area_path"],
        assigned_to=assignee,
        original_estimate_h=hours(row["original_estimate_centihours"]),
        remaining_h=hours(row["remaining_centihours"]),
        completed_h=hours(row["completed_centihours"]),
        rev=int(row["rev"]),
        tags=tuple(tag for tag in row["tags"].split(";") if tag),
    )


def item_values(item: WorkItem) -> dict[str, Any]:
    assignee = item.assigned_to
    return {
        "title": item.title,
        # Lower-casing may lengthen a title (İ → i̇); the column holds 255, as the title does.
        "search_title": item.title.lower()[:255],
        "type": item.type,
        "state": item.state,
        "state_category": item.state_category.value,
        "parent_id": item.parent_id,
        "iteration_id": item.iteration_id,
        "area_path": item.area_path,
        "assigned_name": assignee.name if assignee else None,
        "assigned_user_id": assignee.user_id if assignee else None,
        "assigned_unique_name": assignee.unique_name if assignee else None,
        "original_estimate_centihours": centihours(item.original_estimate_h),
        "remaining_centihours": centihours(item.remaining_h),
        "completed_centihours": centihours(item.completed_h),
        "rev": item.rev,
        "tags": ";".join(item.tags),
        "changed_at": item.changed_at,
    }


def iteration_from_row(row: dict[str, Any]) -> Iteration:
    return Iteration(
        id=int(row["iteration_id"]),
        path=row["path"],
        start=row["start_on"],
        finish=row["finish_on"],
        external_id=row["external_id"],
    )
