"""Worklogs in batches, all or nothing (issue #17): ``batch-delete`` so far.

Every worklog of the batch is checked before anything changes — it exists in the tenant,
the actor may change it (the added-by rule), its week is not locked — and the answer
names every offending one with its index, id, code and reason: 404 when any is missing,
else 403 when any is not the actor's to change, else 423 when any lies in a locked week.
Only then are they all deleted in the one transaction, and the batch is audited once
with its count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.clock import Clock
from core.errors import AccessDenied, NotFound, ValidationFailed, WeekLocked
from core.ids import new_id
from core.tenancy import Tenant, User
from core.tracking import ensure_may_edit
from core.tracking.explorer import WorklogQuery
from core.unit_of_work import UnitOfWorkFactory

from .audit import actor_of
from .tracking_common import ensure_day_unlocked, queue_work_item_effects, user_zone

__all__ = ["MAX_BATCH", "delete_worklogs"]

#: The most worklogs one batch may name.
MAX_BATCH = 5000


def _line(index: int, worklog_id: str, code: str, reason: str) -> dict[str, Any]:
    return {"index": index, "id": worklog_id, "code": code, "reason": reason}


async def delete_worklogs(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, ids: Sequence[str],
    actor_can_edit_others: bool,
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
        lock = (await repo.rules()).lock
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
        for wid in wanted:
            await repo.delete_worklog(wid)
            await queue_work_item_effects(repo, found[wid], None, now, new_id())
        await scope.audit().record(actor_of(actor), "worklogs.batch_deleted", tenant.id,
                                   {"count": len(wanted)}, now)
        await work.commit()
    return len(wanted)
