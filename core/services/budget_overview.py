"""What the Budgets pages show: every visible budget with its usage (one read for all of
them), and one budget's burn-down — its tracked time and amount day by day.

These are read models over the same rules as ``core.services.budgets``: the one resolution
rule (:class:`core.budgets.Resolver`), the one precedence of rates
(``RateBook.rate_for``, budget rate first) with one rounding per worklog, and
:func:`core.budgets.usage_of` for the totals, so a budget's row here equals its
``/usage`` answer and the burn-down's last day equals its totals (the tests hold both).
A Team viewer sees only their own lines and no ``left`` figures, as in ``budget_usage``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from core.budgets import Budget, PricedLine, Resolver, Usage, WorklogFact, price_lines, usage_of
from core.budgets.ports import BudgetRepository
from core.clock import Clock
from core.errors import NotFound
from core.rates import RateBook
from core.tenancy import Tenant
from core.unit_of_work import UnitOfWorkFactory

from .budget_usage import budget_facts, budget_pricer
from .budgets import DEFAULT_CURRENCY, BudgetViewer
from .rates import rate_book

__all__ = ["BudgetSummary", "BurnDay", "BurnDown", "budget_burndown", "budgets_overview", "burn_days"]

#: A burn-down longer than this many days shows its last ones (a chart of decades is noise).
MAX_DAYS = 3660


@dataclass(frozen=True, slots=True)
class BudgetSummary:
    budget: Budget
    usage: Usage


@dataclass(frozen=True, slots=True)
class BurnDay:
    """The budget's totals at the end of one day (cumulative from its start)."""

    day: date
    tracked_s: int
    amount: int
    """Minor units of the burn-down's currency."""


@dataclass(frozen=True, slots=True)
class BurnDown:
    budget: Budget
    usage: Usage
    currency: str
    start: date
    end: date
    """The last day of the chart: the budget's end date, else today."""
    today: date
    days: list[BurnDay]
    """One per day from ``start`` to the earlier of today and ``end`` (inclusive)."""
    sees_all: bool
    titles: dict[int, str]
    """The titles of the work items in the usage's breakdown."""


def _currency(budget: Budget, book: RateBook) -> str:
    return budget.currency or book.currency or DEFAULT_CURRENCY


def _price(budget: Budget, facts: Iterable[WorklogFact], book: RateBook, currency: str) -> list[PricedLine]:
    return price_lines(facts, budget_pricer(budget, book, currency))


async def _facts_by_budget(
    repo: BudgetRepository, viewer: BudgetViewer
) -> dict[str, list[WorklogFact]]:
    """Every worklog (a Team viewer's own) grouped by the budget it resolves to."""
    resolver = Resolver(await repo.tree(), await repo.assignments())
    grouped: dict[str, list[WorklogFact]] = {}
    for fact in await repo.facts(None, None, user_id=None if viewer.sees_all else viewer.user_id):
        budget_id = resolver.worklog(fact.id, fact.work_item).budget_id
        if budget_id is not None:
            grouped.setdefault(budget_id, []).append(fact)
    return grouped


def _hide_left(usage: Usage, viewer: BudgetViewer) -> Usage:
    return usage if viewer.sees_all else replace(usage, left_s=None, amount_left=None)


async def budgets_overview(
    uow: UnitOfWorkFactory, *, tenant: Tenant, viewer: BudgetViewer
) -> list[BudgetSummary]:
    """The budgets the viewer may see, by name, each with its usage over all time.

    One read of the tree, the assignments and the worklogs serves every budget (the list
    page would otherwise read all worklogs once per budget). A Team viewer sees the budgets
    their own worklogs hit — exactly those their lines resolve to.
    """
    async with uow() as work:
        scope = work.tenant(tenant.id)
        repo = scope.budgets()
        budgets = await repo.all()
        grouped = await _facts_by_budget(repo, viewer)
        book = await rate_book(scope)
    out = []
    for budget in budgets:
        facts = grouped.get(budget.id, [])
        if not viewer.sees_all and not facts:
            continue
        currency = _currency(budget, book)
        usage = usage_of(budget, _price(budget, facts, book, currency), currency)
        out.append(BudgetSummary(budget, _hide_left(usage, viewer)))
    return out


def burn_days(lines: Iterable[PricedLine], zone: ZoneInfo, start: date, last: date) -> list[BurnDay]:
    """Cumulative tracked seconds and amount at the end of each day ``start..last``.

    Work before ``start`` counts on the first day and work after ``last`` on the last, so
    the last day always carries the whole total (the chart ends where the figures do).
    """
    if last < start:
        last = start
    per_day: dict[date, tuple[int, int]] = {}
    for line in lines:
        day = min(max(line.fact.started_at.astimezone(zone).date(), start), last)
        tracked, money = per_day.get(day, (0, 0))
        per_day[day] = (tracked + line.fact.length_s, money + line.amount.amount)
    out = []
    tracked_total = money_total = 0
    count = (last - start).days + 1
    for offset in range(count):
        day = start + timedelta(days=offset)
        tracked, money = per_day.get(day, (0, 0))
        tracked_total += tracked
        money_total += money
        out.append(BurnDay(day, tracked_total, money_total))
    return out


async def budget_burndown(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, viewer: BudgetViewer, budget_id: str
) -> BurnDown:
    """One budget's usage and its day-by-day totals, in the tenant's time zone.

    The chart runs from the budget's start date (else the day of its first worklog, else
    the day it was created) to its end date (else today); the days are filled up to today.
    """
    zone = ZoneInfo(tenant.time_zone)
    today = clock.now().astimezone(zone).date()
    async with uow() as work:
        scope = work.tenant(tenant.id)
        repo = scope.budgets()
        budget = await repo.get(budget_id)
        facts = [] if budget is None else await budget_facts(repo, budget_id, viewer)
        book = await rate_book(scope)
        titles = await repo.titles({f.work_item for f in facts if f.work_item is not None})
    # A budget a Team user's worklogs do not hit is exactly as absent as one that does not exist.
    if budget is None or (not viewer.sees_all and not facts):
        raise NotFound("there is no such budget")
    currency = _currency(budget, book)
    lines = _price(budget, facts, book, currency)
    usage = _hide_left(usage_of(budget, lines, currency), viewer)
    first_work = min((line.fact.started_at.astimezone(zone).date() for line in lines), default=None)
    start = budget.starts_on or min(first_work or today, budget.created_at.astimezone(zone).date())
    end = budget.ends_on or today
    if end < start:
        end = start
    last = min(today, end)
    if (last - start).days >= MAX_DAYS:
        start = last - timedelta(days=MAX_DAYS - 1)
    return BurnDown(
        budget=budget, usage=usage, currency=currency, start=start, end=end, today=today,
        days=burn_days(lines, zone, start, last), sees_all=viewer.sees_all,
        titles=titles,
    )
