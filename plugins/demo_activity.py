"""The demo's weeks of work: sprints, a work item tree, budgets, worklogs and approvals.

``stint demo`` loads this into the cloud tenant once (when it has no work items yet), so
every page a newcomer opens shows something: the Time tab a filled week, the Explorer and
the budgets real totals, the approval queue a week waiting. Everything goes through the
same use cases as the API, so the demo obeys the product's rules (locked weeks, budgets,
activity types). Generated from a fixed seed: the same demo on every machine, relative to
today.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.budgets import BudgetDraft
from core.clock import today_in
from core.money import Money
from core.services.activity_types import list_activity_types
from core.services.budgets import DEFAULT_CURRENCY, Targets, add_budget, assign_budget
from core.services.planning import AssigneeChoice, NewWorkItem, create_iteration, create_work_item
from core.services.timesheets import change_week
from core.services.worklog_batches import create_worklogs
from core.services.worklogs import NewWorklog
from core.tenancy import Tenant, User
from core.tracking import week_of

from .stint import Stint

__all__ = ["load_demo_activity"]

SPRINT_DAYS = 14


@dataclass(frozen=True)
class _Item:
    key: str
    title: str
    type: str
    state: str
    parent: str | None = None
    sprint: int | None = None  # 0 previous, 1 current, 2 next
    assignee: str | None = None  # a demo e-mail
    estimate_h: int | None = None
    remaining_h: int | None = None


_ITEMS = (
    _Item("portal", "Customer portal", "Epic", "Active"),
    _Item("signin", "Sign-in and accounts", "Feature", "Active", "portal"),
    _Item("reset", "Reset a forgotten password", "User Story", "Done", "signin", 0, "dev@demo.test", 16, 0),
    _Item("twofactor", "Two-factor sign-in", "User Story", "Active", "signin", 1, "dev@demo.test", 24, 10),
    _Item("totp", "Authenticator app enrolment", "Task", "Active", "twofactor", 1, "dev@demo.test", 12, 4),
    _Item("recovery", "Recovery codes", "Task", "New", "twofactor", 1, "dev@demo.test", 8, 8),
    _Item("billing", "Invoices customers can read", "Feature", "Active", "portal"),
    _Item("pdf", "PDF invoices", "User Story", "Active", "billing", 1, "pm@demo.test", 20, 12),
    _Item("rounding", "Invoice total is off by one cent", "Bug", "Done", "billing", 0, "dev@demo.test", 3, 0),
    _Item("ops", "Operations", "Epic", "Active"),
    _Item("support", "Customer support", "Task", "Active", "ops", None, "admin@demo.test"),
    _Item("meetings", "Team meetings", "Task", "Active", "ops"),
)

#: Who works on what (work item key, activity type, weight), and how long their days are.
_WORK = {
    "dev@demo.test": ((("reset", "Development", 3), ("twofactor", "Development", 3),
                       ("totp", "Development", 4), ("rounding", "Testing", 1),
                       ("meetings", "Meeting", 1)), 7.5),
    "pm@demo.test": ((("pdf", "Design", 3), ("pdf", "Documentation", 2),
                      ("signin", "Project management", 2), ("meetings", "Meeting", 2)), 6.5),
    "admin@demo.test": ((("support", "Support", 3), ("ops", "Project management", 1),
                         ("meetings", "Meeting", 1)), 4.0),
}

_COMMENTS = {
    "Development": ("implementation", "code review fixes", "pairing", "refactoring"),
    "Testing": ("regression tests", "reproduced and verified"),
    "Design": ("mock-ups", "layout review"),
    "Documentation": ("help page", "release notes"),
    "Meeting": ("daily stand-up", "sprint planning", "retrospective"),
    "Support": ("customer tickets", "answered questions"),
    "Project management": ("backlog grooming", "status report"),
}


def _sprint_starts(today: date) -> list[date]:
    """Three two-week sprints: the one before, the current one (holding today), the next."""
    monday = today - timedelta(days=today.weekday())
    current = monday - timedelta(days=7) if monday.isocalendar()[1] % 2 else monday
    return [current - timedelta(days=SPRINT_DAYS), current, current + timedelta(days=SPRINT_DAYS)]


def _days(today: date) -> list[date]:
    """The weekdays of the three weeks before this one, and this week's up to yesterday."""
    first = today - timedelta(days=today.weekday() + 21)
    every = [first + timedelta(days=n) for n in range((today - first).days)]
    return [day for day in every if day.weekday() < 5]


def _worklogs_of(rng: random.Random, email: str, days: list[date], zone: ZoneInfo, items: dict[str, int],
                 activity_ids: dict[str, str]) -> list[NewWorklog]:
    plan, hours = _WORK[email]
    made = []
    for day in days:
        left = int(hours * 4) + rng.choice((-2, -1, 0, 0, 1))  # in quarter hours
        start = datetime.combine(day, time(9, rng.choice((0, 15, 30))), tzinfo=zone)
        while left > 0:
            key, activity, _ = rng.choices(plan, weights=[w for _, _, w in plan])[0]
            quarters = min(left, rng.choice((2, 3, 4, 6, 8)))
            billable = activity not in ("Meeting", "Project management") and key not in ("meetings", "ops")
            made.append(NewWorklog(
                started_at=start, length_s=quarters * 900,
                billable_length_s=quarters * 900 if billable else 0,
                work_item=str(items[key]), comment=rng.choice(_COMMENTS[activity]),
                activity_type_id=activity_ids[activity],
            ))
            start += timedelta(minutes=quarters * 15 + rng.choice((0, 0, 15, 30)))
            left -= quarters
    return made


async def load_demo_activity(stint: Stint, tenant: Tenant, users: dict[str, User]) -> bool:
    """Fill ``tenant`` with the demo's work; False (and nothing done) when it has work items."""
    async with stint.uow() as work:
        if await work.tenant(tenant.id).work_items().parents():
            return False
    uow, clock, devops = stint.uow, stint.clock, stint.devops.store
    today = today_in(clock, tenant.time_zone)
    zone = ZoneInfo(tenant.time_zone)
    admin = users["admin@demo.test"]

    sprints = []
    for n, start in enumerate(_sprint_starts(today), start=11):
        sprints.append(await create_iteration(uow, clock, devops, tenant=tenant, path=f"Portal\\Sprint {n}",
                                              start=start, finish=start + timedelta(days=SPRINT_DAYS - 1)))
    ids: dict[str, int] = {}
    for item in _ITEMS:
        view = await create_work_item(uow, clock, devops, tenant=tenant, new=NewWorkItem(
            title=item.title, type=item.type, state=item.state,
            parent_id=ids[item.parent] if item.parent else None,
            iteration_id=sprints[item.sprint].id if item.sprint is not None else None,
            assigned_to=AssigneeChoice(user_id=users[item.assignee].id) if item.assignee else None,
            original_estimate_h=Decimal(item.estimate_h) if item.estimate_h is not None else None,
            remaining_h=Decimal(item.remaining_h) if item.remaining_h is not None else None,
        ))
        ids[item.key] = view.item.id

    portal = await add_budget(uow, clock, tenant=tenant, actor=admin, draft=_budget(
        "Customer portal (fixed price)", customer="Northwind Traders", hours=160, rate=12_000, amount=None))
    await assign_budget(uow, clock, tenant=tenant, actor=admin, budget_id=portal.id,
                        targets=Targets(work_items=[ids["portal"]]))
    support = await add_budget(uow, clock, tenant=tenant, actor=admin, draft=_budget(
        "Support retainer", customer="Contoso", hours=None, rate=9_000, amount=500_000))
    await assign_budget(uow, clock, tenant=tenant, actor=admin, budget_id=support.id,
                        targets=Targets(work_items=[ids["support"]]))

    activity_ids = {entry.name: entry.id for entry in await list_activity_types(uow, tenant=tenant)}
    rng = random.Random(2026)
    days = _days(today)
    lines = [(users[email].id, new) for email in _WORK
             for new in _worklogs_of(rng, email, days, zone, ids, activity_ids)]
    await create_worklogs(uow, clock, tenant=tenant, actor=admin, worklogs=lines, may_add_for_others=True)

    # Dana's weeks: two weeks ago approved (locked), last week waiting for approval.
    dana = users["dev@demo.test"]
    two_weeks_ago, last_week = week_of(today - timedelta(days=14)), week_of(today - timedelta(days=7))
    for week in (two_weeks_ago, last_week):
        await change_week(uow, clock, tenant=tenant, actor=dana, owner_id=dana.id, week=week, action="submit")
    await change_week(uow, clock, tenant=tenant, actor=admin, owner_id=dana.id, week=two_weeks_ago,
                      action="approve")
    return True


def _budget(name: str, *, customer: str, hours: int | None, rate: int, amount: int | None) -> BudgetDraft:
    return BudgetDraft(
        name=name, customer=customer, limit_s=hours * 3600 if hours is not None else None,
        hourly_rate=Money(rate, DEFAULT_CURRENCY),
        amount=Money(amount, DEFAULT_CURRENCY) if amount is not None else None,
    )
