"""Worklogs after the fact (SPEC §8): add, edit, delete, list and export (import:
:mod:`core.services.worklog_import`).

Every change checks the locked weeks of the worklog's owner (before and after an
edit), the added-by editing rule, and — for additions — the plan's worklog
limits; and queues the work-item updates it causes in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from core.activities import resolve
from core.clock import Clock, today_in
from core.errors import AccessDenied, NotFound
from core.ids import new_id
from core.tenancy import Tenant, User
from core.tracking import (
    KEEP,
    OthersRights,
    Worklog,
    WorklogChanges,
    WorklogFlag,
    check_work_item_rule,
    covers,
    create_worklog,
    draft_worklog,
    edit,
    ensure_may_edit,
    export_rows,
)
from core.tracking.automation import check_remaining_given
from core.tracking.ports import WorklogCursor
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .budgets import ensure_budget_open
from .planning import require_work_item
from .tracking_common import all_users, check_limits, ensure_day_unlocked, queue_work_item_effects, user_zone

__all__ = [
    "NewWorklog",
    "add_worklog",
    "delete_worklog",
    "edit_worklog",
    "export_worklogs",
    "list_worklogs",
]


@dataclass(frozen=True, slots=True)
class NewWorklog:
    started_at: datetime
    length_s: int
    billable_length_s: int = 0
    work_item: str | None = None
    comment: str | None = None
    activity_type: str | None = None
    #: The work item's new Remaining Work (hours), when the tenant sets it per worklog.
    remaining_h: Decimal | None = None
    #: The catalogue entry by id (wins over ``activity_type``, the entry's name).
    activity_type_id: str | None = None


async def list_worklogs(
    uow: UnitOfWorkFactory, *, tenant: Tenant, user_id: str | None,
    start: datetime | None = None, end: datetime | None = None,
    after: WorklogCursor | None = None, limit: int | None = None,
) -> list[Worklog]:
    """Oldest first by ``(started_at, id)``; ``after`` and ``limit`` page through them."""
    async with uow() as work:
        return await work.tenant(tenant.id).tracking().worklogs(
            user_id=user_id, start=start, end=end, after=after, limit=limit
        )


async def add_worklog(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, owner_id: str,
    new: NewWorklog, may_add_for_others: bool | OthersRights,
) -> Worklog:
    """Add a worklog by hand; for another user only with ``may_add_for_others``."""
    if owner_id != actor.id and not covers(may_add_for_others, owner_id):
        raise AccessDenied("not_permitted", "you may only add worklogs for yourself")
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        entry = resolve(
            await scope.activity_types().all(), activity_type_id=new.activity_type_id,
            name=new.activity_type,
        )
        draft = draft_worklog(
            owner_id, new.started_at, new.length_s, added_by=actor.id, origin=WorklogFlag.MANUAL,
            billable_length_s=new.billable_length_s, work_item=new.work_item, comment=new.comment,
            activity_type=entry.name if entry else None, activity_type_id=entry.id if entry else None,
        )
        if owner_id != actor.id and await scope.users().get(owner_id) is None:
            raise NotFound("there is no such user", field="user_id")
        # Only an item of the mirror, stored as its canonical id ("42", whatever was sent).
        item = await require_work_item(scope.work_items(), draft.work_item)
        if item != draft.work_item:
            draft = replace(draft, work_item=item)
        repo = scope.tracking()
        settings = await repo.rules()
        check_work_item_rule(settings.rules, draft.work_item, draft.comment)
        await repo.lock_user(owner_id)
        lock = settings.lock.as_of(today_in(clock))
        zone = await user_zone(repo, tenant, owner_id)
        await ensure_day_unlocked(repo, owner_id, draft.started_at, zone, lock)
        remaining_h = None
        if new.remaining_h is not None:
            automation = await repo.work_item_automation()
            remaining_h = check_remaining_given(automation, draft.work_item, new.remaining_h)
        await check_limits(scope, work.directory.catalogue, {owner_id: 1})
        await ensure_budget_open(scope, draft.work_item)
        worklog = create_worklog(draft, new_id())
        now = clock.now()
        await repo.add_worklogs([worklog], now)
        await queue_work_item_effects(repo, None, worklog, now, new_id(), remaining_set=remaining_h)
        await work.commit()
    return worklog


async def edit_worklog(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, worklog_id: str,
    changes: WorklogChanges, actor_can_edit_others: bool | OthersRights,
) -> Worklog:
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        repo = scope.tracking()
        before = await repo.worklog(worklog_id)
        if before is None:
            raise NotFound("there is no such worklog")
        await repo.lock_user(before.user_id)
        ensure_may_edit(before, actor.id, actor_can_edit_others)
        changes = await _resolved_changes(scope, before, changes)
        if isinstance(changes.work_item, str) and changes.work_item != before.work_item:
            item = await require_work_item(scope.work_items(), changes.work_item)
            changes = replace(changes, work_item=item)
        lock = (await repo.rules()).lock.as_of(today_in(clock))
        zone = await user_zone(repo, tenant, before.user_id)
        await ensure_day_unlocked(repo, before.user_id, before.started_at, zone, lock)
        after = edit(before, actor.id, changes, actor_can_edit_others=actor_can_edit_others)
        if after is before:
            return before
        await ensure_day_unlocked(repo, before.user_id, after.started_at, zone, lock)
        if after.work_item != before.work_item:
            # Moving time onto a closed budget's work is a new worklog for that budget.
            await ensure_budget_open(scope, after.work_item, worklog_id=after.id)
        now = clock.now()
        await repo.save_worklog(after, now)
        await queue_work_item_effects(repo, before, after, now, new_id())
        await work.commit()
    return after


async def _resolved_changes(scope: TenantScope, before: Worklog, changes: WorklogChanges) -> WorklogChanges:
    """An edit's activity type (by id or name) as the catalogue entry's id and current name;
    ``null`` clears both. Naming the entry the worklog has already (a form sent back as it
    was) keeps it even if deactivated since: that is no new use."""
    by_id, by_name = changes.activity_type_id, changes.activity_type
    if by_id is not KEEP and by_id is not None and by_id == before.activity_type_id and by_name is KEEP:
        return replace(changes, activity_type_id=KEEP)
    if by_id is KEEP and by_name is KEEP:
        return changes
    if (by_id is None and by_name in (None, KEEP)) or (by_name is None and by_id is KEEP):
        return replace(changes, activity_type=None, activity_type_id=None)
    entry = resolve(
        await scope.activity_types().all(),
        activity_type_id=None if by_id is KEEP else by_id,
        name=None if by_name is KEEP else by_name,
    )
    if entry is None:  # a blank name: no activity type
        return replace(changes, activity_type=None, activity_type_id=None)
    return replace(changes, activity_type=entry.name, activity_type_id=entry.id)


async def delete_worklog(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, worklog_id: str,
    actor_can_edit_others: bool | OthersRights,
) -> None:
    async with uow(write=True) as work:
        repo = work.tenant(tenant.id).tracking()
        worklog = await repo.worklog(worklog_id)
        if worklog is None:
            raise NotFound("there is no such worklog")
        await repo.lock_user(worklog.user_id)
        ensure_may_edit(worklog, actor.id, actor_can_edit_others)
        lock = (await repo.rules()).lock.as_of(today_in(clock))
        zone = await user_zone(repo, tenant, worklog.user_id)
        await ensure_day_unlocked(repo, worklog.user_id, worklog.started_at, zone, lock)
        now = clock.now()
        await repo.delete_worklog(worklog_id, now)
        await queue_work_item_effects(repo, worklog, None, now, new_id())
        await work.commit()


async def export_worklogs(
    uow: UnitOfWorkFactory, *, tenant: Tenant, user_id: str | None, time_zone: str,
    start: datetime | None = None, end: datetime | None = None,
) -> list[dict[str, str]]:
    """Rows in core's export format (formulas neutralised); ``user_id`` None: everyone's."""
    async with uow() as work:
        scope = work.tenant(tenant.id)
        worklogs = await scope.tracking().worklogs(user_id=user_id, start=start, end=end)
        emails = {user.id: user.email for user in await all_users(scope)}
    return export_rows(worklogs, emails, time_zone)
