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

from collections.abc import Sequence
from dataclasses import dataclass

from core.budgets import (
    AssignmentKind,
    Budget,
    BudgetChanges,
    BudgetClosed,
    BudgetDraft,
    Resolution,
    Resolver,
    WorkTree,
    apply_changes,
    create_budget,
)
from core.budgets.ports import BudgetRepository
from core.clock import Clock
from core.errors import NotFound, ValidationFailed
from core.ids import new_id
from core.money import Money
from core.rates import RateCurrencyMismatch
from core.tenancy import Tenant, User
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .audit import actor_of
from .rates import accept_rate

__all__ = [
    "BudgetViewer",
    "Targets",
    "add_budget",
    "assign_budget",
    "budget_resolver",
    "change_budget",
    "ensure_budget_open",
    "get_budget",
    "list_budgets",
    "resolve_work_items",
    "resolve_worklogs",
    "unassign_budget",
    "visible_budget",
    "work_item_id",
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


def work_item_id(work_item: str | None) -> int | None:
    """A worklog's work item as the mirror's integer id (other text names no item)."""
    if work_item is None or not work_item.isdigit() or len(work_item) > 18:
        return None
    return int(work_item)


async def budget_resolver(repo: BudgetRepository) -> Resolver:
    assignments = await repo.assignments()
    if not (assignments.iterations or assignments.work_items or assignments.worklogs):
        # Nothing is assigned: everything is NoBudget, and the tree need not be read.
        return Resolver(WorkTree(), assignments)
    return Resolver(await repo.tree(), assignments)


async def _budgets_hit_by(repo: BudgetRepository, user_id: str) -> set[str]:
    """The budgets a user's own worklogs resolve to (what a Team user may see)."""
    resolver = await budget_resolver(repo)
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


async def visible_budget(repo: BudgetRepository, budget_id: str, viewer: BudgetViewer) -> Budget:
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
        return await visible_budget(work.tenant(tenant.id).budgets(), budget_id, viewer)


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
    items = {item for item in map(work_item_id, work_items) if item is not None}
    if not items:
        return
    repo = scope.budgets()
    # Most tenants have no closed budget: one small query, and no tree to read.
    closed = {budget.id: budget for budget in await repo.all() if not budget.open}
    if not closed:
        return
    resolver = await budget_resolver(repo)
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
        resolver = await budget_resolver(work.tenant(tenant.id).budgets())
    out = {}
    for worklog_id, work_item in worklogs:
        out[worklog_id] = resolver.worklog(worklog_id, work_item_id(work_item))
    return out


async def resolve_work_items(
    uow: UnitOfWorkFactory, *, tenant: Tenant, items: Sequence[int]
) -> dict[int, Resolution]:
    if not items:
        return {}
    async with uow() as work:
        resolver = await budget_resolver(work.tenant(tenant.id).budgets())
    return {item: resolver.work_item(item) for item in items}
