"""The keyboard timesheet (the Time tab's grid): which rows a week lists, and writing a cell.

Rows are the week's work items with time, plus the "blue" ones: items InProgress (state
category) and assigned to the user, listed even before any time is on them. Writing a cell
(:func:`write_cell`) decides with :func:`core.tracking.cells.plan_cell` and then goes through
the worklog use cases every other path uses (:mod:`core.services.worklogs`,
:mod:`core.services.worklog_batches`), so the locked weeks, the require-work-item rule, the
plan's limits, budgets and work-item automation apply exactly as on the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from core.clock import Clock
from core.tenancy import Tenant, User
from core.tracking import WeekGrid, WeekId, WorklogChanges, check_day, zone
from core.tracking.cells import AddWorklog, ChangeLength, ClearCell, KeepCell, parse_duration, plan_cell
from core.unit_of_work import UnitOfWorkFactory
from core.work_items import StateCategory, WorkItem
from core.work_items.ports import WorkItemFilter

from .planning import parse_work_item_id
from .tracking_common import user_zone
from .worklog_batches import delete_worklogs
from .worklogs import NewWorklog, add_worklog, delete_worklog, edit_worklog, list_worklogs

__all__ = ["CellWritten", "SheetFilters", "SheetItems", "SheetRow", "sheet_items", "sheet_rows", "write_cell"]

#: How many of a user's assigned items are read to find the InProgress ones.
_ASSIGNED_LIMIT = 500
#: Where a new worklog starts when its day has no time yet (local time).
_DAY_START = time(9, 0)


@dataclass(frozen=True, slots=True)
class SheetItems:
    """What the grid needs to know of work items for one user's week."""

    #: The user's InProgress items, by id as worklogs name them ("42"): the blue rows.
    blue: tuple[str, ...]
    #: Every item the page names (blue ones, rows with time, added rows), by id text.
    items: dict[str, WorkItem]
    #: Ids of the iterations that overlap the week (the "current iteration" filter).
    iterations: frozenset[int]
    #: Whether the tenant lets time go without a work item (the no-item row is offered).
    without_item_allowed: bool


async def sheet_items(
    uow: UnitOfWorkFactory, *, tenant: Tenant, user_id: str, week: WeekId, names: list[str | None]
) -> SheetItems:
    """The blue items of ``user_id``, the items ``names`` (rows with time, added rows) and the
    iterations overlapping ``week``."""
    async with uow() as work:
        scope = work.tenant(tenant.id)
        repo = scope.work_items()
        assigned: list[WorkItem] = []
        cursor: str | None = None
        while len(assigned) < _ASSIGNED_LIMIT:
            page = await repo.find(WorkItemFilter(assigned_to_user=user_id), cursor, 100)
            assigned.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        blue = [item for item in assigned if item.state_category is StateCategory.IN_PROGRESS]
        ids = {int(n) for n in names if n is not None and n.isascii() and n.isdecimal() and len(n) <= 18}
        found = await repo.many(sorted(ids)) if ids else {}
        iterations = await repo.iterations()
        rules = (await scope.tracking().rules()).rules
    items = {str(i): item for i, item in found.items()} | {str(item.id): item for item in blue}
    first, last = week.monday, week.monday + timedelta(days=6)
    overlapping = frozenset(
        it.id for it in iterations
        if it.start is not None and it.finish is not None and it.start <= last and first <= it.finish
    )
    return SheetItems(
        blue=tuple(str(item.id) for item in sorted(blue, key=lambda i: i.id)),
        items=items,
        iterations=overlapping,
        without_item_allowed=rules.tracking_without_work_item,
    )


@dataclass(frozen=True, slots=True)
class CellWritten:
    """What a cell write did: ``added``, ``changed``, ``cleared`` or ``kept``; the new total."""

    outcome: str
    total_s: int


def _local_day(day: date, tz: str) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=zone(tz))
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


async def write_cell(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, day: date,
    work_item: str | None, text: str, confirmed: bool = False,
) -> CellWritten:
    """Make the actor's worklogs on ``day`` for ``work_item`` sum to ``text`` (empty or 0: clear).

    See :mod:`core.tracking.cells` for what happens with one or several worklogs under the cell.
    """
    check_day(day, "day")
    target = parse_duration(text, allow_zero=True) if text.strip() else 0
    item_id = parse_work_item_id(work_item) if work_item else None
    name = None if item_id is None else str(item_id)
    async with uow() as work:
        tz = await user_zone(work.tenant(tenant.id).tracking(), tenant, actor.id)
    start, end = _local_day(day, tz)
    on_day = await list_worklogs(uow, tenant=tenant, user_id=actor.id, start=start, end=end)
    on_day = [w for w in on_day if start <= w.started_at < end]
    current = [w for w in on_day if w.work_item == name]
    plan = plan_cell(current, target, confirmed=confirmed)
    if isinstance(plan, KeepCell):
        return CellWritten("kept", target)
    if isinstance(plan, AddWorklog):
        # After the day's last worklog (the day reads as it was worked), else at 09:00.
        latest = max((w.started_at + timedelta(seconds=w.length_s) for w in on_day), default=None)
        begin = datetime.combine(day, _DAY_START, tzinfo=zone(tz)).astimezone(UTC)
        if latest is not None and begin < latest < end:
            begin = latest
        await add_worklog(
            uow, clock, tenant=tenant, actor=actor, owner_id=actor.id,
            new=NewWorklog(started_at=begin, length_s=plan.length_s, work_item=name),
            may_add_for_others=False,
        )
        return CellWritten("added", target)
    if isinstance(plan, ChangeLength):
        await edit_worklog(
            uow, clock, tenant=tenant, actor=actor, worklog_id=plan.worklog_id,
            changes=WorklogChanges(length_s=plan.length_s), actor_can_edit_others=False,
        )
        return CellWritten("changed", target)
    assert isinstance(plan, ClearCell)
    if len(plan.worklog_ids) == 1:
        await delete_worklog(
            uow, clock, tenant=tenant, actor=actor, worklog_id=plan.worklog_ids[0],
            actor_can_edit_others=False,
        )
    else:
        # All of them or none (a locked day refuses the whole clear).
        await delete_worklogs(
            uow, clock, tenant=tenant, actor=actor, ids=plan.worklog_ids, actor_can_edit_others=False
        )
    return CellWritten("cleared", 0)


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One row of the keyboard grid: a work item (``None``: time without one) and its days."""

    work_item: str | None
    title: str | None
    days_s: tuple[int, ...]
    #: InProgress and assigned to the user: a "blue" row.
    blue: bool

    @property
    def total_s(self) -> int:
        return sum(self.days_s)


@dataclass(frozen=True, slots=True)
class SheetFilters:
    #: Only the items assigned to the user.
    mine: bool = False
    #: Only the items of an iteration overlapping the week.
    current_iteration: bool = False

    @property
    def any(self) -> bool:
        return self.mine or self.current_iteration


def sheet_rows(
    grid: WeekGrid, items: SheetItems, *, user_id: str, filters: SheetFilters, added: tuple[str, ...] = ()
) -> list[SheetRow]:
    """The week's rows with time, the blue rows and the rows the user added (``added``), by
    work item id; the row for time without a work item last. The filters keep only the items
    they describe (and then no row without an item); an added row shows whatever the filters."""
    by_item = {row.work_item: row.days_s for row in grid.rows}
    names: set[str] = {name for name in by_item if name is not None}
    names.update(items.blue)
    names.update(name for name in added if name in items.items)
    blue = set(items.blue)

    def kept(name: str) -> bool:
        if name in added:  # the user asked for this row just now
            return True
        item = items.items.get(name)
        if filters.mine and (item is None or item.assigned_to is None or item.assigned_to.user_id != user_id):
            return False
        return not (filters.current_iteration and (item is None or item.iteration_id not in items.iterations))

    def order(name: str) -> tuple[int, str]:
        return (int(name), name) if name.isdecimal() and len(name) <= 18 else (10**18, name)

    rows = [
        SheetRow(name, items.items[name].title if name in items.items else None,
                 by_item.get(name, (0,) * 7), name in blue)
        for name in sorted(names, key=order) if kept(name)
    ]
    if not filters.any and (items.without_item_allowed or None in by_item):
        rows.append(SheetRow(None, None, by_item.get(None, (0,) * 7), False))
    return rows
