"""Grouping the team-wide worklog list (the Times Explorer, issue #17; the Reports page's
widgets): the worklogs matching :class:`~core.services.explorer.ExplorerFilters` summed
into groups.

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
from dataclasses import dataclass
from datetime import date
from operator import attrgetter

from core.budgets import Assignments, Resolver, WorkTree
from core.licensing.ports import GenerationCache
from core.rates import RateBook
from core.tenancy import Tenant
from core.tracking.explorer import (
    KEY_NAMES,
    FoldLine,
    GroupBy,
    KeyValue,
    PriceRules,
    TotalsBy,
    WorklogGroup,
    WorklogTotals,
    day_value,
    fold_totals,
)
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .budgets import DEFAULT_CURRENCY, work_item_id
from .explorer import ExplorerFilters, worklog_query
from .rates import cached_rate_book

__all__ = ["group_explored", "group_explored_many"]


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
            query = await worklog_query(scope, tenant, filters)
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
                    item = work_item_id(row.work_item)
                    return tree.iterations.get(item) if item is not None else None
                return iteration
            case GroupBy.BUDGET:
                def budget(row: WorklogTotals) -> KeyValue:
                    return row.direct_budget or resolver.worklog(None, work_item_id(row.work_item)).budget_id
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
