"""The Times Explorer's filter on the worklog table as SQL text, and the list's page in one
statement (the sums grouped in SQL: ``explorer_sql.py``).

Text rather than Piccolo's column expressions: see :func:`explore_where`.
"""

from __future__ import annotations

from typing import Any

from core.tracking.explorer import WorklogQuery
from core.tracking.ports import WorklogCursor

__all__ = ["Fragment", "explore_where", "page_statement", "page_where"]

#: SQL text with ``{}`` where each argument goes (Piccolo's ``raw`` template), and the arguments.
Fragment = tuple[str, list[Any]]


def _in(column: str, values: list[Any], *, negate: bool = False) -> str:
    return f"{column} {'NOT IN' if negate else 'IN'} ({', '.join(['{}'] * len(values))})"


def explore_where(tenant_id: str, query: WorklogQuery) -> Fragment:
    """Every condition of ``query`` on the worklog table (``query`` not empty), as SQL text.

    Text rather than Piccolo's column expressions: these are built on every explorer
    request, and composing and compiling the expression tree was a tenth of the page's
    Python (docs/benchmarks.md, "Times Explorer")."""
    parts = ["worklog.tenant_id = {}"]
    args: list[Any] = [tenant_id]

    def among(column: str, values: frozenset[str]) -> None:
        ordered = sorted(values)
        parts.append(_in(column, ordered))
        args.extend(ordered)

    def compare(condition: str, value: Any) -> None:
        parts.append(condition)
        args.append(value)

    if query.ids is not None:
        among("worklog.id", query.ids)
    if query.user_ids is not None:
        among("worklog.user_id", query.user_ids)
    if query.start is not None:
        compare("worklog.started_at >= {}", query.start)
    if query.end is not None:
        compare("worklog.started_at < {}", query.end)
    if query.work_items is not None:
        among("worklog.work_item", query.work_items)
    if query.activity_type_ids is not None:
        among("worklog.activity_type_id", query.activity_type_ids)
    if query.billable is not None:
        parts.append("worklog.billable_length_s > 0" if query.billable else "worklog.billable_length_s = 0")
    if query.created_from is not None:
        compare("worklog.created_at >= {}", query.created_from)
    if query.created_to is not None:
        compare("worklog.created_at < {}", query.created_to)
    if query.edited_since is not None:
        compare("worklog.updated_at >= {}", query.edited_since)
    if query.budget_items is not None:
        either: list[str] = []
        if query.budget_items:
            items = sorted(query.budget_items)
            on_items, on_args = _in("worklog.work_item", items), list(items)
            if query.not_ids:
                not_ids = sorted(query.not_ids)
                on_items = f"({on_items} AND {_in('worklog.id', not_ids, negate=True)})"
                on_args += not_ids
            either.append(on_items)
            args.extend(on_args)
        if query.budget_ids:
            direct = sorted(query.budget_ids)
            either.append(_in("worklog.id", direct))
            args.extend(direct)
        assert either  # query.empty covers neither
        parts.append(f"({' OR '.join(either)})")
    if query.in_windows is not None:
        assert query.in_windows  # query.empty covers no window
        inside = []
        for window in query.in_windows:
            inside.append("(worklog.user_id = {} AND worklog.started_at >= {} AND worklog.started_at < {})")
            args += [window.user_id, window.start, window.end]
        parts.append(f"({' OR '.join(inside)})")
    for window in query.out_windows:
        parts.append("(worklog.user_id <> {} OR worklog.started_at < {} OR worklog.started_at >= {})")
        args += [window.user_id, window.start, window.end]
    return " AND ".join(parts), args


def page_where(tenant_id: str, query: WorklogQuery, after: WorklogCursor | None) -> Fragment:
    """:func:`explore_where` and, with ``after``, only the rows past that position in list order."""
    text, args = explore_where(tenant_id, query)
    if after is not None:
        past = "<" if query.descending else ">"
        text += (f" AND (worklog.started_at {past} {{}} OR "
                 f"(worklog.started_at = {{}} AND worklog.id {past} {{}}))")
        args += [after.started_at, after.started_at, after.id]
    return text, args


_PAGE_COLUMNS = ("id, user_id, started_at, length_s, billable_length_s, work_item, comment, activity_type, "
                 "added_by, flags, owner_edited, activity_type_id")


def page_statement(
    tenant_id: str, query: WorklogQuery, after: WorklogCursor | None, limit: int, *, postgres: bool,
) -> tuple[str, list[Any]]:
    """The list's page in one statement (a template and its arguments for ``raw``): the
    worklogs in list order, each with its work item's title (a LEFT JOIN on the page's at
    most ``limit`` rows; ``work_item`` names an item when it is 1–18 ASCII digits, as
    ``work_item_titles`` reads it), and whether the tenant has any budget assignment (an
    uncorrelated subquery, evaluated once). One round trip instead of three. Its columns, in
    this order (``explore_rows`` reads them by position): ``_PAGE_COLUMNS``, then ``wi_title``
    (only when ``work_item`` is the item number's own text, as ``work_item_titles`` keys
    titles: ``0042`` names item 42 in the join but has no title) and ``n_assigned``."""
    order = "DESC" if query.descending else "ASC"
    digits = (r"p.work_item ~ '^[0-9]+$'" if postgres
              else "p.work_item <> '' AND p.work_item NOT GLOB '*[^0-9]*'")
    where, where_args = page_where(tenant_id, query, after)
    template = (
        "SELECT p.*, CASE WHEN CAST(wi.item_id AS VARCHAR(20)) = p.work_item THEN wi.title END AS wi_title, "
        # EXISTS, not COUNT(*): a tenant with thousands of assignments would count them all per page.
        "EXISTS (SELECT 1 FROM budget_assignment WHERE budget_assignment.tenant_id = {}) AS n_assigned "
        f"FROM (SELECT {_PAGE_COLUMNS} FROM worklog WHERE " + where
        + f" ORDER BY worklog.started_at {order}, worklog.id {order} LIMIT {int(limit)}) AS p "
        "LEFT JOIN work_item AS wi ON wi.tenant_id = {} AND wi.item_id = "
        f"(CASE WHEN {digits} AND length(p.work_item) <= 18 THEN CAST(p.work_item AS BIGINT) END) "
        f"ORDER BY p.started_at {order}, p.id {order}"
    )
    return template, [tenant_id, *where_args, tenant_id]
