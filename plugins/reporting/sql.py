"""The Reporting API's query model → parameterised SQL for SQLite and PostgreSQL.

Each entity set is a base ``SELECT`` whose columns are named by the model's property names
(:data:`BASES`, the whitelist: no identifier ever comes from the request except by lookup
here); a query wraps it as ``r`` and a navigation path joins the target set's base as
``n_<Navigation>``. Every value travels as a bind parameter (``{}``, Piccolo's placeholder,
numbered ``$n`` on PostgreSQL by ``plugins.storage.plain_sql``), in the order the text uses
them.

Worklogs expose their budget by the resolution rule (``core.budgets.resolution``): a worklog
assigned directly joins ``budget_assignment``; the others take their work item's budget from
a map computed per query from the work item tree, O(work items), as the Times Explorer's
budget filter does (``core/services/explorer.py``), passed as one JSON parameter and read
with ``json_each``/``jsonb_each``. The amount is priced in SQL by the rates rule: the budget's
rate, else the activity type's, else the user's; billable seconds × rate / 3600 rounded once
per worklog, half-even, in integers (minor units), as ``core.rates.amount`` does. A workLogs
page that names only the worklog's own columns is read by :func:`worklog_rows_sql` instead
and completed by the same rules in Python (``reader.py``); change them in both places.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Literal

from core.reporting.model import MODEL, Edm, EntitySet, Property
from core.reporting.query import (
    Aggregate,
    AggregateStep,
    BoolOp,
    Compare,
    ComputeStep,
    Expr,
    FilterStep,
    Func,
    GroupBy,
    HitBy,
    ListValue,
    Not,
    OrderItem,
    Path,
    Query,
    Value,
    computed_of,
    resolve,
)
from core.reporting.visibility import Viewer, visible_rows

__all__ = [
    "Dialect",
    "Params",
    "Statement",
    "base_sql",
    "count_sql",
    "grouped_sql",
    "rows_sql",
    "targets_sql",
    "worklog_order_positions",
    "worklog_rows_sql",
]

Dialect = Literal["sqlite", "postgres"]


@dataclass
class Params:
    values: list[Any] = field(default_factory=list)

    def add(self, value: Any) -> str:
        self.values.append(value)
        return "{}"


@dataclass(frozen=True, slots=True)
class Statement:
    text: str
    params: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Context:
    """What a base query depends on besides the tenant: the viewer and the budget maps."""

    tenant_id: str
    viewer: Viewer
    dialect: Dialect
    #: work item id (text) → [budget id, assignment] for a worklog on it (no direct assignment).
    worklog_map: str = "{}"
    #: work item id (text) → [budget id, assignment] for the work item itself.
    item_map: str = "{}"
    #: work item id (text) → [tracked, billable] of it and its descendants (the viewer's time).
    rollup_map: str = "{}"
    #: [[user id, week start, week end, status], …]: the weeks that are not open, as UTC
    #: windows in each user's zone (start and end in the engine's timestamp text).
    approval_windows: str = "[]"


def _q(name: str) -> str:
    # Identifiers come from the model only; quoting keeps their case on both engines.
    assert name.replace("_", "").replace("/", "").isalnum(), name
    return f'"{name}"'


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


def _worklogs(ctx: Context, p: Params, source: str = "worklog") -> str:
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
    live = ", ".join(f"w.{_q(name)}" for name in names)
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
    gone = ", ".join(f"{value} AS {_q(name)}" for name, value in deleted.items())
    # Parameters are numbered in the order they are added: the live rows' come first in the text.
    current = _worklogs(ctx, p)
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
    usage = _worklogs(ctx, p) + _own_only(ctx, p, "wl.user_id")
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
    "workLogs": _worklogs,
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
    whole table (workLogs' page, :func:`_page_first`), made when its text comes."""
    if source is not None:
        assert entity_set.name == "workLogs"
        return _worklogs(ctx, p, source(p))
    return BASES[entity_set.name](ctx, p)


# --- expressions ---------------------------------------------------------------------------


def column(path: Path, root: str = "r") -> str:
    alias = root if len(path.segments) == 1 else f"n_{path.segments[0]}"
    return f"{alias}.{_q(path.segments[-1])}"


def _bind(p: Params, prop: Property | None, value: Any, dialect: Dialect) -> str:
    """A literal as a parameter, in the column's storage terms (scaled, typed)."""
    if prop is not None and value is not None:
        if prop.scale != 1 and isinstance(value, int | Decimal) and not isinstance(value, bool):
            value = Decimal(value) * prop.scale
            if value == value.to_integral_value():
                value = int(value)
        if prop.edm is Edm.DATETIME and isinstance(value, date) and not isinstance(value, datetime):
            value = datetime.combine(value, time(), UTC)
        elif prop.edm is Edm.DATE and isinstance(value, datetime):
            value = value.astimezone(UTC).date()
        elif prop.edm is Edm.DECIMAL and isinstance(value, int) and not isinstance(value, bool):
            value = int(value)
    if value is None:
        return "NULL"
    placeholder = p.add(value)
    if dialect == "postgres":
        # asyncpg types a parameter by its column; a fraction against an integer column, or a
        # literal facing another literal, needs the type said.
        if isinstance(value, datetime):
            return f"CAST({placeholder} AS TIMESTAMPTZ)"
        if isinstance(value, date):
            return f"CAST({placeholder} AS DATE)"
        if isinstance(value, Decimal):
            return f"CAST({placeholder} AS NUMERIC)"
        if isinstance(value, bool):
            return f"CAST({placeholder} AS BOOLEAN)"
        if isinstance(value, int):
            return f"CAST({placeholder} AS BIGINT)"
        if isinstance(value, str):
            return f"CAST({placeholder} AS TEXT)"
    return placeholder


class Compiler:
    def __init__(self, entity_set: EntitySet, ctx: Context, p: Params, root: str = "r") -> None:
        self.entity_set = entity_set
        self.ctx = ctx
        self.dialect = ctx.dialect
        self.p = p
        self.root = root

    def _prop(self, expr: Expr) -> Property | None:
        if isinstance(expr, Path):
            return resolve(self.entity_set, expr)
        if isinstance(expr, Func) and expr.name in ("tolower", "toupper"):
            return None
        return None

    def _operand(self, expr: Expr, other: Expr | None) -> str:
        if isinstance(expr, Value):
            return _bind(self.p, self._prop(other) if other is not None else None, expr.value, self.dialect)
        return self.expr(expr)

    def expr(self, expr: Expr) -> str:
        if isinstance(expr, Path):
            return column(expr, self.root)
        if isinstance(expr, Value):
            return _bind(self.p, None, expr.value, self.dialect)
        if isinstance(expr, BoolOp):
            return f"({self.expr(expr.left)} {expr.op.upper()} {self.expr(expr.right)})"
        if isinstance(expr, Not):
            return f"(NOT {self.expr(expr.operand)})"
        if isinstance(expr, Compare):
            return self._compare(expr)
        if isinstance(expr, Func):
            return self._func(expr)
        if isinstance(expr, HitBy):
            # The budgets the user's worklogs resolve to, by the same worklog SQL as workLogs.
            assert self.entity_set.name == "budgets"
            worklogs = _worklogs(self.ctx, self.p)
            user = self.p.add(expr.user_id)
            return (f'({self.root}."Id" IN (SELECT hit."BudgetId" FROM ({worklogs}) hit '
                    f'WHERE hit."UserId" = {user} AND hit."BudgetId" IS NOT NULL))')
        raise AssertionError(f"not an expression here: {expr!r}")

    def _compare(self, expr: Compare) -> str:
        left, right = expr.left, expr.right
        if isinstance(left, Value) and not isinstance(right, Value):
            # Literal first (5 lt PeriodLength): the same comparison turned round.
            flip = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
            return self._compare(Compare(flip.get(expr.op, expr.op), right, left))  # type: ignore[arg-type]
        if expr.op == "in":
            assert isinstance(right, ListValue)
            if not right.values:
                return "(1 = 0)"
            prop = self._prop(left)
            items = ", ".join(_bind(self.p, prop, v.value, self.dialect) for v in right.values)
            return f"({self.expr(left)} IN ({items}))"
        if isinstance(right, Value) and right.value is None:
            return f"({self.expr(left)} IS {'NOT ' if expr.op == 'ne' else ''}NULL)"
        sql_left = self.expr(left)
        sql_right = self._operand(right, left)
        if expr.op == "ne":
            distinct = "IS DISTINCT FROM" if self.dialect == "postgres" else "IS NOT"
            return f"({sql_left} {distinct} {sql_right})"
        op = {"eq": "=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}[expr.op]
        return f"({sql_left} {op} {sql_right})"

    def _func(self, expr: Func) -> str:
        if expr.name in ("tolower", "toupper"):
            return f"{'lower' if expr.name == 'tolower' else 'upper'}({self.expr(expr.args[0])})"
        if expr.name in ("year", "month", "day"):
            arg = expr.args[0]
            if self.dialect == "postgres":
                prop = self._prop(arg)
                inner = self.expr(arg)
                moment = (prop is not None and prop.edm is Edm.DATETIME) or (
                    isinstance(arg, Value) and isinstance(arg.value, datetime)
                )
                if moment:
                    inner = f"({inner} AT TIME ZONE 'UTC')"
                return f"CAST(EXTRACT({expr.name.upper()} FROM {inner}) AS BIGINT)"
            start, length = {"year": (1, 4), "month": (6, 2), "day": (9, 2)}[expr.name]
            return f"CAST(substr({self.expr(arg)}, {start}, {length}) AS INTEGER)"
        haystack = self.expr(expr.args[0])
        needle = expr.args[1]
        assert isinstance(needle, Value) and isinstance(needle.value, str)
        text = needle.value
        # Plain string functions, never LIKE: a '%' or '_' in the literal is just a character.
        if self.dialect == "postgres":
            if expr.name == "contains":
                return f"(strpos({haystack}, {self.p.add(text)}) > 0)"
            side = "left" if expr.name == "startswith" else "right"
            return f"({side}({haystack}, {len(text)}) = {self.p.add(text)})"
        if expr.name == "contains":
            return f"(instr({haystack}, {self.p.add(text)}) > 0)"
        if not text:
            return f"({haystack} IS NOT NULL)"
        first = "1" if expr.name == "startswith" else f"-{len(text)}"
        return f"(substr({haystack}, {first}, {len(text)}) = {self.p.add(text)})"


# --- whole statements ----------------------------------------------------------------------


def paths_of(query: Query) -> list[Path]:
    """Every path the query names (filters, order, grouping, aggregates)."""
    found: list[Path] = [item.path for item in query.orderby]
    exprs: list[Expr] = [] if query.filter is None else [query.filter]
    for step in query.apply:
        if isinstance(step, FilterStep):
            exprs.append(step.expr)
        elif isinstance(step, GroupBy):
            found += step.paths
        elif isinstance(step, ComputeStep):
            exprs += [item.expr for item in step.items]
        aggregates = step.aggregates if isinstance(step, GroupBy | AggregateStep) else ()
        found += [agg.source for agg in aggregates if agg.source is not None]
    computed = computed_of(query)
    found = [path for path in found if path.segments != (path.text,) or path.text not in computed]
    stack = list(exprs)
    while stack:
        node = stack.pop()
        if isinstance(node, Path):
            found.append(node)
        elif isinstance(node, Compare | BoolOp):
            stack += [node.left, node.right]
        elif isinstance(node, Not):
            stack.append(node.operand)
        elif isinstance(node, Func):
            stack += list(node.args)
    return found


def _from(
    entity_set: EntitySet, query: Query, ctx: Context, p: Params,
    source: Callable[[Params], str] | None = None,
) -> str:
    text = f"FROM ({base_sql(entity_set, ctx, p, source)}) r"
    joined: set[str] = set()
    for path in paths_of(query):
        if len(path.segments) != 2 or path.segments[0] in joined:
            continue
        nav_name = path.segments[0]
        joined.add(nav_name)
        nav = entity_set.navigation(nav_name)
        assert nav is not None
        target = MODEL[nav.target]
        alias = f"n_{nav_name}"
        text += (
            f" LEFT JOIN ({base_sql(target, ctx, p)}) {alias} ON {alias}.{_q(target.key)} = r.{_q(nav.local)}"
        )
        hidden = visible_rows(target, ctx.viewer)
        if hidden is not None:
            text += f" AND {Compiler(target, ctx, p, root=alias).expr(hidden)}"
    return text


def _where(entity_set: EntitySet, query: Query, ctx: Context, p: Params, root: str = "r") -> list[str]:
    compiler = Compiler(entity_set, ctx, p, root)
    conditions = []
    hidden = visible_rows(entity_set, ctx.viewer)
    if hidden is not None:
        conditions.append(compiler.expr(hidden))
    if query.filter is not None:
        conditions.append(compiler.expr(query.filter))
    conditions += [compiler.expr(step.expr) for step in query.apply if isinstance(step, FilterStep)]
    return conditions


def order_of(entity_set: EntitySet, query: Query) -> list[OrderItem]:
    """The order rows come in: the asked order, then the key (keyset paging needs a total order)."""
    items = list(query.orderby) or [OrderItem(Path((name,))) for name in entity_set.default_order]
    if not any(i.path.segments == (entity_set.key,) for i in items):
        items.append(OrderItem(Path((entity_set.key,))))
    return items


def _plain(entity_set: EntitySet, order: list[OrderItem]) -> bool:
    """Whether the order is of non-null properties of the set itself, all one way: then
    its keyset is one row comparison and its ORDER BY an index's order."""
    return len({i.descending for i in order}) == 1 and all(
        len(i.path.segments) == 1 and not resolve(entity_set, i.path).nullable for i in order
    )


def _after(
    entity_set: EntitySet, order: list[OrderItem], after: tuple[Any, ...], ctx: Context, p: Params,
    root: str = "r",
) -> str:
    """Rows strictly after ``after`` in ``order`` (ascending: NULLs first; descending: last)."""
    if _plain(entity_set, order):
        # (a, b) > (x, y): what a (tenant, a, b) index answers as a range (the OR form below
        # is the same rows, but PostgreSQL scans the whole tenant for it).
        cols = ", ".join(column(item.path, root) for item in order)
        values = ", ".join(_raw(p, value, ctx) for value in after)
        return f"(({cols}) {'<' if order[0].descending else '>'} ({values}))"
    alternatives = []
    for i, item in enumerate(order):
        col, value = column(item.path, root), after[i]
        if item.descending and value is None:
            # Nothing sorts after NULL when NULLs come last. Decided before the earlier
            # columns' values are added: each added value is a placeholder the text must use.
            continue
        parts = []
        for prior, prior_value in zip(order[:i], after[:i], strict=True):
            prior_col = column(prior.path, root)
            parts.append(f"{prior_col} IS NULL" if prior_value is None
                         else f"{prior_col} = {_raw(p, prior_value, ctx)}")
        if item.descending:
            parts.append(f"({col} < {_raw(p, value, ctx)} OR {col} IS NULL)")
        else:
            parts.append(f"{col} IS NOT NULL" if value is None else f"{col} > {_raw(p, value, ctx)}")
        alternatives.append("(" + " AND ".join(parts) + ")")
    return "(" + (" OR ".join(alternatives) or "1 = 0") + ")"


def _raw(p: Params, value: Any, ctx: Context) -> str:
    placeholder = p.add(value)
    if ctx.dialect == "postgres" and isinstance(value, str):
        return f"CAST({placeholder} AS TEXT)"
    return placeholder


def _order_sql(entity_set: EntitySet, order: list[OrderItem], root: str = "r") -> str:
    # A non-null property's NULLS clause is left out: the same order, and the one an index has.
    def way(item: OrderItem) -> str:
        nullable = len(item.path.segments) > 1 or resolve(entity_set, item.path).nullable
        if item.descending:
            return "DESC NULLS LAST" if nullable else "DESC"
        return "ASC NULLS FIRST" if nullable else "ASC"

    return ", ".join(f"{column(i.path, root)} {way(i)}" for i in order)


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
    conditions = _where(entity_set, query, ctx, p, root="q")
    if after is not None:
        conditions.append(_after(entity_set, order, after, ctx, p, root="q"))
    if conditions:
        text += " WHERE " + " AND ".join(conditions)
    return text + f" ORDER BY {_order_sql(entity_set, order, 'q')}"


def _page_first(
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
    budgets, rates and approval weeks it has in memory (``reader.py``). None when the query
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


def rows_sql(
    entity_set: EntitySet, query: Query, ctx: Context, *, after: tuple[Any, ...] | None, limit: int, skip: int
) -> Statement:
    """A page of rows: every property, then the order's values as ``_k0…``."""
    p = Params()
    order = order_of(entity_set, query)
    keys = ", ".join(f"{column(item.path)} AS _k{i}" for i, item in enumerate(order))
    source = _page_first(entity_set, query, ctx, order, after, limit + skip)
    text = f"SELECT r.*, {keys} {_from(entity_set, query, ctx, p, source)}"
    conditions = _where(entity_set, query, ctx, p)
    if after is not None:
        conditions.append(_after(entity_set, order, after, ctx, p))
    if conditions:
        text += " WHERE " + " AND ".join(conditions)
    text += f" ORDER BY {_order_sql(entity_set, order)} LIMIT {int(limit)}"
    if skip:
        text += f" OFFSET {int(skip)}"
    return Statement(text, tuple(p.values))


def count_sql(entity_set: EntitySet, query: Query, ctx: Context) -> Statement:
    p = Params()
    text = f"SELECT COUNT(*) AS n {_from(entity_set, query, ctx, p)}"
    conditions = _where(entity_set, query, ctx, p)
    if conditions:
        text += " WHERE " + " AND ".join(conditions)
    return Statement(text, tuple(p.values))


def _aggregate_sql(agg: Aggregate) -> str:
    if agg.source is None:
        return "COUNT(*)"
    col = column(agg.source)
    if agg.method == "countdistinct":
        return f"COUNT(DISTINCT {col})"
    return f"{ {'sum': 'SUM', 'min': 'MIN', 'max': 'MAX', 'average': 'AVG'}[agg.method] }({col})"


def grouped_sql(
    entity_set: EntitySet, query: Query, ctx: Context
) -> tuple[Statement, list[Path], list[Aggregate]]:
    """$apply's groupby/aggregate: ``_g0…`` the grouped values, ``_a0…`` the aggregates."""
    p = Params()
    step = next(s for s in query.apply if isinstance(s, GroupBy | AggregateStep))
    paths = list(step.paths) if isinstance(step, GroupBy) else []
    aggregates = list(step.aggregates)
    # compute(…)'s properties as their SQL; validation let only date parts of a property
    # through, so compiling them binds no parameter (the text's parameter order is unchanged).
    compiler = Compiler(entity_set, ctx, p)
    computed = {alias: compiler.expr(item.expr) for alias, item in computed_of(query).items()}
    assert not p.values

    def grouped(path: Path) -> str:
        return computed.get(path.text) or column(path)

    columns = [f"{grouped(path)} AS _g{i}" for i, path in enumerate(paths)]
    columns += [f"{_aggregate_sql(agg)} AS _a{i}" for i, agg in enumerate(aggregates)]
    text = f"SELECT {', '.join(columns)} {_from(entity_set, query, ctx, p)}"
    conditions = _where(entity_set, query, ctx, p)
    if conditions:
        text += " WHERE " + " AND ".join(conditions)
    if paths:
        text += " GROUP BY " + ", ".join(grouped(path) for path in paths)
    names = {path.text: f"_g{i}" for i, path in enumerate(paths)}
    names |= {agg.alias: f"_a{i}" for i, agg in enumerate(aggregates)}
    order = [
        f"{names[i.path.text]} {'DESC NULLS LAST' if i.descending else 'ASC NULLS FIRST'}"
        for i in query.orderby
    ]
    order += [f"_g{i} ASC NULLS FIRST" for i in range(len(paths))]
    if order:
        text += " ORDER BY " + ", ".join(order)
    if query.top is not None:
        text += f" LIMIT {int(query.top)}"
    elif query.skip:
        text += " LIMIT -1" if ctx.dialect == "sqlite" else " LIMIT ALL"
    if query.skip:
        text += f" OFFSET {int(query.skip)}"
    return Statement(text, tuple(p.values)), paths, aggregates


def targets_sql(target: EntitySet, keys: list[Any], ctx: Context) -> Statement:
    """The rows of ``target`` with these keys that the viewer may see (for $expand)."""
    p = Params()
    text = f"SELECT r.* FROM ({base_sql(target, ctx, p)}) r"
    placeholders = ", ".join(_bind(p, target.key_property, key, ctx.dialect) for key in keys)
    conditions = [f"r.{_q(target.key)} IN ({placeholders})"]
    hidden = visible_rows(target, ctx.viewer)
    if hidden is not None:
        conditions.append(Compiler(target, ctx, p).expr(hidden))
    return Statement(text + " WHERE " + " AND ".join(conditions), tuple(p.values))
