"""What the Times Explorer page shows beside the list the API answers (issue #17): the
choices its filters offer, and each row's columns — user, work item and iteration, budget,
amount, approval state, created and edited — read for one page of worklogs at a time.

The rows are the worklogs :func:`core.services.explorer.explore_worklogs` selected; nothing
here filters or groups (that is the list's, and the API's, and stays in one place).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.activities import ActivityType
from core.budgets import Budget, Resolver
from core.money import Money
from core.tenancy import Tenant, User
from core.tracking import WeekStatus, Worklog, local_day, week_of
from core.tracking.ports import UserWeek
from core.unit_of_work import UnitOfWorkFactory
from core.work_items import Iteration

from .rates import rate_book
from .tracking_common import all_users

__all__ = ["ExplorerChoices", "ExplorerRow", "explorer_choices", "explorer_rows"]


@dataclass(frozen=True, slots=True)
class ExplorerChoices:
    """What the page's filters and bulk actions offer."""

    users: list[User]
    iterations: list[Iteration]
    budgets: list[Budget]
    activity_types: list[ActivityType]


@dataclass(frozen=True, slots=True)
class ExplorerRow:
    worklog: Worklog
    user: str
    work_item_title: str | None
    iteration: str | None
    budget: str | None
    amount: Money | None
    approval: WeekStatus
    created_at: datetime | None
    edited_at: datetime | None


async def explorer_choices(uow: UnitOfWorkFactory, *, tenant: Tenant) -> ExplorerChoices:
    async with uow() as work:
        scope = work.tenant(tenant.id)
        return ExplorerChoices(
            users=sorted(await all_users(scope), key=lambda u: ((u.name or u.email).casefold(), u.id)),
            iterations=sorted(await scope.work_items().iterations(), key=lambda i: (i.path.casefold(), i.id)),
            budgets=await scope.budgets().all(),
            activity_types=await scope.activity_types().all(),
        )


def _item_id(work_item: str | None) -> int | None:
    if work_item is None or not work_item.isdigit() or len(work_item) > 18:
        return None
    return int(work_item)


async def explorer_rows(
    uow: UnitOfWorkFactory, *, tenant: Tenant, worklogs: Sequence[Worklog]
) -> list[ExplorerRow]:
    """One page's rows with every column; each worklog priced once (budget rate, else activity
    type, else user; rounded once), its week's state in its owner's own zone."""
    if not worklogs:
        return []
    async with uow() as work:
        scope = work.tenant(tenant.id)
        repo = scope.tracking()
        names = {u.id: u.name or u.email for u in await all_users(scope)}
        budgets_repo = scope.budgets()
        tree = await budgets_repo.tree()
        resolver = Resolver(tree, await budgets_repo.assignments())
        budgets = {b.id: b for b in await budgets_repo.all()}
        book = await rate_book(scope)
        items = {_item_id(w.work_item) for w in worklogs} - {None}
        found = await scope.work_items().many(sorted(i for i in items if i is not None))
        paths = {i.id: i.path for i in await scope.work_items().iterations()}
        statuses = await repo.week_statuses()
        zones = await repo.time_zones()
        times = await repo.worklog_times([w.id for w in worklogs])
    rows = []
    for worklog in worklogs:
        item = _item_id(worklog.work_item)
        budget_id = resolver.worklog(worklog.id, item).budget_id
        budget = budgets.get(budget_id) if budget_id is not None else None
        iteration = tree.iterations.get(item) if item is not None else None
        week = week_of(local_day(worklog.started_at, zones.get(worklog.user_id) or tenant.time_zone))
        created, edited = times.get(worklog.id, (None, None))
        rows.append(ExplorerRow(
            worklog=worklog,
            user=names.get(worklog.user_id, worklog.user_id),
            work_item_title=found[item].title if item is not None and item in found else None,
            iteration=paths.get(iteration) if iteration is not None else None,
            budget=budget.name if budget is not None else None,
            amount=book.amount_for(worklog.billable_length_s, worklog.user_id, worklog.activity_type_id,
                                   budget.hourly_rate if budget is not None else None),
            approval=statuses.get(UserWeek(worklog.user_id, str(week)), WeekStatus.OPEN),
            created_at=created,
            edited_at=edited if edited != created else None,
        ))
    return rows
