"""A budget's usage and monthly chargeback statement (SPEC §12): its worklogs found through
the resolution rule, priced through ``core.rates`` (budget rate, then activity type, then
user; one rounding per worklog), every total a sum of rounded lines — so usage and statement
agree to the cent. Who sees what is as in :mod:`core.services.budgets`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from core.budgets import (
    Budget,
    PricedLine,
    Resolver,
    Statement,
    Usage,
    WorklogFact,
    month_window,
    price_lines,
    statement_of,
    usage_of,
)
from core.budgets.ports import BudgetRepository
from core.errors import ValidationFailed
from core.money import Money
from core.rates import RateBook, amount
from core.tenancy import Tenant
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .budgets import DEFAULT_CURRENCY, BudgetViewer, visible_budget
from .rates import rate_book
from .tracking_common import all_users

__all__ = [
    "budget_facts",
    "budget_pricer",
    "budget_statement",
    "budget_usage",
    "check_month",
    "user_names",
]


@dataclass(frozen=True, slots=True)
class _Lines:
    budget: Budget
    lines: list[PricedLine]
    currency: str
    titles: dict[int, str]


async def budget_facts(
    repo: BudgetRepository, budget_id: str, viewer: BudgetViewer,
    start: datetime | None = None, end: datetime | None = None,
) -> list[WorklogFact]:
    """The worklogs of one budget in ``[start, end)`` (a Team viewer's own only).

    Resolution runs over the work items (thousands), not the worklogs (a hundred thousand):
    the items whose worklogs resolve to this budget are found first, and only the period's
    worklogs on them are read (one query), plus the worklogs assigned to it directly.
    """
    assignments = await repo.assignments()
    tree = await repo.tree()
    resolver = Resolver(tree, assignments)
    candidates = set(tree.parents) | set(assignments.work_items)
    items = [item for item in candidates if resolver.worklog(None, item).budget_id == budget_id]
    user_id = None if viewer.sees_all else viewer.user_id
    facts = await repo.facts(start, end, user_id=user_id, work_items=items)
    # A worklog assigned directly to another budget leaves this one ...
    elsewhere = {w for w, b in assignments.worklogs.items() if b != budget_id}
    mine = [f for f in facts if f.id not in elsewhere]
    # ... and one assigned directly to this budget joins it, whatever its work item.
    direct = [w for w, b in assignments.worklogs.items() if b == budget_id]
    if direct:
        seen = {f.id for f in mine}
        for f in await repo.facts(None, None, ids=direct):
            in_period = (start is None or f.started_at >= start) and (end is None or f.started_at < end)
            if f.id not in seen and in_period and user_id in (None, f.user_id):
                mine.append(f)
    return mine


def budget_pricer(
    budget: Budget, book: RateBook, currency: str
) -> Callable[[WorklogFact], tuple[Money | None, Money]]:
    """A worklog's rate and amount in this budget (rate precedence through ``book``, one
    half-even rounding per worklog), memoised: timesheets repeat users, types and lengths."""
    rates: dict[tuple[str, str | None], Money | None] = {}
    # The same billable length at the same rate is the same amount.
    # (Keyed by the rate's minor units: the tenant has one rate currency.)
    amounts: dict[tuple[int, int], Money] = {}
    nothing = Money.zero(currency)

    def pricer(fact: WorklogFact) -> tuple[Money | None, Money]:
        key = (fact.user_id, fact.activity_type_id)
        if key in rates:
            rate = rates[key]
        else:
            rate = rates[key] = book.rate_for(fact.user_id, fact.activity_type_id, budget.hourly_rate)
        if rate is None:
            return None, nothing
        priced = amounts.get((fact.billable_s, rate.amount))
        if priced is None:
            priced = amounts[(fact.billable_s, rate.amount)] = amount(fact.billable_s, rate)
        return rate, priced

    return pricer


async def _lines(
    scope: TenantScope, budget_id: str, viewer: BudgetViewer, start: datetime | None, end: datetime | None,
    *, with_titles: bool = False,
) -> _Lines:
    """The priced lines of one budget in ``[start, end)`` (a Team viewer's own only)."""
    repo = scope.budgets()
    budget = await visible_budget(repo, budget_id, viewer)
    mine = await budget_facts(repo, budget.id, viewer, start, end)
    book = await rate_book(scope)
    currency = budget.currency or book.currency or DEFAULT_CURRENCY
    pricer = budget_pricer(budget, book, currency)
    titles: dict[int, str] = {}
    if with_titles:
        titles = await repo.titles({f.work_item for f in mine if f.work_item is not None})
    return _Lines(budget, price_lines(mine, pricer), currency, titles)


def _hide_left(usage: Usage) -> Usage:
    return replace(usage, left_s=None, amount_left=None)


async def budget_usage(
    uow: UnitOfWorkFactory, *, tenant: Tenant, viewer: BudgetViewer, budget_id: str,
    start: datetime | None, end: datetime | None,
) -> tuple[Budget, Usage]:
    async with uow() as work:
        found = await _lines(work.tenant(tenant.id), budget_id, viewer, start, end)
    usage = usage_of(found.budget, found.lines, found.currency)
    return found.budget, usage if viewer.sees_all else _hide_left(usage)


def check_month(month: str) -> str:
    if len(month) != 7 or month[4] != "-" or not (month[:4].isdigit() and month[5:].isdigit()):
        raise ValidationFailed("month is YYYY-MM", field="month")
    if not 1 <= int(month[5:]) <= 12 or not 1 <= int(month[:4]) <= 9998:
        raise ValidationFailed("month is YYYY-MM with a month from 01 to 12", field="month")
    return month


async def budget_statement(
    uow: UnitOfWorkFactory, *, tenant: Tenant, viewer: BudgetViewer, budget_id: str, month: str,
) -> tuple[Budget, Statement]:
    """The billable lines of one month in the tenant's time zone, with exact totals."""
    zone = ZoneInfo(tenant.time_zone)
    start, end = month_window(check_month(month), zone)
    async with uow() as work:
        found = await _lines(work.tenant(tenant.id), budget_id, viewer, start, end, with_titles=True)
    return found.budget, statement_of(found.budget, month, found.lines, zone, found.titles, found.currency)


async def user_names(uow: UnitOfWorkFactory, *, tenant: Tenant, ids: Sequence[str]) -> dict[str, str]:
    """The names of the tenant's users among ``ids`` (for breakdowns and statement lines)."""
    if not ids:
        return {}
    wanted = set(ids)
    async with uow() as work:
        users = await all_users(work.tenant(tenant.id))
    return {user.id: user.name for user in users if user.id in wanted}
