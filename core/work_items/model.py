"""The work item and iteration records every later capability reads (budgets, explorer, reports).

Ids are integers, as in Azure DevOps; in standalone mode Stint assigns them per tenant.
Hours (estimates, Remaining and Completed Work) are :class:`~decimal.Decimal` hours with at
most two places, as the DevOps fields are decimals of hours, never floats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final

__all__ = [
    "STATE_CATEGORIES",
    "Assignee",
    "Iteration",
    "StateCategory",
    "WorkItem",
    "WorkItemDraft",
    "category_of",
    "iteration_order",
]


class StateCategory(StrEnum):
    """Azure DevOps' state categories: what a state means whatever the process calls it."""

    PROPOSED = "Proposed"
    IN_PROGRESS = "InProgress"
    RESOLVED = "Resolved"
    COMPLETED = "Completed"
    REMOVED = "Removed"


STATE_CATEGORIES: Final[dict[str, StateCategory]] = {
    # The states of the Agile, Scrum, CMMI and Basic processes. A custom state that is not
    # here is Proposed until the connector tells its category.
    "New": StateCategory.PROPOSED,
    "Proposed": StateCategory.PROPOSED,
    "To Do": StateCategory.PROPOSED,
    "Approved": StateCategory.PROPOSED,
    "Active": StateCategory.IN_PROGRESS,
    "Committed": StateCategory.IN_PROGRESS,
    "Doing": StateCategory.IN_PROGRESS,
    "In Progress": StateCategory.IN_PROGRESS,
    "Open": StateCategory.IN_PROGRESS,
    "Resolved": StateCategory.RESOLVED,
    "Done": StateCategory.COMPLETED,
    "Closed": StateCategory.COMPLETED,
    "Completed": StateCategory.COMPLETED,
    "Removed": StateCategory.REMOVED,
}


def category_of(state: str) -> StateCategory:
    return STATE_CATEGORIES.get(state, StateCategory.PROPOSED)


@dataclass(frozen=True, slots=True)
class Assignee:
    """Who a work item is assigned to: a user of the tenant, or only a name from outside.

    A DevOps identity (``{displayName, uniqueName}``) becomes ``user_id`` when its
    ``uniqueName`` is a tenant user's e-mail, else a name alone.
    """

    name: str
    user_id: str | None = None
    unique_name: str | None = None


@dataclass(frozen=True, slots=True)
class Iteration:
    id: int
    path: str
    start: date | None = None
    finish: date | None = None
    external_id: str | None = None
    """The DevOps iteration's identifier (a GUID) when it is mirrored, else ``None``."""


def iteration_order(iteration: Iteration) -> tuple[bool, date, str, int]:
    """How iterations are listed: by start date (undated last), then path, then id."""
    return (iteration.start is None, iteration.start or date.min, iteration.path, iteration.id)


@dataclass(frozen=True, slots=True)
class WorkItemDraft:
    """What a standalone create carries, or what the sync read from DevOps for one item."""

    title: str
    type: str
    state: str = "New"
    parent_id: int | None = None
    iteration_id: int | None = None
    area_path: str | None = None
    assigned_to: Assignee | None = None
    original_estimate_h: Decimal | None = None
    remaining_h: Decimal | None = None
    completed_h: Decimal | None = None


@dataclass(frozen=True, slots=True)
class WorkItem:
    id: int
    title: str
    type: str
    state: str
    state_category: StateCategory
    changed_at: datetime
    parent_id: int | None = None
    iteration_id: int | None = None
    area_path: str | None = None
    assigned_to: Assignee | None = None
    original_estimate_h: Decimal | None = None
    remaining_h: Decimal | None = None
    completed_h: Decimal | None = None
    rev: int = 1
    tags: tuple[str, ...] = field(default=())
