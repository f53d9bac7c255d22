"""The rules of work items: what a draft or an edit may hold, and the hierarchy.

Pure functions. The hierarchy is the parent map of a tenant's mirror (``item id → parent
id``, from :meth:`~core.work_items.ports.WorkItemRepository.parents`); a parent must exist
there and may never be the item itself or one of its descendants, at any depth.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Final

from core.errors import ValidationFailed

from .errors import UnknownParent, WorkItemCycle

__all__ = [
    "MAX_HOURS",
    "MAX_PATH_LENGTH",
    "MAX_STATE_LENGTH",
    "MAX_TITLE_LENGTH",
    "MAX_TYPE_LENGTH",
    "USUAL_TYPES",
    "ancestors",
    "check_hours",
    "check_parent",
    "check_path",
    "check_state",
    "check_title",
    "check_type",
    "descendants",
    "would_cycle",
]

MAX_TITLE_LENGTH: Final = 255
MAX_TYPE_LENGTH: Final = 64
MAX_STATE_LENGTH: Final = 64
MAX_PATH_LENGTH: Final = 400
#: A bound on estimates and work (about 114 years of hours): larger is a typo, and the
#: stored hundredths must fit a BIGINT with room to spare.
MAX_HOURS: Final = Decimal(1_000_000)
#: The types the forms offer (Azure DevOps' processes); any other non-empty type is allowed.
USUAL_TYPES: Final = (
    "Epic", "Feature", "User Story", "Product Backlog Item", "Requirement", "Bug", "Task", "Issue",
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _text(value: str, field: str, limit: int) -> str:
    trimmed = value.strip()
    if not trimmed:
        raise ValidationFailed(f"{field} must not be blank", field=field)
    if len(trimmed) > limit:
        raise ValidationFailed(f"{field} is longer than {limit} characters", field=field)
    if _CONTROL.search(trimmed):
        raise ValidationFailed(f"{field} contains control characters", field=field)
    return trimmed


def check_title(value: str) -> str:
    """The title trimmed: 1–255 characters."""
    return _text(value, "title", MAX_TITLE_LENGTH)


def check_type(value: str) -> str:
    """The type trimmed: non-empty, at most 64 characters (any type, not only the usual ones)."""
    return _text(value, "type", MAX_TYPE_LENGTH)


def check_state(value: str) -> str:
    return _text(value, "state", MAX_STATE_LENGTH)


def check_path(value: str, field: str) -> str:
    """An iteration or area path trimmed (``Project\\Sprint 1``)."""
    return _text(value, field, MAX_PATH_LENGTH)


def check_hours(value: Decimal | None, field: str) -> Decimal | None:
    """Hours ≥ 0 with at most two decimal places (``None``: not set)."""
    if value is None:
        return None
    try:
        finite = value.is_finite()
        places = -int(value.normalize().as_tuple().exponent) if finite else 0
    except (InvalidOperation, TypeError) as exc:  # pragma: no cover - Decimal of odd input
        raise ValidationFailed(f"{field} is not a number of hours", field=field) from exc
    if not finite:
        raise ValidationFailed(f"{field} must be a finite number of hours", field=field)
    if value < 0:
        raise ValidationFailed(f"{field} must not be negative", field=field)
    if value > MAX_HOURS:
        raise ValidationFailed(f"{field} is more than {MAX_HOURS} hours", field=field)
    if places > 2:
        raise ValidationFailed(f"{field} has more than two decimal places", field=field)
    return value


def ancestors(item_id: int, parents: Mapping[int, int | None]) -> list[int]:
    """The item's parent, its parent's parent … up to the root (a cycle already stored in
    a mirror ends the walk where it repeats)."""
    found: list[int] = []
    seen = {item_id}
    current = parents.get(item_id)
    while current is not None and current not in seen:
        found.append(current)
        seen.add(current)
        current = parents.get(current)
    return found


def would_cycle(item_id: int, parent_id: int, parents: Mapping[int, int | None]) -> bool:
    """True when making ``parent_id`` the parent of ``item_id`` closes a loop: the parent is
    the item itself, or the item is among the parent's ancestors (a descendant's parent)."""
    if parent_id == item_id:
        return True
    return item_id in ancestors(parent_id, parents)


def check_parent(item_id: int | None, parent_id: int | None, parents: Mapping[int, int | None]) -> None:
    """Refuse a parent the tenant does not have, or one that would make a cycle.

    ``item_id`` is ``None`` for an item not created yet (it has no descendants)."""
    if parent_id is None:
        return
    if parent_id not in parents:
        raise UnknownParent(f"there is no work item {parent_id} to be the parent", field="parent_id")
    if item_id is not None and would_cycle(item_id, parent_id, parents):
        raise WorkItemCycle(
            f"work item {parent_id} cannot be the parent of {item_id}: it is {item_id} itself "
            "or one of its descendants",
            field="parent_id",
        )


def descendants(item_id: int, parents: Mapping[int, int | None]) -> set[int]:
    """Every item below ``item_id`` at any depth (not the item itself)."""
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found: set[int] = set()
    stack = list(children.get(item_id, ()))
    while stack:
        current = stack.pop()
        if current in found or current == item_id:
            continue
        found.add(current)
        stack.extend(children.get(current, ()))
    return found
