"""Runs Reporting API queries (``plugins/reporting/sql.py``) and shapes their rows as OData
values; seals the paging cursors.

On PostgreSQL a query runs in a transaction of its own (never committed: it only reads)
that starts with ``SET LOCAL statement_timeout``, so a query that would take too long is
cancelled by the server instead of holding a connection. On SQLite it is a read unit of work
(one snapshot).

The exception, the common one (a client paging through worklogs): a workLogs page whose
filter and order name only the worklog's own columns, without ``$expand`` or ``$apply``, on
PostgreSQL. Its rows are read by the index alone, in a read unit of work (no transaction;
each statement carries asyncpg's timeout instead), and completed here from the tenant's
activity types, budgets, rates, assignments, work item tree and week statuses, all read in
one statement: :meth:`PiccoloReporting._worklog_page`. ``tests/integration/
test_reporting_worklog_page.py`` holds it to the joined SQL's values.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache, lru_cache, partial
from typing import Any

import msgspec
from piccolo.engine.base import Engine

from core.budgets import Assignments, Resolver, WorkTree
from core.budgets.model import AssignmentKind
from core.rates.model import amount_minor
from core.reporting.model import MODEL, Edm, EntitySet, Property
from core.reporting.ports import Page
from core.reporting.query import Aggregate, Path, Query, QueryRefused, computed_of, resolve
from core.reporting.rollup import with_descendants
from core.reporting.visibility import Viewer
from core.tracking import parse_week_id
from core.tracking.approval import WeekStatus
from core.tracking.explorer import week_window
from core.tracking.ports import UserWeek
from core.unit_of_work import TenantScope, UnitOfWorkFactory
from plugins.sealing import Sealer, Unsealable
from plugins.storage.plain_sql import Sql, fetch, fetch_records
from plugins.storage.tracking_tables import WorklogRow

from .sql import (
    WORKLOG_ROW_COLUMNS,
    Context,
    Dialect,
    Statement,
    count_sql,
    grouped_sql,
    rows_sql,
    targets_sql,
    worklog_order_positions,
    worklog_rows_sql,
)
from .sql import paths_of as _query_paths

__all__ = ["PiccoloReporting", "SealedCursors"]

#: Sets whose SQL reads the budget maps (directly, or through a navigation to one of them).
_BUDGETED = frozenset({"workLogs", "workLogsWithDeleted", "workItems", "budgets"})
_EXPAND_CHUNK = 500
_MICRO = Decimal("0.000001")
_PART = Property("DatePart", Edm.INT64)


def _convert(prop: Property, raw: Any) -> Any:
    if raw is None:
        return None
    edm = prop.edm
    if edm is Edm.DATETIME:
        when = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    if edm is Edm.DATE:
        return raw if isinstance(raw, date) else date.fromisoformat(str(raw)[:10])
    if edm is Edm.BOOLEAN:
        return bool(raw)
    if edm is Edm.INT64:
        return int(raw)
    if edm is Edm.DECIMAL:
        return _scaled(raw, prop.scale)
    return str(raw)


def _scaled(raw: Any, scale: int) -> Decimal:
    # Stored in hundredths (money, centihours): exact in two places; seconds as hours: six.
    value = Decimal(str(raw)) / scale
    return value.quantize(Decimal("0.01") if scale == 100 else _MICRO)


def _converter(prop: Property) -> Callable[[Any], Any]:
    """:func:`_convert` for one property, the common case first: what asyncpg already gives
    as the answer's type passes as it is (a page is 1,000 rows of 16 values; this is its
    cost in Python)."""
    edm = prop.edm
    if edm is Edm.DATETIME:
        return lambda raw: raw if type(raw) is datetime and raw.tzinfo is UTC else _convert(prop, raw)
    if edm is Edm.INT64:
        return lambda raw: raw if type(raw) is int or raw is None else int(raw)
    if edm is Edm.STRING:
        return lambda raw: raw if type(raw) is str or raw is None else str(raw)
    return partial(_convert, prop)


Shaper = tuple[tuple[str, Callable[[Any], Any]], ...]


@cache
def _shaper(entity_set_name: str, select: tuple[str, ...]) -> Shaper:
    """Each answered property's name and converter, once per set and $select (by name: the
    set's own hash walks every property)."""
    entity_set = MODEL[entity_set_name]
    names = select or tuple(p.name for p in entity_set.properties)
    found = []
    for name in names:
        prop = entity_set.prop(name)
        assert prop is not None
        found.append((name, _converter(prop)))
    return tuple(found)


def _row(entity_set: EntitySet, raw: dict[str, Any], select: Sequence[str] = ()) -> dict[str, Any]:
    return _shaped(_shaper(entity_set.name, tuple(select)), raw)


def _shaped(shaper: Shaper, raw: dict[str, Any]) -> dict[str, Any]:
    return {name: convert(raw.get(name)) for name, convert in shaper}


def _aggregate_value(entity_set: EntitySet, agg: Aggregate, raw: Any) -> Any:
    if agg.source is None or agg.method == "countdistinct":
        return int(raw or 0)
    prop = resolve(entity_set, agg.source)
    if raw is None:
        return None
    if agg.method == "average":
        return (Decimal(str(raw)) / prop.scale).quantize(_MICRO)
    return _convert(prop, raw)


def _put(target: dict[str, Any], path: Path, value: Any) -> None:
    if len(path.segments) == 1:
        target[path.segments[0]] = value
    else:
        target.setdefault(path.segments[0], {})[path.segments[1]] = value


_ROLLED_UP = frozenset({"TrackedLengthWithDescendants", "BillableLengthWithDescendants"})


def _needs_rollup(entity_set: EntitySet, query: Query) -> bool:
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


@dataclass(frozen=True, slots=True)
class _Lookups:
    """What a workLogs page completed in Python reads besides its rows: each activity type's
    (name, rate, currency), budget's (rate, currency), user rate's (amount, currency), the
    tenant's rate currency (None: no rate setting), the work item tree, the direct budget
    assignments and the weeks with a status."""

    types: dict[str, tuple[str, int | None, str | None]]
    budgets: dict[str, tuple[int | None, str | None]]
    users: dict[str, tuple[int, str]]
    currency: str | None
    tree: WorkTree
    assignments: Assignments
    statuses: dict[UserWeek, WeekStatus]


#: :class:`_Lookups`, each part tagged by ``kind``, in the page's own statement (one round
#: trip for a page: :func:`_page_with_lookups`). The tree, the assignments and the week
#: statuses are what ``budgets_repo.tree``, ``.assignments`` and ``tracking_repo.week_statuses``
#: read, the same rows; the tree only when something is assigned to a work item or an
#: iteration (else no worklog gets a budget through it), the users' zones (what
#: ``tracking_repo.time_zones`` reads) only when some week has a status (else no window needs
#: one), and the tenant's zone.
_LOOKUPS = (
    "SELECT 'a' AS kind, id AS a, name AS b, rate_amount AS c, rate_currency AS d, "
    "CAST(NULL AS BIGINT) AS e, CAST(NULL AS BIGINT) AS f FROM activity_type WHERE tenant_id = {} "
    "UNION ALL SELECT 'b', id, NULL, hourly_rate, currency, NULL, NULL FROM budget WHERE tenant_id = {} "
    "UNION ALL SELECT 'u', user_id, NULL, amount, currency, NULL, NULL FROM user_rate WHERE tenant_id = {} "
    "UNION ALL SELECT 'r', NULL, NULL, NULL, currency, NULL, NULL FROM rate_setting WHERE tenant_id = {} "
    "UNION ALL SELECT 's', target, kind, NULL, budget_id, NULL, NULL FROM budget_assignment "
    "WHERE tenant_id = {} "
    "UNION ALL SELECT 'i', NULL, NULL, item_id, NULL, parent_id, iteration_id FROM work_item "
    "WHERE tenant_id = {} AND EXISTS (SELECT 1 FROM budget_assignment WHERE tenant_id = {} "
    "AND kind IN ('work_item', 'iteration')) "
    "UNION ALL SELECT 'w', user_id, week, NULL, status, NULL, NULL FROM week_status "
    "WHERE tenant_id = {} AND status <> 'open' "
    "UNION ALL SELECT 'z', user_id, time_zone, NULL, NULL, NULL, NULL FROM tracking_preference "
    "WHERE tenant_id = {} AND time_zone IS NOT NULL AND EXISTS (SELECT 1 FROM week_status "
    "WHERE tenant_id = {} AND status <> 'open') "
    "UNION ALL SELECT 't', NULL, time_zone, NULL, NULL, NULL, NULL FROM tenant WHERE id = {}"
)
_LOOKUP_TENANTS = _LOOKUPS.count("{}")
_PAGE_WIDTH = len(WORKLOG_ROW_COLUMNS)


def _page_with_lookups(page: Statement, tenant_id: str) -> tuple[Sql, tuple[Any, ...]]:
    """The page's rows, then the lookups' (their worklog columns NULL; a page row's id never
    is). One statement rather than two: a round trip less on every page, and the page and
    what completes it are read in one snapshot. The page's rows keep their order: PostgreSQL
    appends a UNION ALL's parts one after the other, and even a parallel plan keeps each
    part's own rows in order."""
    padding = "CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT), " \
              "CAST(NULL AS TEXT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)"
    nulls = ", ".join(["NULL"] * _PAGE_WIDTH)
    text = f"SELECT p.*, {padding} FROM ({page.text}) p UNION ALL SELECT {nulls}, k.* FROM ({_LOOKUPS}) k"
    return _sql(text), (*page.params, *[tenant_id] * _LOOKUP_TENANTS)


@lru_cache(maxsize=64)
def _sql(text: str) -> Sql:
    # A client paging through worklogs sends the same statement text page after page.
    return Sql(text)

#: A user's week with a status, as UTC instants: (user id, start, end, status).
Window = tuple[str, datetime, datetime, str]

_WORKLOG_NAMES = tuple(prop.name for prop in MODEL["workLogs"].properties)
_UNSET = object()
#: What sql.py's _item_id matches (PostgreSQL's ``~ '^[0-9]{1,18}$'``: ASCII digits only,
#: and no newline before the end, hence fullmatch rather than ``$``).
_ITEM_ID = re.compile(r"[0-9]{1,18}")


class WorklogEntity(msgspec.Struct, gc=False):
    """A workLogs row of every property, as the answer writes it: a JSON object with these
    names in this order, as the dict of :func:`_shaped` would be. A struct rather than a
    dict because a page is a thousand of them: made in about a third of a dict's time and
    encoded in about half (docs/benchmarks.md, "Reporting API"); no cycle can go through
    one (plain values only), so the garbage collector need not track them."""

    Id: str
    UserId: str
    Timestamp: datetime
    PeriodLength: int
    BillableLength: int
    ActivityTypeId: str | None
    ActivityTypeName: str | None
    Comment: str | None
    WorkItemId: int | None
    BudgetId: str | None
    BudgetAssignmentType: str
    Amount: Decimal | None
    Currency: str | None
    CreatedTimestamp: datetime
    EditedTimestamp: datetime
    ApprovalState: str


assert WorklogEntity.__struct_fields__ == _WORKLOG_NAMES, "WorklogEntity has workLogs' properties in order"


def _by_user(windows: list[Window]) -> dict[str, tuple[list[datetime], list[tuple[datetime, str]]]]:
    """Each user's windows by start (a user's weeks never overlap): starts to bisect, and
    each one's end and status."""
    found: dict[str, list[tuple[datetime, datetime, str]]] = {}
    for user, start, end, status in windows:
        found.setdefault(user, []).append((start, end, status))
    out = {}
    for user, found_windows in found.items():
        found_windows.sort()
        out[user] = ([w[0] for w in found_windows], [(w[1], w[2]) for w in found_windows])
    return out


def _completed(
    records: Sequence[Sequence[Any]],
    lookups: _Lookups,
    on_item: Mapping[str, list[str]],
    windows: Mapping[str, tuple[list[datetime], list[tuple[datetime, str]]]],
) -> list[Any]:
    """workLogs' rows (every property, as :class:`WorklogEntity`) of the worklog rows, as
    ``sql._worklogs`` joins them: the activity type's name; the budget assigned to the
    worklog directly, else its work item's (by the resolution map); the rate of the budget,
    else the activity type's, else the user's, and the currency of the rate setting, else of
    where the rate came from in that order (both None without a rate); the status of the
    user's week window the worklog starts in. asyncpg gives the columns as the answer's
    types already (instants in UTC)."""
    types, budgets, users, setting = lookups.types, lookups.budgets, lookups.users, lookups.currency
    direct = lookups.assignments.worklogs
    # (budget, activity type, user) → (type name, rate, currency): a page has few of them.
    priced: dict[tuple[str | None, str | None, str], tuple[str | None, int | None, str | None]] = {}
    # A page repeats its work items and its (billable length, rate) pairs.
    item_ids: dict[str | None, Any] = {}
    amounts: dict[tuple[int, int], Decimal] = {}
    out = []
    for record in records:
        wid, user, started, length, billable, type_id, comment, item, created, updated = record
        budget = direct.get(wid)
        if budget is not None:
            assignment = "DirectlyAssigned"
        else:
            mapped = on_item.get(item) if item is not None else None
            if mapped is not None:
                budget, assignment = mapped[0], mapped[1]
            else:
                assignment = "NoBudget"
        key = (budget, type_id, user)
        price = priced.get(key)
        if price is None:
            price = priced[key] = _price(types.get(type_id) if type_id is not None else None,
                                         budgets.get(budget) if budget is not None else None,
                                         users.get(user), setting)
        name, rate, currency = price
        state = "open"
        if windows:
            found = windows.get(user)
            if found is not None:
                i = bisect_right(found[0], started) - 1
                if i >= 0 and started < found[1][i][0]:
                    state = found[1][i][1]
        item_id = item_ids.get(item, _UNSET)
        if item_id is _UNSET:
            item_id = item_ids[item] = int(item) if item is not None and _ITEM_ID.fullmatch(item) else None
        amount = None
        if rate is not None:
            amount = amounts.get((billable, rate))
            if amount is None:
                # The one rounding rule (core.rates), the SQL path's integers give the same;
                # minor units as hundredths, exactly: what _scaled(…, 100) gives (12.50, 0.00).
                amount = amounts[billable, rate] = Decimal(amount_minor(billable, rate)).scaleb(-2)
        out.append(WorklogEntity(
            wid, user, started, length, billable, type_id, name, comment, item_id, budget, assignment, amount,
            currency, created, updated, state,
        ))
    return out


def _price(
    kind: tuple[str, int | None, str | None] | None,
    spent: tuple[int | None, str | None] | None,
    own: tuple[int, str] | None,
    setting: str | None,
) -> tuple[str | None, int | None, str | None]:
    """The activity type's name, the rate (the budget's, else the type's, else the user's)
    and its currency (the rate setting's, else the budget's, the type's, the user's; None
    without a rate)."""
    rate = None
    if spent is not None and spent[0] is not None:
        rate = spent[0]
    elif kind is not None and kind[1] is not None:
        rate = kind[1]
    elif own is not None:
        rate = own[0]
    currency = None
    if rate is not None:
        currency = setting
        for source in (spent, kind, own):
            if currency is not None:
                break
            if source is not None:
                currency = source[-1]
    return (None if kind is None else kind[0]), rate, currency


def _budget_maps(
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


def _windows(
    statuses: Mapping[UserWeek, WeekStatus], zones: Mapping[str, str], tenant_zone: str
) -> list[Window]:
    """The weeks with a status (open weeks have none) as each user's UTC window."""
    found = []
    for key, status in statuses.items():
        window = week_window(key.user_id, parse_week_id(key.week), zones.get(key.user_id) or tenant_zone)
        found.append((key.user_id, window.start.astimezone(UTC), window.end.astimezone(UTC), status.value))
    return found


def _lookups_of(rows: Sequence[Sequence[Any]]) -> tuple[_Lookups, dict[str, str], str]:
    """:class:`_Lookups` of the rows of :data:`_LOOKUPS`, the users' own zones and the
    tenant's zone."""
    types: dict[str, tuple[str, int | None, str | None]] = {}
    budgets: dict[str, tuple[int | None, str | None]] = {}
    users: dict[str, tuple[int, str]] = {}
    currency = None
    parents: dict[int, int | None] = {}
    iterations: dict[int, int | None] = {}
    on_iterations: dict[int, str] = {}
    on_items: dict[int, str] = {}
    on_worklogs: dict[str, str] = {}
    statuses: dict[UserWeek, WeekStatus] = {}
    zones: dict[str, str] = {}
    zone = "UTC"
    for kind, a, b, c, d, e, f in rows:
        if kind == "u":
            users[a] = (c, d)
        elif kind == "a":
            types[a] = (b, c, d)
        elif kind == "b":
            budgets[a] = (c, d)
        elif kind == "r":
            currency = d
        elif kind == "s":
            if b == AssignmentKind.WORKLOG:
                on_worklogs[a] = d
            elif b == AssignmentKind.WORK_ITEM:
                on_items[int(a)] = d
            elif b == AssignmentKind.ITERATION:
                on_iterations[int(a)] = d
        elif kind == "i":
            parents[int(c)] = None if e is None else int(e)
            iterations[int(c)] = None if f is None else int(f)
        elif kind == "w":
            statuses[UserWeek(a, b)] = WeekStatus(d)
        elif kind == "z":
            zones[a] = b
        elif kind == "t":
            zone = b
    lookups = _Lookups(
        types, budgets, users, currency, WorkTree(parents, iterations),
        Assignments(on_iterations, on_items, on_worklogs), statuses,
    )
    return lookups, zones, zone



class PiccoloReporting:
    """:class:`core.reporting.ReportingReader` on SQLite and PostgreSQL."""

    def __init__(self, uow: UnitOfWorkFactory, engine: Engine[Any], *, timeout_ms: int = 15_000) -> None:
        self._uow = uow
        self._dialect: Dialect = "postgres" if engine.engine_type == "postgres" else "sqlite"
        self.timeout_ms = timeout_ms

    async def _fetch(self, statement: Statement) -> list[dict[str, Any]]:
        return await fetch(WorklogRow, Sql(statement.text), *statement.params)

    async def _context(
        self, scope: TenantScope, tenant_id: str, viewer: Viewer, query: Query, tenant_zone: str
    ) -> Context:
        entity_set = MODEL[query.entity_set]
        touched = {entity_set.name} | {nav.target for nav in entity_set.navigations}
        if not touched & _BUDGETED:
            return Context(tenant_id, viewer, self._dialect)
        tree, _, on_worklogs, on_items = await self._budget_maps(scope)
        rollup = "{}"
        if _needs_rollup(entity_set, query):
            itself = await self._own_totals(tenant_id, viewer)
            totals = with_descendants(tree.parents, itself)
            rollup = json.dumps({str(item): list(pair) for item, pair in totals.items() if pair != (0, 0)})
        windows = "[]"
        if entity_set.name in ("workLogs", "workLogsWithDeleted"):
            windows = self._windows_json(await self._approval_windows(scope, tenant_zone))
        return Context(
            tenant_id, viewer, self._dialect, json.dumps(on_worklogs), json.dumps(on_items), rollup, windows
        )

    async def _budget_maps(
        self, scope: TenantScope
    ) -> tuple[WorkTree, Assignments, dict[str, list[str]], dict[str, list[str]]]:
        budgets = scope.budgets()
        tree = await budgets.tree()
        assignments = await budgets.assignments()
        return (tree, assignments, *_budget_maps(tree, assignments))

    async def _approval_windows(self, scope: TenantScope, tenant_zone: str) -> list[Window]:
        repo = scope.tracking()
        return _windows(await repo.week_statuses(), await repo.time_zones(), tenant_zone)

    def _windows_json(self, windows: list[Window]) -> str:
        """The windows in the text the engine compares timestamps in (SQLite keeps Piccolo's
        ``str`` of UTC)."""
        if self._dialect == "postgres":
            return json.dumps([[user, start.isoformat(), end.isoformat(), status]
                               for user, start, end, status in windows])
        return json.dumps([[user, str(start), str(end), status] for user, start, end, status in windows])

    async def _own_totals(self, tenant_id: str, viewer: Viewer) -> dict[int, tuple[int, int]]:
        """Tracked and billable seconds on each work item itself (the viewer's own time when
        they do not see everyone's)."""
        text = ("SELECT work_item, SUM(length_s) AS tracked, SUM(billable_length_s) AS billable FROM worklog "
                "WHERE tenant_id = {}")
        args: list[Any] = [tenant_id]
        if not viewer.sees_everyone:
            text += " AND user_id = {}"
            args.append(viewer.user_id)
        found: dict[int, tuple[int, int]] = {}
        for row in await self._fetch(Statement(text + " GROUP BY work_item", tuple(args))):
            item = row["work_item"]
            if isinstance(item, str) and item.isdigit() and len(item) <= 18:
                found[int(item)] = (int(row["tracked"] or 0), int(row["billable"] or 0))
        return found

    async def read(
        self,
        tenant_id: str,
        viewer: Viewer,
        query: Query,
        *,
        after: tuple[Any, ...] | None,
        limit: int,
        skip: int,
    ) -> Page:
        try:
            return await self._read(tenant_id, viewer, query, after=after, limit=limit, skip=skip)
        except Exception as exc:
            # PostgreSQL's statement timeout (QueryCanceledError), in any statement of the
            # transaction (the tree and status reads too): a 400 saying so, never a 500;
            # anything else is a bug and stays one.
            if type(exc).__name__ == "QueryCanceledError":
                raise QueryRefused("the query took too long; narrow it with $filter") from None
            raise

    async def _read(
        self,
        tenant_id: str,
        viewer: Viewer,
        query: Query,
        *,
        after: tuple[Any, ...] | None,
        limit: int,
        skip: int,
    ) -> Page:
        entity_set = MODEL[query.entity_set]
        postgres = self._dialect == "postgres"
        if not query.aggregated and not query.expand:
            plain = Context(tenant_id, viewer, self._dialect)
            page = worklog_rows_sql(entity_set, query, plain, after=after, limit=limit + 1, skip=skip)
            if page is not None:
                # A read unit of work (no BEGIN, no ROLLBACK) and one statement: one round trip
                # a page. The statement carries the timeout itself.
                async with self._uow():
                    try:
                        return await self._worklog_page(query, plain, page, limit)
                    except TimeoutError:
                        raise QueryRefused("the query took too long; narrow it with $filter") from None
        async with self._uow(write=postgres) as work:
            if postgres:
                await fetch(WorklogRow, Sql(f"SET LOCAL statement_timeout = {int(self.timeout_ms)}"))
            tenant = await work.directory.tenant_by_id(tenant_id)
            zone = tenant.time_zone if tenant is not None else "UTC"
            ctx = await self._context(work.tenant(tenant_id), tenant_id, viewer, query, zone)
            if query.aggregated:
                return await self._grouped(entity_set, query, ctx)
            rows = await self._fetch(
                rows_sql(entity_set, query, ctx, after=after, limit=limit + 1, skip=skip)
            )
            more = len(rows) > limit
            rows = rows[:limit]
            position = None
            if more and rows:
                last = rows[-1]
                position = tuple(value for name, value in last.items() if name.startswith("_k"))
            count = None
            if query.count:
                count = int((await self._fetch(count_sql(entity_set, query, ctx)))[0]["n"])
            select = [p.segments[0] for p in query.select]
            shaper = _shaper(entity_set.name, tuple(select))
            shaped = [_shaped(shaper, row) for row in rows]
            for expand in query.expand:
                await self._expand(entity_set, expand.navigation, expand.select, rows, shaped, ctx)
        return Page(shaped, count, position)

    async def _worklog_page(self, query: Query, plain: Context, page: Statement, limit: int) -> Page:
        """A workLogs page that names only the worklog's own columns: its rows by the index
        alone (:func:`worklog_rows_sql`: no join, no sort after them, the raw keyset scan's
        statement), completed here with the activity type, budget, amount, currency and
        approval state from what this request read once — by the same rules as the joins of
        ``_worklogs`` in ``sql.py``, which every other query (and ``$count``) still runs."""
        # PostgreSQL only (worklog_rows_sql). No transaction here for SET LOCAL (and the pool
        # keeps sessions as they are: no SET at all): each statement that could be slow
        # carries the timeout, after which asyncpg cancels it on the server.
        timeout = self.timeout_ms / 1000
        statement, params = _page_with_lookups(page, plain.tenant_id)
        found = await fetch_records(WorklogRow, statement, *params, timeout=timeout)
        records = [row[:_PAGE_WIDTH] for row in found if row[0] is not None]
        lookups, zones, zone = _lookups_of([row[_PAGE_WIDTH:] for row in found if row[0] is None])
        on_worklogs, on_items = _budget_maps(lookups.tree, lookups.assignments)
        windows: list[Window] = []
        if lookups.statuses:
            windows = _windows(lookups.statuses, zones, zone)
        more = len(records) > limit
        records = records[:limit]
        position = None
        if more and records:
            position = tuple(records[-1][i] for i in worklog_order_positions(MODEL[query.entity_set], query))
        count = None
        if query.count:
            ctx = Context(plain.tenant_id, plain.viewer, plain.dialect, json.dumps(on_worklogs),
                          json.dumps(on_items), "{}", self._windows_json(windows))
            counted = count_sql(MODEL[query.entity_set], query, ctx)
            found = await fetch_records(WorklogRow, Sql(counted.text), *counted.params, timeout=timeout)
            count = int(found[0][0])
        rows = _completed(records, lookups, on_worklogs, _by_user(windows))
        if query.select:
            names = [path.segments[0] for path in query.select]
            rows = [{name: getattr(row, name) for name in names} for row in rows]
        return Page(rows, count, position)

    async def _expand(
        self,
        entity_set: EntitySet,
        name: str,
        select: Sequence[str],
        rows: list[dict[str, Any]],
        shaped: list[dict[str, Any]],
        ctx: Context,
    ) -> None:
        nav = entity_set.navigation(name)
        assert nav is not None
        target = MODEL[nav.target]
        keys = sorted({row[nav.local] for row in rows if row.get(nav.local) is not None}, key=str)
        found: dict[Any, dict[str, Any]] = {}
        for start in range(0, len(keys), _EXPAND_CHUNK):
            chunk = keys[start : start + _EXPAND_CHUNK]
            for row in await self._fetch(targets_sql(target, chunk, ctx)):
                found[str(row[target.key])] = _row(target, row, select)
        for row, out in zip(rows, shaped, strict=True):
            key = row.get(nav.local)
            out[name] = None if key is None else found.get(str(key))

    async def _grouped(self, entity_set: EntitySet, query: Query, ctx: Context) -> Page:
        statement, paths, aggregates = grouped_sql(entity_set, query, ctx)
        computed = computed_of(query)
        # A computed property is a date part: an Edm.Int64 (compute's alias is a single name).
        kinds = [_PART if path.text in computed else resolve(entity_set, path) for path in paths]
        out = []
        for row in await self._fetch(statement):
            shaped: dict[str, Any] = {}
            for i, path in enumerate(paths):
                _put(shaped, path, _convert(kinds[i], row[f"_g{i}"]))
            for i, agg in enumerate(aggregates):
                shaped[agg.alias] = _aggregate_value(entity_set, agg, row[f"_a{i}"])
            out.append(shaped)
        return Page(out, len(out) if query.count else None, None)


class SealedCursors:
    """:class:`core.reporting.CursorSeal` by AES-GCM under the app's secret keys
    (``plugins/sealing.py``): opaque, and bound to its owner as associated data."""

    def __init__(self, sealer: Sealer) -> None:
        self._sealer = sealer

    def seal(self, owner: str, payload: str) -> str:
        return self._sealer.seal(owner, payload)

    def open(self, owner: str, sealed: str) -> str:
        try:
            return self._sealer.unseal(owner, sealed)
        except (Unsealable, UnicodeDecodeError, ValueError) as exc:
            raise ValueError("the cursor is not valid for this query") from exc
