"""Saved Times Explorer views: one user's named filters, columns and grouping (issue #17).

A view keeps the ``GET /worklogs/all`` query as its parameters' text (checked when saved,
applied as the list applies them when opened), the columns the user picked and one or two
grouping levels. Names are the user's own: unique per user, compared case-insensitively.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.errors import Conflict, ValidationFailed
from core.tracking.explorer import parse_group_by

__all__ = [
    "COLUMNS",
    "FILTERS",
    "SavedView",
    "SavedViewStore",
    "ViewNameTaken",
    "new_saved_view",
    "view_name_key",
]

#: The Times Explorer's columns, in the order the page shows them.
COLUMNS = (
    "date", "user", "work_item", "iteration", "activity_type", "budget", "length", "billable",
    "amount", "approval", "created", "edited", "comment",
)

#: The ``GET /worklogs/all`` parameters a view keeps.
FILTERS = (
    "users", "from", "to", "work_items", "iterations", "budgets", "activity_types", "billable",
    "approval", "created_from", "created_to", "edited_since", "sort",
)

MAX_NAME = 100
MAX_FILTER = 4000


class ViewNameTaken(Conflict):
    code = "view_name_taken"


@dataclass(frozen=True, slots=True)
class SavedView:
    id: str
    user_id: str
    name: str
    filters: Mapping[str, str]
    columns: tuple[str, ...]
    group_by: tuple[str, ...]
    created_at: datetime


def view_name_key(name: str) -> str:
    """What two names are compared by: trimmed, blanks collapsed, case-folded."""
    return " ".join(name.split()).casefold()


def new_saved_view(
    view_id: str, user_id: str, name: str, filters: Mapping[str, str], columns: Sequence[str],
    group_by: Sequence[str], created_at: datetime,
) -> SavedView:
    """A checked view: a name of 1–100 characters, known filters (blank ones dropped), known
    columns without repeats (none: every column), at most two different grouping levels."""
    clean = " ".join(name.split())
    if not 1 <= len(clean) <= MAX_NAME:
        raise ValidationFailed(f"a view's name has 1 to {MAX_NAME} characters", field="name")
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise ValidationFailed(f"{unknown[0]!r} is not a filter of the explorer", field="filters")
    kept = {key: value.strip() for key, value in filters.items() if value.strip()}
    if any(len(value) > MAX_FILTER for value in kept.values()):
        raise ValidationFailed(f"a filter's value has at most {MAX_FILTER} characters", field="filters")
    bad = [column for column in columns if column not in COLUMNS]
    if bad:
        raise ValidationFailed(f"{bad[0]!r} is not a column of the explorer", field="columns")
    if len(set(columns)) != len(columns):
        raise ValidationFailed("a column is named twice", field="columns")
    levels = tuple(level.value for level in parse_group_by(",".join(group_by))) if group_by else ()
    return SavedView(
        id=view_id, user_id=user_id, name=clean,
        filters={key: kept[key] for key in FILTERS if key in kept},
        columns=tuple(columns) or COLUMNS, group_by=levels, created_at=created_at,
    )


class SavedViewStore(Protocol):
    """One tenant's saved views; every call is about one user's own."""

    async def views(self, user_id: str) -> list[SavedView]:
        """The user's views, by name."""
        ...

    async def add(self, view: SavedView) -> bool:
        """Store the view; False (nothing stored) when the user has a view of that name."""
        ...

    async def delete(self, user_id: str, view_id: str) -> bool:
        """Delete the user's view; False when they have none with this id."""
        ...
