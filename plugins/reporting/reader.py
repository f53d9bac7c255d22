"""Runs Reporting API queries (``plugins/reporting/sql.py``) and shapes their rows as OData
values; seals the paging cursors.

On PostgreSQL a query runs in a transaction of its own (never committed: it only reads)
that starts with ``SET LOCAL statement_timeout``, so a query that would take too long is
cancelled by the server instead of holding a connection. On SQLite it is a read unit of work
(one snapshot).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache, partial
from typing import Any

from piccolo.engine.base import Engine

from core.budgets import Resolver
from core.reporting.model import MODEL, Edm, EntitySet, Property
from core.reporting.ports import Page
from core.reporting.query import Aggregate, Path, Query, QueryRefused, computed_of, resolve
from core.reporting.rollup import with_descendants
from core.reporting.visibility import Viewer
from core.tracking import parse_week_id
from core.tracking.explorer import week_window
from core.unit_of_work import TenantScope, UnitOfWorkFactory
from plugins.sealing import Sealer, Unsealable
from plugins.storage.plain_sql import Sql, fetch
from plugins.storage.tracking_tables import WorklogRow

from .sql import Context, Dialect, Statement, count_sql, grouped_sql, rows_sql, targets_sql
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
        budgets = scope.budgets()
        tree = await budgets.tree()
        assignments = await budgets.assignments()
        resolver = Resolver(tree, assignments)
        on_worklogs: dict[str, list[str]] = {}
        on_items: dict[str, list[str]] = {}
        for item in set(tree.parents) | set(assignments.work_items):
            found = resolver.worklog(None, item)
            if found.budget_id is not None:
                on_worklogs[str(item)] = [found.budget_id, found.assignment.value]
            own = resolver.work_item(item)
            if own.budget_id is not None:
                on_items[str(item)] = [own.budget_id, own.assignment.value]
        rollup = "{}"
        if _needs_rollup(entity_set, query):
            itself = await self._own_totals(tenant_id, viewer)
            totals = with_descendants(tree.parents, itself)
            rollup = json.dumps({str(item): list(pair) for item, pair in totals.items() if pair != (0, 0)})
        windows = "[]"
        if entity_set.name in ("workLogs", "workLogsWithDeleted"):
            windows = await self._approval_windows(scope, tenant_zone)
        return Context(
            tenant_id, viewer, self._dialect, json.dumps(on_worklogs), json.dumps(on_items), rollup, windows
        )

    async def _approval_windows(self, scope: TenantScope, tenant_zone: str) -> str:
        """The weeks with a status (open weeks have none) as each user's UTC window, in the
        text the engine compares timestamps in (SQLite keeps Piccolo's ``str`` of UTC)."""
        repo = scope.tracking()
        statuses = await repo.week_statuses()
        zones = await repo.time_zones()
        found = []
        for key, status in statuses.items():
            window = week_window(key.user_id, parse_week_id(key.week), zones.get(key.user_id) or tenant_zone)
            start, end = window.start.astimezone(UTC), window.end.astimezone(UTC)
            if self._dialect == "postgres":
                found.append([key.user_id, start.isoformat(), end.isoformat(), status.value])
            else:
                found.append([key.user_id, str(start), str(end), status.value])
        return json.dumps(found)

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
