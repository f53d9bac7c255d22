"""The team-wide worklog list and its filters (the Times Explorer, issue #17).

Every filter runs in SQL (``TrackingRepository.explore``). The two that are not columns
of the worklog row are reduced to columns first, from reads of the work item tree that
are O(work items), never O(worklogs):

- ``iterations``: the work items whose own iteration is one of them (the work item
  filter, intersected with any ``work_items`` asked for);
- ``budgets``: the resolution rule (``core.budgets.resolution``) run over the work items
  (as the budget statements do): a worklog resolves to budget B when it is assigned to B
  directly, or when it is on a work item that resolves to B and is not assigned directly
  to another budget. So the query is ``work_item IN (items → B) AND id NOT IN (assigned
  elsewhere) OR id IN (assigned to B)``.

Grouping those worklogs into sums is :mod:`core.services.explorer_grouping`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Generic, TypeVar

from core.budgets import Resolution, Resolver
from core.tenancy import Tenant
from core.tracking import WeekStatus, Worklog, export_rows, parse_week_id
from core.tracking.explorer import PageShape, UserWindow, WorklogQuery, week_window
from core.tracking.ports import UserWeek, WorklogCursor
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .budgets import budget_resolver, work_item_id
from .tracking_common import all_users

T = TypeVar("T")

__all__ = [
    "ExploredPage",
    "ExplorerFilters",
    "explore_page",
    "explore_worklogs",
    "export_explored",
    "worklog_query",
]


@dataclass(frozen=True, slots=True)
class ExplorerFilters:
    """The list's filters as asked (None: not filtered on that)."""

    users: frozenset[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    work_items: frozenset[str] | None = None
    iterations: frozenset[int] | None = None
    budgets: frozenset[str] | None = None
    activity_types: frozenset[str] | None = None
    billable: bool | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    edited_since: datetime | None = None
    descending: bool = False
    #: Worklogs in weeks of these states (a week without a status is ``open``).
    approval: frozenset[WeekStatus] | None = None


async def _approval(
    scope: TenantScope, tenant: Tenant, states: frozenset[WeekStatus], query: WorklogQuery
) -> WorklogQuery:
    """The approval filter as per-user week windows: only weeks that are not open have a
    stored status, so "open" is "in none of the other windows"."""
    repo = scope.tracking()
    statuses = await repo.week_statuses()
    zones = await repo.time_zones()

    def window(key: UserWeek) -> UserWindow:
        return week_window(key.user_id, parse_week_id(key.week), zones.get(key.user_id) or tenant.time_zone)

    if WeekStatus.OPEN in states:
        out = tuple(window(key) for key, status in statuses.items() if status not in states)
        return replace(query, out_windows=out)
    inside = tuple(window(key) for key, status in statuses.items() if status in states)
    return replace(query, in_windows=inside)


async def worklog_query(scope: TenantScope, tenant: Tenant, filters: ExplorerFilters) -> WorklogQuery:
    query = WorklogQuery(
        user_ids=filters.users, start=filters.start, end=filters.end, work_items=filters.work_items,
        activity_type_ids=filters.activity_types, billable=filters.billable,
        created_from=filters.created_from, created_to=filters.created_to,
        edited_since=filters.edited_since, descending=filters.descending,
    )
    if filters.approval is not None:
        query = await _approval(scope, tenant, filters.approval, query)
    if filters.iterations is None and filters.budgets is None:
        return query
    repo = scope.budgets()
    tree = await repo.tree()
    if filters.iterations is not None:
        wanted = filters.iterations
        in_iterations = frozenset(str(item) for item, it in tree.iterations.items() if it in wanted)
        items = in_iterations if query.work_items is None else query.work_items & in_iterations
        query = replace(query, work_items=items)
    if filters.budgets is not None:
        budgets = filters.budgets
        assignments = await repo.assignments()
        resolver = Resolver(tree, assignments)
        candidates = set(tree.parents) | set(assignments.work_items)
        on_items = frozenset(
            str(item) for item in candidates if resolver.worklog(None, item).budget_id in budgets
        )
        query = replace(
            query, budget_items=on_items,
            budget_ids=frozenset(w for w, b in assignments.worklogs.items() if b in budgets),
            not_ids=frozenset(w for w, b in assignments.worklogs.items() if b not in budgets),
        )
    return query


async def explore_worklogs(
    uow: UnitOfWorkFactory, *, tenant: Tenant, filters: ExplorerFilters,
    after: WorklogCursor | None = None, limit: int | None = None,
) -> list[Worklog]:
    """One page of the tenant's worklogs matching ``filters``, by ``(started_at, id)``."""
    async with uow() as work:
        scope = work.tenant(tenant.id)
        query = await worklog_query(scope, tenant, filters)
        return await scope.tracking().explore(query, after=after, limit=limit)


@dataclass(frozen=True, slots=True)
class ExploredPage(Generic[T]):
    """A page of the list: each worklog as the caller's ``shape`` made it (with its work
    item's title), and the budgets the worklogs resolve to."""

    items: list[T]
    #: Each worklog's budget resolution, by worklog id; empty when the tenant assigns no
    #: budget (every worklog is then without one: ``NO_BUDGET``).
    budgets: dict[str, Resolution]


async def explore_page(
    uow: UnitOfWorkFactory, *, tenant: Tenant, filters: ExplorerFilters, shape: PageShape[T],
    after: WorklogCursor | None = None, limit: int,
) -> ExploredPage[T]:
    """The list's hot path: the page (``limit`` worklogs) with its work items' titles and
    whether the tenant assigns any budget, in one statement (``explore_rows``); the budget
    assignments and the tree are read only when the tenant has any (else every worklog is
    without a budget). ``filters`` are in the caller's zone (``cached_user_zone``). Each row
    becomes what ``shape`` makes of it (the answer's item: no :class:`Worklog` in between)."""
    async with uow() as work:
        scope = work.tenant(tenant.id)
        query = await worklog_query(scope, tenant, filters)
        rows = await scope.tracking().explore_rows(query, shape, after=after, limit=limit)
        resolver = await budget_resolver(scope.budgets()) if rows.keys else None
    budgets = {id_: resolver.worklog(id_, work_item_id(item)) for id_, item in rows.keys} if resolver else {}
    return ExploredPage(rows.items, budgets)


async def export_explored(
    uow: UnitOfWorkFactory, *, tenant: Tenant, filters: ExplorerFilters, time_zone: str,
) -> list[dict[str, str]]:
    """The matching worklogs as export rows (core's format, formulas neutralised)."""
    async with uow() as work:
        scope = work.tenant(tenant.id)
        query = await worklog_query(scope, tenant, filters)
        worklogs = await scope.tracking().explore(query)
        emails = {user.id: user.email for user in await all_users(scope)}
    return export_rows(worklogs, emails, time_zone)
