"""Worklogs in batches, all or nothing (issue #17): create and delete.

Every worklog of the batch is checked before anything changes — it exists in the tenant,
the actor may change it (the added-by rule), its week is not locked — and the answer
names every offending one with its index, id, code and reason: 404 when any is missing,
else 403 when any is not the actor's to change, else 423 when any lies in a locked week.
Only then are they all deleted in the one transaction, and the batch is audited once
with its count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from core.activities import ActivityType, resolve
from core.clock import Clock, today_in
from core.errors import AccessDenied, NotFound, StintError, ValidationFailed, WeekLocked
from core.ids import new_id
from core.tenancy import Tenant, User
from core.tracking import (
    OthersRights,
    WeekStatus,
    Worklog,
    WorklogDraft,
    WorklogFlag,
    check_work_item_rule,
    covers,
    create_worklog,
    draft_worklog,
    ensure_may_edit,
    ensure_unlocked,
    local_day,
    week_of,
)
from core.tracking.explorer import WorklogQuery
from core.tracking.ports import TrackingSettings, UserWeek
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .audit import actor_of
from .budgets import ensure_budget_open
from .planning import require_work_item
from .tracking_common import (
    all_users,
    check_limits,
    ensure_day_unlocked,
    import_effects,
    queue_work_item_effects,
    user_zone,
)
from .worklogs import NewWorklog

__all__ = ["MAX_BATCH", "create_worklogs", "delete_worklogs"]

#: The most worklogs one batch may name.
MAX_BATCH = 5000


def _line(index: int, worklog_id: str, code: str, reason: str) -> dict[str, Any]:
    return {"index": index, "id": worklog_id, "code": code, "reason": reason}


async def delete_worklogs(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, ids: Sequence[str],
    actor_can_edit_others: bool | OthersRights,
) -> int:
    """Delete every worklog of ``ids`` or none of them; the number deleted."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        raise ValidationFailed("ids names at least one worklog", field="ids")
    if len(wanted) > MAX_BATCH:
        raise ValidationFailed(f"a batch names at most {MAX_BATCH} worklogs", field="ids")
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        repo = scope.tracking()
        query = WorklogQuery(ids=frozenset(wanted))
        owners = sorted({w.user_id for w in await repo.explore(query)})
        for owner in owners:  # in one order, so two batches cannot deadlock
            await repo.lock_user(owner)
        found = {w.id: w for w in await repo.explore(query)}  # as of holding the locks
        missing = [_line(i, wid, NotFound.code, "there is no such worklog")
                   for i, wid in enumerate(wanted) if wid not in found]
        if missing:
            raise NotFound(f"{len(missing)} worklog(s) do not exist; nothing was deleted", errors=missing)
        denied = []
        for i, wid in enumerate(wanted):
            try:
                ensure_may_edit(found[wid], actor.id, actor_can_edit_others)
            except AccessDenied as refused:
                denied.append(_line(i, wid, refused.reason, refused.detail))
        if denied:
            raise AccessDenied("not_permitted", f"{len(denied)} worklog(s) are not yours to change; "
                               "nothing was deleted", errors=denied)
        lock = (await repo.rules()).lock.as_of(today_in(clock))
        zones = {owner: await user_zone(repo, tenant, owner) for owner in owners}
        locked = []
        for i, wid in enumerate(wanted):
            worklog = found[wid]
            owner = worklog.user_id
            try:
                await ensure_day_unlocked(repo, owner, worklog.started_at, zones[owner], lock)
            except WeekLocked as refused:
                locked.append(_line(i, wid, WeekLocked.code, refused.detail))
        if locked:
            raise WeekLocked(f"{len(locked)} worklog(s) lie in locked weeks; nothing was deleted",
                             errors=locked)
        now = clock.now()
        # One statement for the rows and one for their history (the repository writes it).
        await repo.delete_worklogs(wanted, now)
        for wid in wanted:
            await queue_work_item_effects(repo, found[wid], None, now, new_id())
        await scope.audit().record(actor_of(actor), "worklogs.batch_deleted", tenant.id,
                                   {"count": len(wanted)}, now)
        await work.commit()
    return len(wanted)


def _refusal(lines: list[dict[str, Any]], kinds: set[type[StintError]], what: str) -> StintError:
    """One error for the whole batch, as severe as its worst line: 404, 403, 423, else 422."""
    detail = f"{len(lines)} of the worklogs cannot be {what}; nothing changed"
    if any(issubclass(kind, NotFound) for kind in kinds):
        return NotFound(detail, errors=lines)
    if any(issubclass(kind, AccessDenied) for kind in kinds):
        return AccessDenied("not_permitted", detail, errors=lines)
    if any(issubclass(kind, WeekLocked) for kind in kinds):
        return WeekLocked(detail, errors=lines)
    return ValidationFailed(detail, errors=lines)


async def create_worklogs(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User,
    worklogs: Sequence[tuple[str, NewWorklog]], may_add_for_others: bool | OthersRights,
) -> list[Worklog]:
    """Add every ``(owner id, new worklog)`` or none: each line is checked as a single add
    is (owner, activity type, fields, the require-work-item rule, the work item, the
    week's lock), every offending line named by its index; then the plan's limits and
    closed budgets for the whole batch, one insert, one audit row."""
    if not worklogs:
        raise ValidationFailed("worklogs lists at least one worklog", field="worklogs")
    if len(worklogs) > MAX_BATCH:
        raise ValidationFailed(f"a batch adds at most {MAX_BATCH} worklogs", field="worklogs")
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        repo = scope.tracking()
        catalogue = await scope.activity_types().all()
        settings = await repo.rules()
        settings = replace(settings, lock=settings.lock.as_of(today_in(clock)))
        users = {user.id for user in await all_users(scope)}
        owners = sorted({owner for owner, _ in worklogs} & users)
        for owner in owners:  # in one order, so two batches cannot deadlock
            await repo.lock_user(owner)
        zones = {owner: await user_zone(repo, tenant, owner) for owner in owners}
        # Read once per owner, not once per line: the owners' weeks that are not open (read
        # under their locks, so as current as a read per line) and each work item named.
        statuses: dict[UserWeek, WeekStatus] = {}
        for owner in owners:
            statuses.update(await repo.week_statuses(owner))
        known: dict[str, str | None] = {}
        drafts: list[WorklogDraft] = []
        lines: list[dict[str, Any]] = []
        kinds: set[type[StintError]] = set()
        for index, (owner, new) in enumerate(worklogs):
            try:
                drafts.append(await _checked_line(scope, actor, owner, new, may_add_for_others, users,
                                                  catalogue, settings, zones, statuses, known))
            except StintError as refused:
                code = refused.reason if isinstance(refused, AccessDenied) else refused.code
                lines.append({"index": index, "code": code, "reason": refused.detail})
                kinds.add(type(refused))
        if lines:
            raise _refusal(lines, kinds, "added")
        by_user: dict[str, int] = {}
        for draft in drafts:
            by_user[draft.user_id] = by_user.get(draft.user_id, 0) + 1
        await check_limits(scope, work.directory.catalogue, by_user)
        await ensure_budget_open(scope, *{draft.work_item for draft in drafts})
        made = [create_worklog(draft, new_id()) for draft in drafts]
        now = clock.now()
        await repo.add_worklogs(made, now)
        await repo.enqueue_work_items(import_effects(made, new_id()), now)
        await scope.audit().record(actor_of(actor), "worklogs.batch_created", tenant.id,
                                   {"count": len(made)}, now)
        await work.commit()
    return made


async def _checked_line(
    scope: TenantScope, actor: User, owner: str, new: NewWorklog, may_add_for_others: bool | OthersRights,
    users: set[str], catalogue: Sequence[ActivityType], settings: TrackingSettings, zones: dict[str, str],
    statuses: dict[UserWeek, WeekStatus], known: dict[str, str | None],
) -> WorklogDraft:
    if owner != actor.id and not covers(may_add_for_others, owner):
        raise AccessDenied("not_permitted", "you may only add worklogs for yourself")
    if owner not in users:
        raise NotFound("there is no such user", field="user_id")
    entry = resolve(catalogue, activity_type_id=new.activity_type_id, name=new.activity_type)
    draft = draft_worklog(
        owner, new.started_at, new.length_s, added_by=actor.id, origin=WorklogFlag.MANUAL,
        billable_length_s=new.billable_length_s, work_item=new.work_item, comment=new.comment,
        activity_type=entry.name if entry else None, activity_type_id=entry.id if entry else None,
    )
    check_work_item_rule(settings.rules, draft.work_item, draft.comment)
    if draft.work_item is not None and draft.work_item not in known:
        known[draft.work_item] = await require_work_item(scope.work_items(), draft.work_item)
    item = known[draft.work_item] if draft.work_item is not None else None
    if item != draft.work_item:
        draft = replace(draft, work_item=item)
    day = local_day(draft.started_at, zones[owner])
    ensure_unlocked(day, statuses.get(UserWeek(owner, str(week_of(day))), WeekStatus.OPEN), settings.lock)
    return draft
