"""The team-wide worklog filters as query parameters (``GET /worklogs/all`` and the
export): comma-separated lists, and ``from``/``to`` as a day or a date-time."""

from __future__ import annotations

from core.errors import ValidationFailed
from core.services.explorer import ExplorerFilters
from core.tracking import WeekStatus
from core.tracking.explorer import bound

__all__ = ["MAX_LIST", "explorer_filters"]

#: At most this many entries in one comma-separated list parameter.
MAX_LIST = 1000


def _texts(value: str | None, field: str) -> frozenset[str] | None:
    if value is None:
        return None
    parts = frozenset(part.strip() for part in value.split(",") if part.strip())
    if len(parts) > MAX_LIST:
        raise ValidationFailed(f"{field} takes at most {MAX_LIST} entries", field=field)
    if any(len(part) > 64 for part in parts):
        raise ValidationFailed(f"{field} takes ids of at most 64 characters", field=field)
    return parts


def _numbers(value: str | None, field: str) -> frozenset[int] | None:
    texts = _texts(value, field)
    if texts is None:
        return None
    if not all(text.isdigit() and len(text) <= 18 for text in texts):
        raise ValidationFailed(f"{field} takes comma-separated whole numbers (ids)", field=field)
    return frozenset(int(text) for text in texts)


def _states(value: str | None) -> frozenset[WeekStatus] | None:
    texts = _texts(value, "approval")
    if texts is None:
        return None
    try:
        return frozenset(WeekStatus(text) for text in texts)
    except ValueError:
        allowed = ", ".join(status.value for status in WeekStatus)
        raise ValidationFailed(f"approval takes week states: {allowed}", field="approval") from None


def explorer_filters(
    time_zone: str, *, users: str | None = None, start: str | None = None, end: str | None = None,
    work_items: str | None = None, iterations: str | None = None, budgets: str | None = None,
    activity_types: str | None = None, billable: bool | None = None, created_from: str | None = None,
    created_to: str | None = None, edited_since: str | None = None, descending: bool = False,
    approval: str | None = None,
) -> ExplorerFilters:
    """The query parameters as filters (``from``/``to`` dates in ``time_zone``)."""
    items = _numbers(work_items, "work_items")
    return ExplorerFilters(
        users=_texts(users, "users"),
        start=bound(start, "from", time_zone),
        end=bound(end, "to", time_zone, end=True),
        work_items=None if items is None else frozenset(str(item) for item in items),
        iterations=_numbers(iterations, "iterations"),
        budgets=_texts(budgets, "budgets"),
        activity_types=_texts(activity_types, "activity_types"),
        billable=billable,
        created_from=bound(created_from, "created_from", time_zone),
        created_to=bound(created_to, "created_to", time_zone, end=True),
        edited_since=bound(edited_since, "edited_since", time_zone),
        descending=descending,
        approval=_states(approval),
    )
