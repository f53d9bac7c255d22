"""What a query's :class:`~plugins.reporting.statement.Context` carries besides the tenant
and the viewer, as the reader computes it: the budget maps by the resolution rule, whether
the answer needs the work items' roll-up, and the weeks with a status as UTC windows. The
index-read workLogs page (``worklog_completion.py``) uses the same maps in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from core.budgets import Assignments, Resolver, WorkTree
from core.reporting.model import EntitySet
from core.reporting.query import Query
from core.tracking import parse_week_id
from core.tracking.approval import WeekStatus
from core.tracking.explorer import week_window
from core.tracking.ports import UserWeek

from .clauses import paths_of as _query_paths

__all__ = ["Window", "budget_maps", "needs_rollup", "status_windows"]


_ROLLED_UP = frozenset({"TrackedLengthWithDescendants", "BillableLengthWithDescendants"})


def needs_rollup(entity_set: EntitySet, query: Query) -> bool:
    """Whether the answer can show a work item's totals with descendants: the roll-up reads
    every worklog's item, so a worklog page that never shows them does not pay for it."""
    if entity_set.name == "workItems":
        return True
    for expand in query.expand:
        nav = entity_set.navigation(expand.navigation)
        shows = not expand.select or bool(_ROLLED_UP & set(expand.select))
        if nav is not None and nav.target == "workItems" and shows:
            return True
    return any(len(path.segments) == 2 and path.segments[1] in _ROLLED_UP for path in _query_paths(query))


#: A user's week with a status, as UTC instants: (user id, start, end, status).
Window = tuple[str, datetime, datetime, str]


def budget_maps(
    tree: WorkTree, assignments: Assignments
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """By work item (text): the [budget, assignment] of a worklog on it (without an
    assignment of its own), and of the item itself."""
    on_worklogs: dict[str, list[str]] = {}
    on_items: dict[str, list[str]] = {}
    if not assignments.work_items and not assignments.iterations:
        return on_worklogs, on_items  # no item gets a budget: nothing to resolve
    resolver = Resolver(tree, assignments)
    for item in set(tree.parents) | set(assignments.work_items):
        found = resolver.worklog(None, item)
        if found.budget_id is not None:
            on_worklogs[str(item)] = [found.budget_id, found.assignment.value]
        own = resolver.work_item(item)
        if own.budget_id is not None:
            on_items[str(item)] = [own.budget_id, own.assignment.value]
    return on_worklogs, on_items


def status_windows(
    statuses: Mapping[UserWeek, WeekStatus], zones: Mapping[str, str], tenant_zone: str
) -> list[Window]:
    """The weeks with a status (open weeks have none) as each user's UTC window."""
    found = []
    for key, status in statuses.items():
        window = week_window(key.user_id, parse_week_id(key.week), zones.get(key.user_id) or tenant_zone)
        found.append((key.user_id, window.start.astimezone(UTC), window.end.astimezone(UTC), status.value))
    return found
