"""Budgets (SPEC §12): manage them, assign them, resolve work items and worklogs to them,
and read a budget's usage and monthly chargeback statement.

Who may (docs/budgets.md): the Budget role and Administrators manage (the routes' guard,
``manage_budgets``); Product and above read every budget and every line; a Team user sees
only the budgets their own worklogs resolve to, and in a usage or statement only their own
lines — a Team user's totals cover only their own time, as in reporting (SPEC §14) — with
``hours_left`` / ``amount_left`` withheld, since those would reveal everyone's total.

Amounts come from ``core.rates`` (budget rate, then activity type, then user; one rounding
per worklog) and every total is a sum of rounded lines, so usage and statement agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from core.budgets import (
    AssignmentKind,
    Budget,
    BudgetChanges,
    BudgetClosed,
    BudgetDraft,
    PricedLine,
    Resolution,
    Resolver,
    Statement,
    Usage,
    WorklogFact,
    WorkTree,
    apply_changes,
    create_budget,
    month_window,
    price_lines,
    statement_of,
    usage_of,
)
from core.budgets.ports import BudgetRepository
from core.clock import Clock
from core.errors import NotFound, ValidationFailed
from core.ids import new_id
from core.money import Money
from core.rates import RateBook, RateCurrencyMismatch, amount
from core.tenancy import Tenant, User
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .audit import actor_of
from .rates import accept_rate, rate_book
from .tracking_common import all_users

__all__ = [
    "BudgetViewer",
    "Targets",
    "add_budget",
    "assign_budget",
    "budget_statement",
    "budget_usage",
    "change_budget",
    "check_month",
    "ensure_budget_open",
    "get_budget",
    "list_budgets",
    "resolve_work_items",
    "resolve_worklogs",
    "unassign_budget",
    "user_names",
]

DEFAULT_CURRENCY = "USD"
MAX_TARGETS = 1000
"""At most this many targets of each kind in one assign/unassign call."""


@dataclass(frozen=True, slots=True)
class BudgetViewer:
    """Who asks: ``sees_all`` for Product, Budget and Administrators; Team sees their own."""

    user_id: str
    sees_all: bool


@dataclass(frozen=True, slots=True)
class Targets:
    iterations: Sequence[int] = ()
    work_items: Sequence[int] = ()
    worklogs: Sequence[str] = ()


def _item_id(work_item: str | None) -> int | None:
    """A worklog's work item as the mirror's integer id (other text names no item)."""
    if work_item is None or not work_item.isdigit() or len(work_item) > 18:
        return None
    return int(work_item)


async def _resolver(repo: BudgetRepository) -> Resolver:
    assignments = await repo.assignments()
    if not (assignments.iterations or assignments.work_items or assignments.worklogs):
        # Nothing is assigned: everything is NoBudget, and the tree need not be read.
        return Resolver(WorkTree(), assignments)
    return Resolver(await repo.tree(), assignments)


async def _budgets_hit_by(repo: BudgetRepository, user_id: str) -> set[str]:
    """The budgets a user's own worklogs resolve to (what a Team user may see)."""
    resolver = await _resolver(repo)
    hit = set()
    for fact in await repo.facts(None, None, user_id=user_id):
        budget_id = resolver.worklog(fact.id, fact.work_item).budget_id
        if budget_id is not None:
            hit.add(budget_id)
    return hit


async def list_budgets(uow: UnitOfWorkFactory, *, tenant: Tenant, viewer: BudgetViewer) -> list[Budget]:
    async with uow() as work:
        repo = work.tenant(tenant.id).budgets()
        budgets = await repo.all()
        if viewer.sees_all:
            return budgets
        hit = await _budgets_hit_by(repo, viewer.user_id)
    return [budget for budget in budgets if budget.id in hit]


async def _visible(repo: BudgetRepository, budget_id: str, viewer: BudgetViewer) -> Budget:
    budget = await repo.get(budget_id)
    # A budget a Team user may not see is exactly as absent as one that does not exist.
    hidden = not viewer.sees_all and budget_id not in await _budgets_hit_by(repo, viewer.user_id)
    if budget is None or hidden:
        raise NotFound("there is no such budget")
    return budget


async def get_budget(
    uow: UnitOfWorkFactory, *, tenant: Tenant, viewer: BudgetViewer, budget_id: str
) -> Budget:
    async with uow() as work:
        return await _visible(work.tenant(tenant.id).budgets(), budget_id, viewer)


async def _check_currency(scope: TenantScope, budget: Budget) -> None:
    """A budget's money is in the tenant's one rate currency (its hourly rate is a rate like
    the others, checked and able to fix the currency as the first rate does)."""
    rates = scope.rates()
    if budget.hourly_rate is not None:
        await accept_rate(rates, budget.hourly_rate)
    if budget.amount is not None:
        fixed = await rates.fix_currency(budget.amount.currency)
        if fixed != budget.amount.currency:
            raise RateCurrencyMismatch(
                f"rates of this tenant are in {fixed}, not {budget.amount.currency}", field="amount",
                currency=fixed,
            )


def _money_detail(value: Money | None) -> dict[str, int | str] | None:
    return None if value is None else value.as_dict()


async def add_budget(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User | str, draft: BudgetDraft
) -> Budget:
    budget = create_budget(draft, new_id(), clock.now())
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        await _check_currency(scope, budget)
        await scope.budgets().add(budget)
        await scope.audit().record(actor_of(actor), "budget.added", budget.name, {
            "budget_id": budget.id, "limit_s": budget.limit_s, "amount": _money_detail(budget.amount),
            "hourly_rate": _money_detail(budget.hourly_rate), "open": budget.open,
        }, budget.created_at)
        await work.commit()
    return budget


async def change_budget(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User | str, budget_id: str,
    changes: BudgetChanges,
) -> Budget:
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        repo = scope.budgets()
        before = await repo.get(budget_id)
        if before is None:
            raise NotFound("there is no such budget")
        after = apply_changes(before, changes)
        if after == before:
            return before
        await _check_currency(scope, after)
        now = clock.now()
        await repo.save(after, now)
        changed = sorted(
            name for name in BudgetChanges.__dataclass_fields__
            if getattr(before, name) != getattr(after, name)
        )
        await scope.audit().record(actor_of(actor), "budget.changed", after.name,
                                   {"budget_id": after.id, "fields": changed, "open": after.open}, now)
        await work.commit()
    return after


def _check_sizes(targets: Targets) -> None:
    for name, values in (("iterations", targets.iterations), ("work_items", targets.work_items),
                         ("worklogs", targets.worklogs)):
        if len(values) > MAX_TARGETS:
            raise ValidationFailed(f"at most {MAX_TARGETS} {name} at once", field=name)


def _targets_detail(budget_id: str, targets: Targets) -> dict[str, object]:
    return {"budget_id": budget_id, "iterations": list(targets.iterations),
            "work_items": list(targets.work_items), "worklogs": list(targets.worklogs)}


async def _open_budget(repo: BudgetRepository, budget_id: str) -> Budget:
    budget = await repo.get(budget_id)
    if budget is None:
        raise NotFound("there is no such budget")
    if not budget.open:
        raise BudgetClosed(f"the budget {budget.name!r} is closed", budget_id=budget.id)
    return budget


async def assign_budget(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User | str, budget_id: str,
    targets: Targets,
) -> None:
    """Assign iterations, work items and single worklogs to an open budget; each target that
    had another budget moves to this one. Unknown targets refuse the whole call (422)."""
    _check_sizes(targets)
    async with uow(write=True) as work:
        repo = work.tenant(tenant.id).budgets()
        await _open_budget(repo, budget_id)
        if targets.iterations:
            missing = set(targets.iterations) - await repo.iteration_ids()
            if missing:
                raise ValidationFailed(f"no such iteration: {min(missing)}", field="iterations")
        if targets.work_items:
            missing = set(targets.work_items) - set((await repo.tree()).parents)
            if missing:
                raise ValidationFailed(f"no such work item: {min(missing)}", field="work_items")
        if targets.worklogs:
            missing_logs = set(targets.worklogs) - await repo.existing_worklogs(targets.worklogs)
            if missing_logs:
                raise ValidationFailed(f"no such worklog: {min(missing_logs)}", field="worklogs")
        now = clock.now()
        await repo.assign(budget_id, AssignmentKind.ITERATION, [str(i) for i in targets.iterations], now)
        await repo.assign(budget_id, AssignmentKind.WORK_ITEM, [str(i) for i in targets.work_items], now)
        await repo.assign(budget_id, AssignmentKind.WORKLOG, list(targets.worklogs), now)
        budget = await repo.get(budget_id)
        await work.tenant(tenant.id).audit().record(
            actor_of(actor), "budget.assigned", budget.name if budget else budget_id,
            _targets_detail(budget_id, targets), now,
        )
        await work.commit()


async def unassign_budget(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User | str, budget_id: str,
    targets: Targets,
) -> int:
    """Remove this budget's direct assignments of the targets; how many were removed. A
    closed budget's assignments are frozen as well (409 ``budget_closed``)."""
    _check_sizes(targets)
    async with uow(write=True) as work:
        repo = work.tenant(tenant.id).budgets()
        budget = await _open_budget(repo, budget_id)
        removed = 0
        for kind, ids in (
            (AssignmentKind.ITERATION, [str(i) for i in targets.iterations]),
            (AssignmentKind.WORK_ITEM, [str(i) for i in targets.work_items]),
            (AssignmentKind.WORKLOG, list(targets.worklogs)),
        ):
            removed += await repo.unassign(budget_id, kind, ids)
        await work.tenant(tenant.id).audit().record(
            actor_of(actor), "budget.unassigned", budget.name, _targets_detail(budget_id, targets),
            clock.now(),
        )
        await work.commit()
    return removed


async def ensure_budget_open(
    scope: TenantScope, *work_items: str | None, worklog_id: str | None = None
) -> None:
    """Refuse new worklogs (or a timer start) whose time would go to a closed budget.

    Called inside the caller's unit of work. A new worklog has no direct assignment yet,
    so it resolves through its work item (and that item's iteration) only; a stored one
    moved to another item (``worklog_id``) keeps a direct assignment of its own, which wins.
    """
    items = {item for item in map(_item_id, work_items) if item is not None}
    if not items:
        return
    repo = scope.budgets()
    # Most tenants have no closed budget: one small query, and no tree to read.
    closed = {budget.id: budget for budget in await repo.all() if not budget.open}
    if not closed:
        return
    resolver = await _resolver(repo)
    for item in sorted(items):
        budget = closed.get(resolver.worklog(worklog_id, item).budget_id or "")
        if budget is not None:
            raise BudgetClosed(
                f"work item {item} books to the closed budget {budget.name!r}: it takes no new worklogs",
                budget_id=budget.id, work_item=item,
            )


async def resolve_worklogs(
    uow: UnitOfWorkFactory, *, tenant: Tenant, worklogs: Sequence[tuple[str, str | None]]
) -> dict[str, Resolution]:
    """Each ``(worklog id, work item)``'s resolution (for worklog answers)."""
    if not worklogs:
        return {}
    async with uow() as work:
        resolver = await _resolver(work.tenant(tenant.id).budgets())
    out = {}
    for worklog_id, work_item in worklogs:
        out[worklog_id] = resolver.worklog(worklog_id, _item_id(work_item))
    return out


async def resolve_work_items(
    uow: UnitOfWorkFactory, *, tenant: Tenant, items: Sequence[int]
) -> dict[int, Resolution]:
    if not items:
        return {}
    async with uow() as work:
        resolver = await _resolver(work.tenant(tenant.id).budgets())
    return {item: resolver.work_item(item) for item in items}


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
    budget = await _visible(repo, budget_id, viewer)
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
