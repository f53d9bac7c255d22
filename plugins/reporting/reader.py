"""Runs Reporting API queries (the statements of ``sql.py``, ``aggregation.py`` and
``worklog_cut.py``) and shapes their rows as OData values (``shaping.py``).

On PostgreSQL a query runs in a transaction of its own (never committed: it only reads)
that starts with ``SET LOCAL statement_timeout``, so a query that would take too long is
cancelled by the server instead of holding a connection. On SQLite it is a read unit of work
(one snapshot).

The exception, the common one (a client paging through worklogs): a workLogs page whose
filter and order name only the worklog's own columns, without ``$expand`` or ``$apply``, on
PostgreSQL. Its rows are read by the index alone, in a read unit of work (no transaction;
each statement carries asyncpg's timeout instead), and completed from the tenant's activity
types, budgets, rates, assignments, work item tree and week statuses, all read in one
statement: :meth:`PiccoloReporting._worklog_page` (``worklog_completion.py``).
``tests/integration/test_reporting_worklog_page.py`` holds it to the joined SQL's values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from piccolo.engine.base import Engine

from core.budgets import Assignments, WorkTree
from core.reporting.model import MODEL, Edm, EntitySet, Property
from core.reporting.ports import Page
from core.reporting.query import Query, QueryRefused, computed_of, resolve
from core.reporting.rollup import with_descendants
from core.reporting.visibility import Viewer
from core.unit_of_work import TenantScope, UnitOfWorkFactory
from plugins.storage.plain_sql import Sql, fetch, fetch_records
from plugins.storage.tracking_tables import WorklogRow

from .aggregation import grouped_sql
from .context_maps import Window, budget_maps, needs_rollup, status_windows
from .shaping import aggregate_value, convert_value, put, row_of, shaped_row, shaper_for
from .sql import count_sql, rows_sql, targets_sql
from .statement import Context, Dialect, Statement
from .worklog_completion import PAGE_WIDTH, by_user, completed_rows, lookups_of, page_with_lookups
from .worklog_cut import worklog_order_positions, worklog_rows_sql

__all__ = ["PiccoloReporting"]


#: Sets whose SQL reads the budget maps (directly, or through a navigation to one of them).
_BUDGETED = frozenset({"workLogs", "workLogsWithDeleted", "workItems", "budgets"})
_EXPAND_CHUNK = 500
_PART = Property("DatePart", Edm.INT64)


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
        if needs_rollup(entity_set, query):
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
        return (tree, assignments, *budget_maps(tree, assignments))

    async def _approval_windows(self, scope: TenantScope, tenant_zone: str) -> list[Window]:
        repo = scope.tracking()
        return status_windows(await repo.week_statuses(), await repo.time_zones(), tenant_zone)

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
            shaper = shaper_for(entity_set.name, tuple(select))
            shaped = [shaped_row(shaper, row) for row in rows]
            for expand in query.expand:
                await self._expand(entity_set, expand.navigation, expand.select, rows, shaped, ctx)
        return Page(shaped, count, position)

    async def _worklog_page(self, query: Query, plain: Context, page: Statement, limit: int) -> Page:
        """A workLogs page that names only the worklog's own columns: its rows by the index
        alone (:func:`worklog_rows_sql`: no join, no sort after them, the raw keyset scan's
        statement), completed here with the activity type, budget, amount, currency and
        approval state from what this request read once — by the same rules as the joins of
        ``_worklogs`` in ``sources.py``, which every other query (and ``$count``) still runs."""
        # PostgreSQL only (worklog_rows_sql). No transaction here for SET LOCAL (and the pool
        # keeps sessions as they are: no SET at all): each statement that could be slow
        # carries the timeout, after which asyncpg cancels it on the server.
        timeout = self.timeout_ms / 1000
        statement, params = page_with_lookups(page, plain.tenant_id)
        found = await fetch_records(WorklogRow, statement, *params, timeout=timeout)
        records = [row[:PAGE_WIDTH] for row in found if row[0] is not None]
        lookups, zones, zone = lookups_of([row[PAGE_WIDTH:] for row in found if row[0] is None])
        on_worklogs, on_items = budget_maps(lookups.tree, lookups.assignments)
        windows: list[Window] = []
        if lookups.statuses:
            windows = status_windows(lookups.statuses, zones, zone)
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
        rows = completed_rows(records, lookups, on_worklogs, by_user(windows))
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
                found[str(row[target.key])] = row_of(target, row, select)
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
                put(shaped, path, convert_value(kinds[i], row[f"_g{i}"]))
            for i, agg in enumerate(aggregates):
                shaped[agg.alias] = aggregate_value(entity_set, agg, row[f"_a{i}"])
            out.append(shaped)
        return Page(out, len(out) if query.count else None, None)
