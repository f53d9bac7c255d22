"""The Reports page's widgets (issue #19): one read model per widget, every total from the
explorer's one query path.

Every sum of worklogs here is :func:`core.services.explorer_grouping.group_explored_many` — the grouped
statement in SQL that the explorer's ``group_by`` answers with (its filters, its budget
resolution, its one rounding per worklog) — never a second way of adding worklogs up:

- **Time by** user, activity type, budget and day: one level each; by work item type: the
  work item level, rolled up to each item's type here (O(groups)). Non-billable is
  ``tracked - billable``.
- **Estimates vs. actual**: the same work item level, rolled up over descendants
  (:func:`core.reporting.rollup.with_descendants`), beside the mirror's Original Estimate and
  Completed Work summed over the same subtrees.
- **Chargeback**: the budget × month levels (months in the tenant's zone, as the budgets'
  monthly statement counts them; the tests hold the two equal).
- **Budget burn**: the budget level over all time (a limit is for the budget's life, not the
  filter's dates), with the projection at the current rate (:func:`project_end`).
- **Expected vs. tracked**: the user level beside ``core.working_hours.expected_minutes``.

Who sees what is decided here, not in a template: a viewer who may not see everyone's time
(Team) gets every widget over their own worklogs only, whatever users the filter names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.budgets import Resolver
from core.clock import Clock
from core.errors import ValidationFailed
from core.reporting.rollup import with_descendants
from core.tenancy import Tenant
from core.tracking.explorer import GroupBy, WorklogGroup
from core.unit_of_work import UnitOfWorkFactory
from core.work_items import WorkItem
from core.working_hours import DEFAULT_WORKING_HOURS, expected_minutes

from .explorer import ExplorerFilters
from .explorer_grouping import group_explored_many
from .tracking_common import all_users

__all__ = [
    "ESTIMATED_TYPES",
    "MAX_RANGE_DAYS",
    "BudgetBurn",
    "ChargebackRow",
    "EstimateRow",
    "ExpectedRow",
    "ReportFilters",
    "ReportViewer",
    "Reports",
    "TimeBar",
    "project_end",
    "reports",
]

#: The work item types the estimates widget lists (features and stories of the Agile, Scrum,
#: CMMI and Basic processes); their descendants' figures roll up into them.
ESTIMATED_TYPES = frozenset({"Epic", "Feature", "User Story", "Product Backlog Item", "Requirement", "Issue"})
#: The longest date range a report covers (a year of days is the day chart's limit).
MAX_RANGE_DAYS = 366


@dataclass(frozen=True, slots=True)
class ReportViewer:
    user_id: str
    #: Product, Budget, Administrators: everyone's time. Team: only their own.
    sees_all: bool


@dataclass(frozen=True, slots=True)
class ReportFilters:
    """``start``..``end`` are whole days in the tenant's zone, both included."""

    start: date
    end: date
    iteration: int | None = None
    users: frozenset[str] | None = None
    budget: str | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationFailed("to is on or after from", field="to")
        if (self.end - self.start).days >= MAX_RANGE_DAYS:
            raise ValidationFailed(f"a report covers at most {MAX_RANGE_DAYS} days", field="to")


@dataclass(frozen=True, slots=True)
class TimeBar:
    """One bar of a "time by" chart: billable and non-billable seconds, and the amount."""

    key: str
    label: str
    tracked_s: int
    billable_s: int
    amount: int

    @property
    def non_billable_s(self) -> int:
        return self.tracked_s - self.billable_s


@dataclass(frozen=True, slots=True)
class EstimateRow:
    """A feature or story with its descendants: hours are exact (seconds)."""

    id: int
    title: str
    type: str
    estimate_s: int
    completed_s: int
    tracked_s: int

    @property
    def over_s(self) -> int:
        """Tracked beyond the Original Estimate (negative: under it)."""
        return self.tracked_s - self.estimate_s


@dataclass(frozen=True, slots=True)
class BudgetBurn:
    id: str
    name: str
    tracked_s: int
    amount: int
    limit_s: int | None
    amount_limit: int | None
    currency: str
    #: The day the first limit is reached at the rate since the budget's start (None: no
    #: limit, or nothing used yet); a limit already reached projects to today.
    projected_end: date | None


@dataclass(frozen=True, slots=True)
class ChargebackRow:
    budget_id: str
    budget: str
    customer: str | None
    month: str
    billable_s: int
    amount: int


@dataclass(frozen=True, slots=True)
class ExpectedRow:
    user_id: str
    name: str
    expected_s: int
    tracked_s: int


@dataclass(frozen=True, slots=True)
class Reports:
    filters: ReportFilters
    currency: str
    time_by: dict[str, list[TimeBar]]
    estimates: list[EstimateRow]
    burn: list[BudgetBurn]
    chargeback: list[ChargebackRow]
    expected: list[ExpectedRow]
    #: Filter choices: id → name.
    users: dict[str, str] = field(default_factory=dict)
    iterations: dict[int, str] = field(default_factory=dict)
    budgets: dict[str, str] = field(default_factory=dict)


def _hours_s(hours: Decimal | None) -> int:
    # Hours carry at most two places, so hours × 3600 is a whole number of seconds.
    return int(hours * 3600) if hours is not None else 0


def project_end(used: int, limit: int, start: date, today: date) -> date | None:
    """When ``used`` reaches ``limit`` at the average daily rate from ``start`` to ``today``
    (both included); the day is rounded up (the limit is reached during it)."""
    if used >= limit:
        return today
    if used <= 0:
        return None
    days = max((today - start).days + 1, 1)
    # (limit - used) / (used / days) more days, rounded up: integer arithmetic, exact.
    more = -(-(limit - used) * days // used)
    return today + timedelta(days=more)


def _bars(groups: Iterable[WorklogGroup], field_name: str, names: dict[str, str]) -> list[TimeBar]:
    out = []
    for group in groups:
        raw = group.key.get(field_name)
        key = "" if raw is None else str(raw)
        out.append(TimeBar(key, names.get(key, key) if key else "(none)", group.tracked_s, group.billable_s,
                           group.amount.amount))
    # By name (days by date: their names are ISO dates), "none" last.
    out.sort(key=lambda bar: (bar.key == "", bar.label.casefold(), bar.key))
    return out


def _estimates(
    items: dict[int, WorkItem], own_tracked: dict[int, int], iteration: int | None,
    on_budget: set[int] | None,
) -> list[EstimateRow]:
    """``on_budget``: with a budget filter, the items that resolve to that budget (only they count)."""
    parents = {item_id: item.parent_id for item_id, item in items.items()}
    counted = {i for i, item in items.items() if (iteration is None or item.iteration_id == iteration)
               and (on_budget is None or i in on_budget)}
    own = {i: (_hours_s(items[i].original_estimate_h), _hours_s(items[i].completed_h)) for i in counted}
    estimates = with_descendants(parents, own)
    tracked = with_descendants(parents, {i: (s, 0) for i, s in own_tracked.items() if i in items})
    rows = [
        EstimateRow(i, item.title, item.type, estimates[i][0], estimates[i][1], tracked[i][0])
        for i, item in items.items() if item.type in ESTIMATED_TYPES
    ]
    rows = [r for r in rows if r.estimate_s or r.completed_s or r.tracked_s]
    rows.sort(key=lambda r: (-r.over_s, r.id))
    return rows


async def reports(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, viewer: ReportViewer, filters: ReportFilters,
) -> Reports:
    """Every widget of the Reports page for ``filters`` as ``viewer`` may see them."""
    zone = ZoneInfo(tenant.time_zone)
    today = clock.now().astimezone(zone).date()
    users = filters.users
    if not viewer.sees_all:
        users = frozenset({viewer.user_id}) if users is None or viewer.user_id in users else frozenset()
    budgets_filter = frozenset({filters.budget}) if filters.budget is not None else None
    start = datetime.combine(filters.start, time(), tzinfo=zone)
    end = datetime.combine(filters.end + timedelta(days=1), time(), tzinfo=zone)
    asked = ExplorerFilters(
        users=users, start=start, end=end, budgets=budgets_filter,
        iterations=frozenset({filters.iteration}) if filters.iteration is not None else None,
    )
    async with uow() as work:
        scope = work.tenant(tenant.id)
        people = await all_users(scope)
        names = {u.id: u.name for u in people}
        kinds = {a.id: a.name for a in await scope.activity_types().all()}
        budgets = await scope.budgets().all()
        iterations = {it.id: it.path for it in await scope.work_items().iterations()}
        item_ids = list(await scope.work_items().parents())
        items = await scope.work_items().many(item_ids) if item_ids else {}
        shown_users = sorted((u for u in people if users is None or u.id in users),
                             key=lambda u: (u.name.casefold(), u.id))
        stored = await scope.working_hours().all()
        on_budget = None
        if filters.budget is not None:
            resolver = Resolver(await scope.budgets().tree(), await scope.budgets().assignments())
            on_budget = {i for i in items if resolver.worklog(None, i).budget_id == filters.budget}
    hours = {u.id: stored.get(u.id) or DEFAULT_WORKING_HOURS for u in shown_users}
    budget_names = {b.id: b.name for b in budgets}
    # Every widget's sums in one unit of work (the rates and assignments read once); the
    # budget burn over the budgets' whole life, the rest over the filter's days.
    lifetime = ExplorerFilters(users=users, budgets=budgets_filter)
    asks = [(asked, (GroupBy.USER,)), (asked, (GroupBy.WORK_ITEM,)), (asked, (GroupBy.BUDGET, GroupBy.MONTH)),
            (asked, (GroupBy.ACTIVITY_TYPE,)), (asked, (GroupBy.DAY,))]
    if budgets:  # the burn's whole-life sums: nothing to draw without a budget
        asks.append((lifetime, (GroupBy.BUDGET,)))
    by_user, by_item, by_budget_month, by_type, by_day, *by_life = await group_explored_many(
        uow, tenant=tenant, time_zone=tenant.time_zone, asks=asks)
    by_budget = by_life[0] if by_life else []
    time_by = {
        "user": _bars(by_user, "user_id", names),
        "activity_type": _bars(by_type, "activity_type_id", kinds),
        "work_item_type": _by_type(by_item, items),
        "budget": _bars(by_budget_month, "budget_id", budget_names),
        "day": _bars(by_day, "day", {}),
    }
    own_tracked = {int(k): g.tracked_s for g in by_item
                   if (k := str(g.key.get("work_item") or "")).isdecimal() and len(k) <= 18}
    chargeback = [
        ChargebackRow(str(group.key["budget_id"]), budget_names.get(str(group.key["budget_id"]), ""),
                      next((b.customer for b in budgets if b.id == group.key["budget_id"]), None),
                      str(month.key["month"]), month.billable_s, month.amount.amount)
        for group in by_budget_month if group.key["budget_id"] is not None
        for month in group.groups or [] if month.billable_s or month.amount.amount
    ]
    used = {str(g.key["budget_id"]): g for g in by_budget if g.key["budget_id"] is not None}
    currency = by_user[0].amount.currency if by_user else (
        next(iter(used.values())).amount.currency if used else "USD")
    burn = []
    for budget in budgets:
        if filters.budget is not None and budget.id != filters.budget:
            continue
        got = used.get(budget.id)
        if got is None and not viewer.sees_all:
            continue  # a Team viewer sees the budgets their own worklogs hit
        tracked, amount = (got.tracked_s, got.amount.amount) if got else (0, 0)
        began = budget.starts_on or budget.created_at.astimezone(zone).date()
        ends = [project_end(tracked, budget.limit_s, began, today)] if budget.limit_s is not None else []
        if budget.amount is not None:
            ends.append(project_end(amount, budget.amount.amount, began, today))
        found = [d for d in ends if d is not None]
        burn.append(BudgetBurn(
            budget.id, budget.name, tracked, amount, budget.limit_s if viewer.sees_all else None,
            budget.amount.amount if budget.amount is not None and viewer.sees_all else None,
            budget.currency or currency, min(found) if found and viewer.sees_all else None,
        ))
    tracked_by_user = {str(g.key["user_id"]): g.tracked_s for g in by_user}
    expected = [
        ExpectedRow(u.id, u.name, expected_minutes(hours[u.id], filters.start, filters.end) * 60,
                    tracked_by_user.get(u.id, 0))
        for u in shown_users
    ]
    return Reports(
        filters=filters, currency=currency, time_by=time_by,
        estimates=_estimates(items, own_tracked, filters.iteration, on_budget), burn=burn,
        chargeback=chargeback, expected=expected,
        users=names if viewer.sees_all else {viewer.user_id: names.get(viewer.user_id, "")},
        iterations=iterations, budgets=budget_names,
    )


def _by_type(by_item: list[WorklogGroup], items: dict[int, WorkItem]) -> list[TimeBar]:
    """The work item level rolled up to each item's type (no item, or one not mirrored: none)."""
    sums: dict[str, list[int]] = {}
    for group in by_item:
        key = str(group.key.get("work_item") or "")
        item = items.get(int(key)) if key.isdecimal() and len(key) <= 18 else None
        kind = item.type if item is not None else ""
        total = sums.setdefault(kind, [0, 0, 0])
        total[0] += group.tracked_s
        total[1] += group.billable_s
        total[2] += group.amount.amount
    order = sorted(sums, key=lambda k: (k == "", k))
    return [TimeBar(k, k or "(none)", *sums[k]) for k in order]
