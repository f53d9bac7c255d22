"""A workLogs page cut from the worklog table alone, on PostgreSQL, when its filter, order
and viewer's condition name only the worklog's own columns: either as the source the joins
then complete (:func:`page_first`, a "late join"), or as the index's raw keyset scan with
nothing joined (:func:`worklog_rows_sql`), which the reader completes in Python
(``worklog_completion.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.reporting.model import EntitySet
from core.reporting.query import OrderItem, Path, Query
from core.reporting.visibility import visible_rows

from .clauses import paths_of, where
from .keyset import after_condition, order_of, order_sql
from .statement import Context, Params, Statement

__all__ = ["WORKLOG_ROW_COLUMNS", "page_first", "worklog_order_positions", "worklog_rows_sql"]


#: workLogs' properties that are a worklog column as it is: a page of worklogs whose filter
#: and order name only these is cut from the table before anything is joined to it.
_WORKLOG_COLUMNS = {
    "Id": "id", "UserId": "user_id", "Timestamp": "started_at", "PeriodLength": "length_s",
    "BillableLength": "billable_length_s", "ActivityTypeId": "activity_type_id", "Comment": "comment",
    "CreatedTimestamp": "created_at", "EditedTimestamp": "updated_at",
}


def _worklogs_only(entity_set: EntitySet, query: Query, ctx: Context, order: list[OrderItem]) -> bool:
    """Whether a page of ``query`` names only the worklog's own columns (its filter, its
    order, the viewer's condition): then it can be cut from the worklog table alone."""
    # PostgreSQL only: there the property names ("Id") and the columns (id) are two names; to
    # SQLite they are one, and a table scan there is no network or planner away anyway.
    if entity_set.name != "workLogs" or ctx.dialect != "postgres":
        return False
    hidden = visible_rows(entity_set, ctx.viewer)
    paths = paths_of(query) + [item.path for item in order] + ([] if hidden is None else [Path(("UserId",))])
    return all(len(path.segments) == 1 and path.text in _WORKLOG_COLUMNS for path in paths)


def _worklog_cut(
    entity_set: EntitySet, query: Query, ctx: Context, order: list[OrderItem], after: tuple[Any, ...] | None,
    p: Params,
) -> str:
    """``FROM`` the tenant's worklogs as ``q`` (the property names beside the columns),
    ``WHERE`` the filter, the viewer's condition and the cursor, ``ORDER BY`` the order: an
    index range scan on ``worklog_tenant_start`` for the default order."""
    named = ", ".join(f'wl.{col} AS "{name}"' for name, col in _WORKLOG_COLUMNS.items())
    tenant = p.add(ctx.tenant_id)
    text = f"FROM (SELECT wl.*, {named} FROM worklog wl WHERE wl.tenant_id = {tenant}) q"
    conditions = where(entity_set, query, ctx, p, root="q")
    if after is not None:
        conditions.append(after_condition(entity_set, order, after, ctx, p, root="q"))
    if conditions:
        text += " WHERE " + " AND ".join(conditions)
    return text + f" ORDER BY {order_sql(entity_set, order, 'q')}"


def page_first(
    entity_set: EntitySet, query: Query, ctx: Context, order: list[OrderItem], after: tuple[Any, ...] | None,
    limit: int,
) -> Callable[[Params], str] | None:
    """The page's worklogs, cut from the table by its filter, order and cursor before the
    budget, rate and approval joins (a "late join"): without it PostgreSQL joins every one of
    the tenant's worklogs to sort them. None when the query names anything else."""
    if not _worklogs_only(entity_set, query, ctx, order):
        return None

    def source(p: Params) -> str:
        cut = _worklog_cut(entity_set, query, ctx, order, after, p)
        return f"(SELECT q.* {cut} LIMIT {int(limit)})"

    return source


#: The worklog columns :func:`worklog_rows_sql` selects, in this order.
WORKLOG_ROW_COLUMNS = (
    "id", "user_id", "started_at", "length_s", "billable_length_s", "activity_type_id", "comment",
    "work_item", "created_at", "updated_at",
)


def worklog_order_positions(entity_set: EntitySet, query: Query) -> tuple[int, ...]:
    """Where each of the order's values is in a row of :func:`worklog_rows_sql` (the order
    names only the worklog's own columns there, all of them selected): the last row's
    values at these are the page's cursor, so no value is selected twice."""
    return tuple(
        WORKLOG_ROW_COLUMNS.index(_WORKLOG_COLUMNS[item.path.text]) for item in order_of(entity_set, query)
    )


def worklog_rows_sql(
    entity_set: EntitySet, query: Query, ctx: Context, *, after: tuple[Any, ...] | None, limit: int, skip: int
) -> Statement | None:
    """A page of workLogs as the worklog table's own columns (:data:`WORKLOG_ROW_COLUMNS`),
    nothing joined, in the index's order: what the reader completes with the activity types,
    budgets, rates and approval weeks it has in memory (``worklog_completion.py``). None when the query
    names anything but a worklog's own columns (then :func:`rows_sql`); the order's values
    are among the columns (:func:`worklog_order_positions`)."""
    order = order_of(entity_set, query)
    if not _worklogs_only(entity_set, query, ctx, order):
        return None
    p = Params()
    columns = ", ".join(f"q.{name}" for name in WORKLOG_ROW_COLUMNS)
    text = f"SELECT {columns} {_worklog_cut(entity_set, query, ctx, order, after, p)}"
    text += f" LIMIT {int(limit)}"
    if skip:
        text += f" OFFSET {int(skip)}"
    return Statement(text, tuple(p.values))
