"""Each entity set's base ``SELECT``, its columns named by the model's property names
(:data:`BASES`, the whitelist: no identifier ever comes from the request except by lookup
here).

Worklogs expose their budget by the resolution rule (``core.budgets.resolution``): a worklog
assigned directly joins ``budget_assignment``; the others take their work item's budget from
a map computed per query from the work item tree, O(work items), as the Times Explorer's
budget filter does (``core/services/explorer.py``), passed as one JSON parameter and read
with ``json_each``/``jsonb_each``. The amount is priced in SQL by the rates rule: the budget's
rate, else the activity type's, else the user's; billable seconds × rate / 3600 rounded once
per worklog, half-even, in integers (minor units), as ``core.rates.amount`` does. A workLogs
page that names only the worklog's own columns is read by
:func:`plugins.reporting.worklog_cut.worklog_rows_sql` instead and completed by the same
rules in Python (``worklog_completion.py``); change them in both places.
"""

from __future__ import annotations

from collections.abc import Callable

from core.reporting.model import MODEL, EntitySet

from .statement import Context, Params, quoted

__all__ = ["BASES", "base_sql", "worklogs_sql"]


def _json_map(ctx: Context, p: Params, which: str) -> str:
    value = p.add(ctx.worklog_map if which == "worklog" else ctx.item_map)
    if ctx.dialect == "postgres":
        return (
            f"SELECT key AS item, value->>0 AS budget, value->>1 AS kind "
            f"FROM jsonb_each(CAST({value} AS jsonb))"
        )
    return (
        f"SELECT key AS item, json_extract(value, '$[0]') AS budget, "
        f"json_extract(value, '$[1]') AS kind FROM json_each({value})"
    )


def _json_totals(ctx: Context, p: Params) -> str:
    value = p.add(ctx.rollup_map)
    if ctx.dialect == "postgres":
        return (
            "SELECT key AS item, CAST(value->>0 AS BIGINT) AS tracked, "
            f"CAST(value->>1 AS BIGINT) AS billable FROM jsonb_each(CAST({value} AS jsonb))"
        )
    return (
        "SELECT key AS item, json_extract(value, '$[0]') AS tracked, "
        f"json_extract(value, '$[1]') AS billable FROM json_each({value})"
    )


def _json_windows(ctx: Context, p: Params) -> str:
    value = p.add(ctx.approval_windows)
    if ctx.dialect == "postgres":
        return (
            "SELECT w->>0 AS user_id, CAST(w->>1 AS TIMESTAMPTZ) AS start_at, "
            "CAST(w->>2 AS TIMESTAMPTZ) AS end_at, w->>3 AS status "
            f"FROM jsonb_array_elements(CAST({value} AS jsonb)) w"
        )
    return (
        "SELECT json_extract(value, '$[0]') AS user_id, json_extract(value, '$[1]') AS start_at, "
        "json_extract(value, '$[2]') AS end_at, json_extract(value, '$[3]') AS status "
        f"FROM json_each({value})"
    )


def _item_id(ctx: Context, column: str) -> str:
    """A worklog's work item (text) as the mirror's integer id; NULL when it is not a number."""
    if ctx.dialect == "postgres":
        return f"CASE WHEN {column} ~ '^[0-9]{{1,18}}$' THEN CAST({column} AS BIGINT) END"
    return f"CASE WHEN {column} GLOB '[0-9]*' AND length({column}) <= 18 THEN CAST({column} AS INTEGER) END"


def _own_only(ctx: Context, p: Params, column: str) -> str:
    """Totals over worklogs cover only the viewer's own when they do not see everyone's."""
    return "" if ctx.viewer.sees_everyone else f" AND {column} = {p.add(ctx.viewer.user_id)}"


def worklogs_sql(ctx: Context, p: Params, source: str = "worklog") -> str:
    rate = "COALESCE(b.hourly_rate, at.rate_amount, ur.amount)"
    n = f"(wl.billable_length_s * {rate})"
    whole, rest = f"({n} / 3600)", f"({n} % 3600)"
    amount = (
        f"CASE WHEN {rate} IS NULL THEN NULL ELSE {whole} + CASE WHEN 2 * {rest} > 3600 "
        f"OR (2 * {rest} = 3600 AND {whole} % 2 = 1) THEN 1 ELSE 0 END END"
    )
    text = (
        'SELECT wl.id AS "Id", wl.user_id AS "UserId", wl.started_at AS "Timestamp", '
        'wl.length_s AS "PeriodLength", wl.billable_length_s AS "BillableLength", '
        'wl.activity_type_id AS "ActivityTypeId", at.name AS "ActivityTypeName", wl.comment AS "Comment", '
        f'{_item_id(ctx, "wl.work_item")} AS "WorkItemId", '
        'COALESCE(ba.budget_id, bm.budget) AS "BudgetId", '
        "CASE WHEN ba.budget_id IS NOT NULL THEN 'DirectlyAssigned' WHEN bm.budget IS NOT NULL "
        "THEN bm.kind ELSE 'NoBudget' END AS \"BudgetAssignmentType\", "
        f'{amount} AS "Amount", '
        f"CASE WHEN {rate} IS NULL THEN NULL ELSE COALESCE(rs.currency, b.currency, at.rate_currency, "
        'ur.currency) END AS "Currency", '
        'wl.created_at AS "CreatedTimestamp", wl.updated_at AS "EditedTimestamp", '
        "COALESCE(aw.status, 'open') AS \"ApprovalState\" "
        f"FROM {source} wl "
        "LEFT JOIN activity_type at ON at.tenant_id = wl.tenant_id AND at.id = wl.activity_type_id "
        "LEFT JOIN budget_assignment ba ON ba.tenant_id = wl.tenant_id AND ba.kind = 'worklog' "
        "AND ba.target = wl.id "
    )
    text += f"LEFT JOIN ({_json_map(ctx, p, 'worklog')}) bm ON bm.item = wl.work_item "
    # Weeks never overlap for one user, so a worklog meets at most one window.
    text += (f"LEFT JOIN ({_json_windows(ctx, p)}) aw ON aw.user_id = wl.user_id "
             "AND wl.started_at >= aw.start_at AND wl.started_at < aw.end_at ")
    text += (
        "LEFT JOIN budget b ON b.tenant_id = wl.tenant_id AND b.id = COALESCE(ba.budget_id, bm.budget) "
        "LEFT JOIN user_rate ur ON ur.tenant_id = wl.tenant_id AND ur.user_id = wl.user_id "
        "LEFT JOIN rate_setting rs ON rs.tenant_id = wl.tenant_id "
    )
    return text + f"WHERE wl.tenant_id = {p.add(ctx.tenant_id)}"


def _worklogs_with_deleted(ctx: Context, p: Params) -> str:
    """The worklogs (``IsDeleted`` false) and, from the change history, the deleted ones with
    their last values (``before`` of the ``deleted`` change): no budget, amount or approval
    state any more, created when their ``added`` change was, edited when deleted."""
    names = [prop.name for prop in MODEL["workLogs"].properties]
    live = ", ".join(f"w.{quoted(name)}" for name in names)
    if ctx.dialect == "postgres":
        def field(key: str) -> str:
            return f"(wc.before::json->>'{key}')"
        started, length, billable = (f"{field('started_at')}::timestamptz", f"{field('length_s')}::bigint",
                                     f"{field('billable_length_s')}::bigint")
    else:
        def field(key: str) -> str:
            return f"json_extract(wc.before, '$.{key}')"
        # The history keeps ISO text (…T09:00:00+00:00); SQLite's timestamps are Piccolo's
        # str() of the datetime (… 09:00:00+00:00), which filters and cursors compare as text.
        started, length, billable = (f"replace({field('started_at')}, 'T', ' ')", field("length_s"),
                                     field("billable_length_s"))
    deleted = {
        "Id": "wc.worklog_id", "UserId": "wc.user_id", "Timestamp": started, "PeriodLength": length,
        "BillableLength": billable, "ActivityTypeId": field("activity_type_id"),
        "ActivityTypeName": "at.name",
        "Comment": field("comment"), "WorkItemId": _item_id(ctx, field("work_item")), "BudgetId": "NULL",
        "BudgetAssignmentType": "'NoBudget'", "Amount": "NULL", "Currency": "NULL",
        "CreatedTimestamp": "COALESCE(added.at, wc.at)", "EditedTimestamp": "wc.at",
        "ApprovalState": "'open'",
    }
    assert list(deleted) == names, "the deleted rows' columns follow workLogs' properties"
    gone = ", ".join(f"{value} AS {quoted(name)}" for name, value in deleted.items())
    # Parameters are numbered in the order they are added: the live rows' come first in the text.
    current = worklogs_sql(ctx, p)
    tenant = p.add(ctx.tenant_id)
    return (
        f'SELECT {live}, FALSE AS "IsDeleted", NULL AS "DeletedTimestamp" FROM ({current}) w '
        f'UNION ALL SELECT {gone}, TRUE AS "IsDeleted", wc.at AS "DeletedTimestamp" FROM worklog_change wc '
        "LEFT JOIN activity_type at ON at.tenant_id = wc.tenant_id "
        f"AND at.id = {field('activity_type_id')} "
        "LEFT JOIN worklog_change added ON added.tenant_id = wc.tenant_id "
        "AND added.worklog_id = wc.worklog_id AND added.action = 'added' "
        f"WHERE wc.tenant_id = {tenant} AND wc.action = 'deleted'"
    )


def _work_items(ctx: Context, p: Params) -> str:
    text = (
        'SELECT wi.item_id AS "Id", wi.title AS "Title", wi.type AS "Type", wi.state AS "State", '
        'wi.state_category AS "StateCategory", wi.parent_id AS "ParentId", wi.iteration_id AS "IterationId", '
        'wi.area_path AS "AreaPath", wi.assigned_name AS "AssignedTo", '
        'wi.assigned_user_id AS "AssignedUserId", '
        'wi.original_estimate_centihours AS "OriginalEstimate", wi.remaining_centihours AS "RemainingWork", '
        'wi.completed_centihours AS "CompletedWork", wi.changed_at AS "ChangedTimestamp", '
        'im.budget AS "BudgetId", COALESCE(im.kind, \'NoBudget\') AS "BudgetAssignmentType", '
        'COALESCE(tl.tracked, 0) AS "TrackedLength", COALESCE(tl.billable, 0) AS "BillableLength", '
        'COALESCE(ru.tracked, 0) AS "TrackedLengthWithDescendants", '
        'COALESCE(ru.billable, 0) AS "BillableLengthWithDescendants" '
        "FROM work_item wi "
    )
    text += f"LEFT JOIN ({_json_map(ctx, p, 'item')}) im ON im.item = CAST(wi.item_id AS TEXT) "
    text += f"LEFT JOIN ({_json_totals(ctx, p)}) ru ON ru.item = CAST(wi.item_id AS TEXT) "
    tenant = p.add(ctx.tenant_id)
    text += (
        "LEFT JOIN (SELECT work_item, SUM(length_s) AS tracked, SUM(billable_length_s) AS billable "
        f"FROM worklog WHERE tenant_id = {tenant}{_own_only(ctx, p, 'user_id')} GROUP BY work_item) tl "
        "ON tl.work_item = CAST(wi.item_id AS TEXT) "
    )
    return text + f"WHERE wi.tenant_id = {p.add(ctx.tenant_id)}"


def _hierarchy(ctx: Context, p: Params) -> str:
    # Roots: items without a parent in the mirror. An item on a cycle has no root and is left
    # out; the depth bound stops a walk that would not end anyway.
    t1, t2, t3, t4 = (p.add(ctx.tenant_id) for _ in range(4))
    return (
        'SELECT h.item_id AS "Id", w.parent_id AS "ParentId", h.root_id AS "RootId", '
        'h.depth AS "Depth", w.title AS "Title", w.type AS "Type" FROM ('
        "WITH RECURSIVE walk(item_id, root_id, depth) AS ("
        f"SELECT c.item_id, c.item_id, 0 FROM work_item c WHERE c.tenant_id = {t1} AND (c.parent_id IS NULL "
        f"OR NOT EXISTS (SELECT 1 FROM work_item p WHERE p.tenant_id = {t2} AND p.item_id = c.parent_id)) "
        "UNION ALL SELECT c.item_id, walk.root_id, walk.depth + 1 FROM work_item c "
        f"JOIN walk ON c.parent_id = walk.item_id WHERE c.tenant_id = {t3} AND walk.depth < 100000"
        ") SELECT item_id, root_id, depth FROM walk) h "
        f"JOIN work_item w ON w.tenant_id = {t4} AND w.item_id = h.item_id"
    )


def _iterations(ctx: Context, p: Params) -> str:
    return (
        'SELECT iteration_id AS "Id", path AS "Path", start_on AS "StartDate", finish_on AS "FinishDate", '
        f'changed_at AS "ChangedTimestamp" FROM iteration WHERE tenant_id = {p.add(ctx.tenant_id)}'
    )


def _budgets(ctx: Context, p: Params) -> str:
    usage = worklogs_sql(ctx, p) + _own_only(ctx, p, "wl.user_id")
    return (
        'SELECT b.id AS "Id", b.name AS "Name", b.description AS "Description", b.customer AS "Customer", '
        'b.is_open AS "IsOpen", b.starts_on AS "StartDate", b.ends_on AS "EndDate", '
        'b.limit_s AS "HourLimit", '
        'b.amount AS "MoneyLimit", b.hourly_rate AS "HourlyRate", b.currency AS "Currency", '
        'COALESCE(u.tracked, 0) AS "TrackedLength", COALESCE(u.billable, 0) AS "BillableLength", '
        'u.amount AS "Amount" FROM budget b LEFT JOIN (SELECT w."BudgetId" AS budget_id, '
        'SUM(w."PeriodLength") AS tracked, SUM(w."BillableLength") AS billable, SUM(w."Amount") AS amount '
        f'FROM ({usage}) w GROUP BY w."BudgetId") u ON u.budget_id = b.id '
        f"WHERE b.tenant_id = {p.add(ctx.tenant_id)}"
    )


def _users(ctx: Context, p: Params) -> str:
    return (
        'SELECT tu.id AS "Id", pe.name AS "Name", pe.email AS "Email", tu.role AS "Role", '
        'tu.created_at AS "CreatedTimestamp" FROM tenant_user tu JOIN person pe ON pe.id = tu.person_id '
        f"WHERE tu.tenant_id = {p.add(ctx.tenant_id)}"
    )


def _activity_types(ctx: Context, p: Params) -> str:
    return (
        'SELECT id AS "Id", name AS "Name", color AS "Color", billable_by_default AS "BillableByDefault", '
        'active AS "Active", rate_amount AS "HourlyRate", rate_currency AS "Currency" '
        f"FROM activity_type WHERE tenant_id = {p.add(ctx.tenant_id)}"
    )


BASES: dict[str, Callable[[Context, Params], str]] = {
    "workLogs": worklogs_sql,
    "workLogsWithDeleted": _worklogs_with_deleted,
    "workItems": _work_items,
    "workItemsHierarchy": _hierarchy,
    "iterations": _iterations,
    "budgets": _budgets,
    "users": _users,
    "activityTypes": _activity_types,
}
assert set(BASES) == set(MODEL), "every entity set needs its SQL"


def base_sql(
    entity_set: EntitySet, ctx: Context, p: Params, source: Callable[[Params], str] | None = None
) -> str:
    """``entity_set``'s base ``SELECT``; ``source``: the worklog rows it reads instead of the
    whole table (workLogs' page, ``worklog_cut._page_first``), made when its text comes."""
    if source is not None:
        assert entity_set.name == "workLogs"
        return worklogs_sql(ctx, p, source(p))
    return BASES[entity_set.name](ctx, p)
