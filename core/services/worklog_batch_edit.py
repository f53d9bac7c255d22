"""Worklogs changed in a batch, all or nothing (issue #17): ``PATCH /worklogs/batch``.

The same values are set on every worklog named. Each one is checked as a single edit
checks it — it exists in the tenant, the actor may change it (the added-by rule of
:func:`core.tracking.ensure_may_edit`, with the caller's one decision on editing others'
time), its week is not locked, its new values are valid for it (a billable length within
its length, the require-work-item rule when the work item or comment is cleared) — and
the budget is assigned as ``POST /budgets/{id}/assign {worklogs}`` assigns it. Every
offending worklog is named with its index, id, code and reason; the answer is as severe
as the worst of them (404, else 403, else 423, else 409, else 422). Only then is every
worklog saved through the tracking repository in the one transaction, and the batch is
audited once with its count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from core.activities import resolve
from core.budgets import AssignmentKind, BudgetClosed
from core.clock import Clock
from core.errors import AccessDenied, Conflict, NotFound, StintError, ValidationFailed, WeekLocked
from core.ids import new_id
from core.tenancy import Tenant, User
from core.tracking import (
    KEEP,
    OthersRights,
    WeekStatus,
    Worklog,
    WorklogChanges,
    check_work_item_rule,
    edit,
    ensure_may_edit,
    ensure_unlocked,
    local_day,
    week_of,
)
from core.tracking.explorer import WorklogQuery
from core.tracking.ports import UserWeek
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .audit import actor_of
from .budgets import ensure_budget_open
from .planning import require_work_item
from .tracking_common import queue_work_item_effects, user_zone
from .worklog_batches import MAX_BATCH

__all__ = ["BatchChanges", "update_worklogs"]


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


LEAVE: Any = _Keep()
"""A :class:`BatchChanges` field the batch leaves as each worklog has it."""


@dataclass(frozen=True, slots=True)
class BatchChanges:
    """What a batch sets on every worklog; fields left at :data:`LEAVE` stay as they are.

    ``billable``: True makes the whole length billable, False none of it (exclusive with
    ``billable_length_s``). ``budget_id`` None removes the worklogs' own budget assignment
    (they resolve through their work item again)."""

    billable: bool | Any = LEAVE
    billable_length_s: int | Any = LEAVE
    activity_type_id: str | Any | None = LEAVE
    budget_id: str | Any | None = LEAVE
    work_item: str | Any | None = LEAVE
    comment: str | Any | None = LEAVE

    def fields(self) -> list[str]:
        """The names of the fields set, for the audit row."""
        return [name for name in ("billable", "billable_length_s", "activity_type_id", "budget_id",
                                  "work_item", "comment") if getattr(self, name) is not LEAVE]


def _line(index: int, worklog_id: str, refused: StintError) -> dict[str, Any]:
    code = refused.reason if isinstance(refused, AccessDenied) else refused.code
    return {"index": index, "id": worklog_id, "code": code, "reason": refused.detail}


def _refusal(lines: list[dict[str, Any]], kinds: set[type[StintError]]) -> StintError:
    detail = f"{len(lines)} of the worklogs cannot be changed; nothing changed"
    if any(issubclass(k, NotFound) for k in kinds):
        return NotFound(detail, errors=lines)
    if any(issubclass(k, AccessDenied) for k in kinds):
        return AccessDenied("not_permitted", detail, errors=lines)
    if any(issubclass(k, WeekLocked) for k in kinds):
        return WeekLocked(detail, errors=lines)
    if any(issubclass(k, Conflict) for k in kinds):
        return BudgetClosed(detail, errors=lines)
    return ValidationFailed(detail, errors=lines)


async def _common_changes(scope: TenantScope, changes: BatchChanges) -> WorklogChanges:
    """The edit every worklog gets but its billable length (which depends on its length):
    the activity type resolved against the catalogue, the work item against the mirror —
    once for the batch; a bad one refuses it whole, naming the field."""
    if changes.billable is not LEAVE and changes.billable_length_s is not LEAVE:
        raise ValidationFailed("set either billable or billable_length_s, not both", field="billable")
    edit_changes = WorklogChanges()
    if changes.activity_type_id is not LEAVE:
        if changes.activity_type_id is None:
            edit_changes = replace(edit_changes, activity_type=None, activity_type_id=None)
        else:
            entry = resolve(await scope.activity_types().all(), activity_type_id=changes.activity_type_id,
                            name=None)
            assert entry is not None  # an id always resolves or is refused
            edit_changes = replace(edit_changes, activity_type=entry.name, activity_type_id=entry.id)
    if changes.work_item is not LEAVE:
        item = None if changes.work_item is None else await require_work_item(
            scope.work_items(), changes.work_item)
        edit_changes = replace(edit_changes, work_item=item)
    if changes.comment is not LEAVE:
        edit_changes = replace(edit_changes, comment=changes.comment)
    return edit_changes


def _billable_change(changes: BatchChanges, worklog: Worklog) -> int | Any:
    if changes.billable is True:
        return worklog.length_s
    if changes.billable is False:
        return 0
    return KEEP if changes.billable_length_s is LEAVE else changes.billable_length_s


async def update_worklogs(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, ids: Sequence[str],
    changes: BatchChanges, actor_can_edit_others: bool | OthersRights,
) -> int:
    """Set ``changes`` on every worklog of ``ids`` or on none; the number of worklogs named."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        raise ValidationFailed("ids names at least one worklog", field="ids")
    if len(wanted) > MAX_BATCH:
        raise ValidationFailed(f"a batch names at most {MAX_BATCH} worklogs", field="ids")
    if not changes.fields():
        raise ValidationFailed("set names at least one field to change", field="set")
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        repo = scope.tracking()
        common = await _common_changes(scope, changes)
        budgets = scope.budgets()
        if isinstance(changes.budget_id, str):
            budget = await budgets.get(changes.budget_id)
            if budget is None:
                raise NotFound("there is no such budget", field="budget_id")
            if not budget.open:
                raise BudgetClosed(f"the budget {budget.name!r} is closed", budget_id=budget.id)
        query = WorklogQuery(ids=frozenset(wanted))
        owners = sorted({w.user_id for w in await repo.explore(query)})
        for owner in owners:  # in one order, so two batches cannot deadlock
            await repo.lock_user(owner)
        found = {w.id: w for w in await repo.explore(query)}  # as of holding the locks
        missing = [_line(i, wid, NotFound("there is no such worklog"))
                   for i, wid in enumerate(wanted) if wid not in found]
        if missing:
            raise _refusal(missing, {NotFound})
        settings = await repo.rules()
        zones = {owner: await user_zone(repo, tenant, owner) for owner in owners}
        # The owners' weeks that are not open, read once each (not one query per worklog).
        weeks: dict[UserWeek, WeekStatus] = {}
        for owner in owners:
            weeks.update(await repo.week_statuses(owner))
        own_budgets = (await budgets.assignments()).worklogs if changes.budget_id is None else {}
        closed = {b.id: b for b in await budgets.all() if not b.open} if own_budgets else {}
        edited: list[tuple[Worklog, Worklog]] = []
        lines: list[dict[str, Any]] = []
        kinds: set[type[StintError]] = set()
        for index, wid in enumerate(wanted):
            before = found[wid]
            try:
                ensure_may_edit(before, actor.id, actor_can_edit_others)
                day = local_day(before.started_at, zones[before.user_id])
                ensure_unlocked(day, weeks.get(UserWeek(before.user_id, str(week_of(day))), WeekStatus.OPEN),
                                settings.lock)
                after = await _checked(scope, actor, before, common, changes, actor_can_edit_others,
                                       settings, closed, own_budgets)
            except StintError as refused:
                lines.append(_line(index, wid, refused))
                kinds.add(type(refused))
                continue
            edited.append((before, after))
        if lines:
            raise _refusal(lines, kinds)
        now = clock.now()
        for before, after in edited:
            if after is not before:
                await repo.save_worklog(after, now)
                await queue_work_item_effects(repo, before, after, now, new_id())
        if isinstance(changes.budget_id, str):
            await budgets.assign(changes.budget_id, AssignmentKind.WORKLOG, wanted, now)
        elif changes.budget_id is None:
            by_budget: dict[str, list[str]] = {}
            for wid in wanted:
                if wid in own_budgets:
                    by_budget.setdefault(own_budgets[wid], []).append(wid)
            for budget_id, targets in sorted(by_budget.items()):
                await budgets.unassign(budget_id, AssignmentKind.WORKLOG, targets)
        await scope.audit().record(actor_of(actor), "worklogs.batch_updated", tenant.id,
                                   {"count": len(wanted), "fields": changes.fields()}, now)
        await work.commit()
    return len(wanted)


async def _checked(
    scope: TenantScope, actor: User, before: Worklog, common: WorklogChanges, changes: BatchChanges,
    actor_can_edit_others: bool | OthersRights, settings: Any, closed: dict[str, Any], own_budgets: Any,
) -> Worklog:
    """One worklog's edit, checked as a single PATCH checks it (raises what it would); its
    week's lock is checked by the caller, from the statuses it read once."""
    after = edit(before, actor.id, replace(common, billable_length_s=_billable_change(changes, before)),
                 actor_can_edit_others=actor_can_edit_others)
    if changes.work_item is not LEAVE or changes.comment is not LEAVE:
        check_work_item_rule(settings.rules, after.work_item, after.comment)
    if after.work_item != before.work_item:
        # Moving time onto a closed budget's work is a new worklog for that budget.
        await ensure_budget_open(scope, after.work_item, worklog_id=after.id)
    direct = own_budgets.get(before.id)
    if direct in closed:
        raise BudgetClosed(f"the worklog is assigned to the closed budget {closed[direct].name!r}",
                           budget_id=direct)
    return after
