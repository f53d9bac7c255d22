"""The team-wide worklog list and its grouping (the Times Explorer, issue #17).

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

Grouping sums in SQL (``TrackingRepository.explore_totals``), never reading the worklogs:
the storage splits the matching rows by the columns the levels need (user, work item,
activity type, the budget a worklog is assigned to directly, the day in the caller's zone)
and prices each worklog there (``core.rates``: budget rate, else activity type, else user;
rounded half-even once per worklog; :class:`~core.tracking.explorer.PriceRules`). Here those
subtotals are rolled up into the levels asked for: a work item's iteration and budget, a
day's week and month are functions of what SQL split by, so the roll-up is O(groups).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from operator import attrgetter
from typing import Generic, TypeVar

from core.budgets import Assignments, Resolution, Resolver, WorkTree
from core.licensing.ports import GenerationCache
from core.rates import RateBook
from core.tenancy import Tenant
from core.tracking import WeekStatus, Worklog, export_rows, parse_week_id
from core.tracking.explorer import (
    KEY_NAMES,
    FoldLine,
    GroupBy,
    KeyValue,
    PageShape,
    PriceRules,
    TotalsBy,
    UserWindow,
    WorklogGroup,
    WorklogQuery,
    WorklogTotals,
    day_value,
    fold_totals,
    week_window,
)
from core.tracking.ports import UserWeek, WorklogCursor
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .budgets import DEFAULT_CURRENCY, _resolver
from .rates import cached_rate_book
from .tracking_common import all_users

T = TypeVar("T")

__all__ = [
    "ExploredPage",
    "ExplorerFilters",
    "explore_page",
    "explore_worklogs",
    "export_explored",
    "group_explored",
    "group_explored_many",
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


async def _query(scope: TenantScope, tenant: Tenant, filters: ExplorerFilters) -> WorklogQuery:
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
        query = await _query(scope, tenant, filters)
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
        query = await _query(scope, tenant, filters)
        rows = await scope.tracking().explore_rows(query, shape, after=after, limit=limit)
        resolver = await _resolver(scope.budgets()) if rows.keys else None
    budgets = {id_: resolver.worklog(id_, _item_id(item)) for id_, item in rows.keys} if resolver else {}
    return ExploredPage(rows.items, budgets)


async def export_explored(
    uow: UnitOfWorkFactory, *, tenant: Tenant, filters: ExplorerFilters, time_zone: str,
) -> list[dict[str, str]]:
    """The matching worklogs as export rows (core's format, formulas neutralised)."""
    async with uow() as work:
        scope = work.tenant(tenant.id)
        query = await _query(scope, tenant, filters)
        worklogs = await scope.tracking().explore(query)
        emails = {user.id: user.email for user in await all_users(scope)}
    return export_rows(worklogs, emails, time_zone)


def _item_id(work_item: str | None) -> int | None:
    if work_item is None or not work_item.isdigit() or len(work_item) > 18:
        return None
    return int(work_item)


@dataclass(frozen=True)
class _BudgetPrices:
    """What pricing by budget needs, read once per unit of work."""

    tree: WorkTree
    resolver: Resolver
    assignments: Assignments
    assigned: bool
    prices: PriceRules


async def _budget_prices(scope: TenantScope, book: RateBook, *, with_tree: bool) -> _BudgetPrices:
    """The assignments, the tree (when anything is assigned or iterations are asked for) and
    the budgets' rates, as prices for the grouped statement."""
    budgets = scope.budgets()
    assignments = await budgets.assignments()
    # Nothing assigned: no worklog has a budget (as budgets._resolver), so neither the
    # tree (unless iterations are asked for) nor the budgets' rates need reading.
    assigned = bool(assignments.iterations or assignments.work_items or assignments.worklogs)
    tree = await budgets.tree() if assigned or with_tree else WorkTree()
    resolver = Resolver(tree, assignments)
    budget_rates = {b.id: b.hourly_rate.amount for b in await budgets.all()
                    if b.hourly_rate is not None} if assigned else {}
    # A worklog's budget is its direct assignment, else its work item's; only items whose
    # budget has a rate matter for prices (the filter's candidates: the tree and the
    # items assigned outside it).
    on_items = {}
    for item in set(tree.parents) | set(assignments.work_items):
        budget_id = resolver.worklog(None, item).budget_id
        if budget_id is not None and budget_id in budget_rates:
            on_items[str(item)] = budget_rates[budget_id]
    prices = PriceRules(
        users={user: rate.amount for user, rate in book.users.items()},
        activity_types={kind: rate.amount for kind, rate in book.activity_types.items()},
        direct={w: budget_rates.get(b) for w, b in assignments.worklogs.items()} if on_items or any(
            b in budget_rates for b in assignments.worklogs.values()) else {},
        items=on_items,
    )
    return _BudgetPrices(tree, resolver, assignments, assigned, prices)


#: How long the guess "this tenant assigns budgets" is kept in the decision cache. Only a
#: guess, never trusted (see :func:`group_explored_many`): a stale one costs a statement.
ASSIGNING_TTL_SECONDS = 600


def _assigning_key(tenant_id: str) -> tuple[str, tuple[str, ...]]:
    return f"assigning:{tenant_id}", (f"t:{tenant_id}",)


def _by(
    levels: Sequence[GroupBy], time_zone: str, prices: PriceRules, direct: Mapping[str, str], *,
    assigned: bool,
) -> TotalsBy:
    wanted = set(levels)
    return TotalsBy(
        user=GroupBy.USER in wanted,
        # A budget is a function of the work item only when something is assigned.
        work_item=bool(wanted & {GroupBy.WORK_ITEM, GroupBy.ITERATION}
                       or (assigned and GroupBy.BUDGET in wanted)),
        activity_type=GroupBy.ACTIVITY_TYPE in wanted,
        direct_budget=dict(direct) if GroupBy.BUDGET in wanted else None,
        day_zone=time_zone if wanted & {GroupBy.DAY, GroupBy.WEEK, GroupBy.MONTH} else None,
        week_starts=not wanted & {GroupBy.DAY, GroupBy.MONTH},
        prices=prices,
    )


async def group_explored(
    uow: UnitOfWorkFactory, *, tenant: Tenant, filters: ExplorerFilters, levels: Sequence[GroupBy],
    time_zone: str, cache: GenerationCache | None = None,
) -> list[WorklogGroup]:
    """Every matching worklog summed into groups (days, weeks, months in ``time_zone``)."""
    [groups] = await group_explored_many(
        uow, tenant=tenant, asks=[(filters, levels)], time_zone=time_zone, cache=cache
    )
    return groups


async def group_explored_many(
    uow: UnitOfWorkFactory, *, tenant: Tenant, asks: Sequence[tuple[ExplorerFilters, Sequence[GroupBy]]],
    time_zone: str, cache: GenerationCache | None = None,
) -> list[list[WorklogGroup]]:
    """Several groupings (``asks``: filters and levels each) in one unit of work, each
    :func:`group_explored`'s answer for its filters and levels; the rate book and, when
    needed, the assignments, tree and budgets' rates are read once for all of them (the
    Reports page asks for one per widget).

    The rate book comes from ``cache`` when it holds the tenant's current one
    (:func:`~core.services.rates.cached_rate_book`). A tenant without budget assignments
    (the usual case) is summed in one statement that prices by the rate book alone and
    counts the tenant's assignments in the same snapshot: when it finds any, its sums are
    dropped and the assignments, the tree and the budgets' rates are read and it sums
    again — so a guess about budgets never reaches an amount. What was found is kept in
    ``cache`` as a guess (``assigning:<tenant>``) so that a tenant that assigns budgets is
    not summed twice on every request; without a cache, every grouping tries the one
    statement first."""
    async with uow() as work:
        scope = work.tenant(tenant.id)
        book = await cached_rate_book(scope, tenant.id, cache)
        hint_key, hint_scopes = _assigning_key(tenant.id)
        hint = None if cache is None else await cache.get(hint_key, hint_scopes)
        guessed = bool(hint is not None and hint.value is not None and hint.value.get("a"))
        assigning = guessed
        tracking = scope.tracking()
        plain = PriceRules(
            users={user: rate.amount for user, rate in book.users.items()},
            activity_types={kind: rate.amount for kind, rate in book.activity_types.items()},
        )
        with_tree = any(GroupBy.ITERATION in levels for _, levels in asks)
        priced: _BudgetPrices | None = None
        answers: list[tuple[Sequence[GroupBy], list[WorklogTotals]]] = []
        for filters, levels in asks:
            query = await _query(scope, tenant, filters)
            totals: list[WorklogTotals] | None = None
            if GroupBy.ITERATION not in levels and not assigning:
                totals = await tracking.explore_totals_unassigned(
                    query, _by(levels, time_zone, plain, {}, assigned=False)
                )
                assigning = totals is None
            if totals is None:
                if priced is None:
                    priced = await _budget_prices(scope, book, with_tree=with_tree)
                    assigning = priced.assigned
                totals = await tracking.explore_totals(
                    query, _by(levels, time_zone, priced.prices, priced.assignments.worklogs,
                               assigned=priced.assigned),
                )
            answers.append((levels, totals))
        if cache is not None and hint is not None and (hint.value is None or assigning != guessed):
            await cache.put(hint_key, hint.stamp, {"a": assigning}, ASSIGNING_TTL_SECONDS)
    # Sums from the unassigned statement carry no budget or iteration: an empty tree
    # resolves them alike.
    tree, resolver = (
        (priced.tree, priced.resolver) if priced else (WorkTree(), Resolver(WorkTree(), Assignments()))
    )
    currency = book.currency or DEFAULT_CURRENCY

    def getter(level: GroupBy) -> Callable[[WorklogTotals], KeyValue]:
        """Each row's key value at ``level``: a column (attrgetter, in C) or worked out."""
        match level:
            case GroupBy.USER:
                return attrgetter("user_id")
            case GroupBy.WORK_ITEM:
                return attrgetter("work_item")
            case GroupBy.ACTIVITY_TYPE:
                return attrgetter("activity_type_id")
            case GroupBy.ITERATION:
                def iteration(row: WorklogTotals) -> KeyValue:
                    item = _item_id(row.work_item)
                    return tree.iterations.get(item) if item is not None else None
                return iteration
            case GroupBy.BUDGET:
                def budget(row: WorklogTotals) -> KeyValue:
                    return row.direct_budget or resolver.worklog(None, _item_id(row.work_item)).budget_id
                return budget
            case _:
                # Many rows share a day or week (a month by user and week: users × 5 weeks).
                days: dict[date | None, str] = {}

                def day(row: WorklogTotals) -> KeyValue:
                    found = days.get(row.day)
                    if found is None:
                        assert row.day is not None
                        found = days[row.day] = day_value(level, row.day)
                    return found
                return day

    def lines(levels: Sequence[GroupBy], totals: list[WorklogTotals]) -> list[FoldLine]:
        if len(levels) == 1:
            one = getter(levels[0])
            return [((one(row),), row.tracked_s, row.billable_s, row.amount) for row in totals]
        first, second = (getter(level) for level in levels)
        return [((first(row), second(row)), row.tracked_s, row.billable_s, row.amount) for row in totals]

    return [
        fold_totals(lines(levels, totals), [KEY_NAMES[level] for level in levels], currency)
        for levels, totals in answers
    ]
