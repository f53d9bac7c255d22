"""Worklogs after the fact (SPEC §8): add, edit, delete, list, import and export.

Every change checks the locked weeks of the worklog's owner (before and after an
edit), the added-by editing rule, and — for additions — the plan's worklog
limits; and queues the work-item updates it causes in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.clock import Clock
from core.errors import AccessDenied, NotFound, ValidationFailed
from core.ids import new_id
from core.tenancy import Tenant, User
from core.tracking import (
    NumberedRow,
    WeekStatus,
    Worklog,
    WorklogChanges,
    WorklogFlag,
    create_worklog,
    draft_worklog,
    edit,
    ensure_may_edit,
    export_rows,
    is_locked,
    local_day,
    parse_rows,
    week_of,
)
from core.tracking.ports import UserWeek, WorklogCursor
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .tracking_common import check_limits, ensure_day_unlocked, queue_work_item_effects, user_zone

__all__ = [
    "ImportRejected",
    "NewWorklog",
    "add_worklog",
    "delete_worklog",
    "edit_worklog",
    "export_worklogs",
    "import_worklogs",
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


class ImportRejected(ValidationFailed):
    """An import with bad rows stores nothing; ``errors`` lists every bad line and why."""

    code = "import_rejected"


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
    new: NewWorklog, may_add_for_others: bool,
) -> Worklog:
    """Add a worklog by hand; for another user only with ``may_add_for_others``."""
    if owner_id != actor.id and not may_add_for_others:
        raise AccessDenied("not_permitted", "you may only add worklogs for yourself")
    draft = draft_worklog(
        owner_id, new.started_at, new.length_s, added_by=actor.id, origin=WorklogFlag.MANUAL,
        billable_length_s=new.billable_length_s, work_item=new.work_item, comment=new.comment,
        activity_type=new.activity_type,
    )
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        if owner_id != actor.id and await scope.users().get(owner_id) is None:
            raise NotFound("there is no such user", field="user_id")
        repo = scope.tracking()
        await repo.lock_user(owner_id)
        lock = (await repo.rules()).lock
        zone = await user_zone(repo, tenant, owner_id)
        await ensure_day_unlocked(repo, owner_id, draft.started_at, zone, lock)
        await check_limits(scope, work.directory.catalogue, {owner_id: 1})
        worklog = create_worklog(draft, new_id())
        now = clock.now()
        await repo.add_worklogs([worklog], now)
        await queue_work_item_effects(repo, None, worklog, now, new_id())
        await work.commit()
    return worklog


async def edit_worklog(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, worklog_id: str,
    changes: WorklogChanges, actor_can_edit_others: bool,
) -> Worklog:
    async with uow(write=True) as work:
        repo = work.tenant(tenant.id).tracking()
        before = await repo.worklog(worklog_id)
        if before is None:
            raise NotFound("there is no such worklog")
        await repo.lock_user(before.user_id)
        ensure_may_edit(before, actor.id, actor_can_edit_others)
        lock = (await repo.rules()).lock
        zone = await user_zone(repo, tenant, before.user_id)
        await ensure_day_unlocked(repo, before.user_id, before.started_at, zone, lock)
        after = edit(before, actor.id, changes, actor_can_edit_others=actor_can_edit_others)
        if after is before:
            return before
        await ensure_day_unlocked(repo, before.user_id, after.started_at, zone, lock)
        now = clock.now()
        await repo.save_worklog(after, now)
        await queue_work_item_effects(repo, before, after, now, new_id())
        await work.commit()
    return after


async def delete_worklog(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, worklog_id: str,
    actor_can_edit_others: bool,
) -> None:
    async with uow(write=True) as work:
        repo = work.tenant(tenant.id).tracking()
        worklog = await repo.worklog(worklog_id)
        if worklog is None:
            raise NotFound("there is no such worklog")
        await repo.lock_user(worklog.user_id)
        ensure_may_edit(worklog, actor.id, actor_can_edit_others)
        lock = (await repo.rules()).lock
        zone = await user_zone(repo, tenant, worklog.user_id)
        await ensure_day_unlocked(repo, worklog.user_id, worklog.started_at, zone, lock)
        await repo.delete_worklog(worklog_id)
        await queue_work_item_effects(repo, worklog, None, clock.now(), new_id())
        await work.commit()


async def export_worklogs(
    uow: UnitOfWorkFactory, *, tenant: Tenant, user_id: str | None, time_zone: str,
    start: datetime | None = None, end: datetime | None = None,
) -> list[dict[str, str]]:
    """Rows in core's export format (formulas neutralised); ``user_id`` None: everyone's."""
    async with uow() as work:
        scope = work.tenant(tenant.id)
        worklogs = await scope.tracking().worklogs(user_id=user_id, start=start, end=end)
        emails = {user.id: user.email for user in await _all_users(scope)}
    return export_rows(worklogs, emails, time_zone)


async def _all_users(scope: TenantScope) -> list[User]:
    users: list[User] = []
    after = ""
    while True:
        page = await scope.users().list(after=after, limit=500)
        users.extend(page)
        if len(page) < 500:
            return users
        after = page[-1].id


async def import_worklogs(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User,
    rows: Sequence[NumberedRow], may_import_for_others: bool, time_zone: str,
) -> list[Worklog]:
    """All or nothing: every row is checked; one bad row and nothing is stored."""
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        repo = scope.tracking()
        users = await _all_users(scope) if may_import_for_others else [actor]
        known = {user.email: user.id for user in users}
        lock = (await repo.rules()).lock
        statuses = await repo.week_statuses(None if may_import_for_others else actor.id)
        zones = {user.id: (await repo.preference(user.id)).time_zone or tenant.time_zone for user in users}

        def week_locked(user_id: str, started_at: datetime) -> bool:
            day = local_day(started_at, zones[user_id])
            status = statuses.get(UserWeek(user_id, str(week_of(day))), WeekStatus.OPEN)
            return is_locked(day, status, lock)

        result = parse_rows(rows, known, added_by=actor.id, time_zone=time_zone, week_locked=week_locked)
        if not result.ok:
            errors = [{"line": e.line, "reason": e.reason} for e in result.errors]
            raise ImportRejected(
                f"{len(errors)} row(s) are not valid; nothing was imported", errors=errors
            )
        by_user: dict[str, int] = {}
        for draft in result.drafts:
            by_user[draft.user_id] = by_user.get(draft.user_id, 0) + 1
        await check_limits(scope, work.directory.catalogue, by_user)
        worklogs = [create_worklog(draft, new_id()) for draft in result.drafts]
        now = clock.now()
        await repo.add_worklogs(worklogs, now)
        for worklog in worklogs:
            await queue_work_item_effects(repo, None, worklog, now, new_id())
        await work.commit()
    return worklogs
