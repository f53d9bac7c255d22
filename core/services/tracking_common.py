"""What the tracking use cases share: the owner's zone, plan limits, locked days, and
the work-item effects a worklog change queues (in the same transaction)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

from core.licensing.ports import Catalogue
from core.tenancy import Tenant
from core.tracking import (
    LockPolicy,
    Worklog,
    check_worklog_limit,
    ensure_unlocked,
    local_day,
    week_of,
)
from core.tracking.ports import TrackingRepository
from core.unit_of_work import TenantScope

__all__ = ["check_limits", "ensure_day_unlocked", "queue_work_item_effects", "user_zone"]


async def user_zone(repo: TrackingRepository, tenant: Tenant, user_id: str) -> str:
    """The user's own time zone, else the tenant's."""
    return (await repo.preference(user_id)).time_zone or tenant.time_zone


async def check_limits(scope: TenantScope, catalogue: Catalogue, adding: Mapping[str, int]) -> None:
    """SPEC §2: the worklog limits of the tenant's plan as the stored catalogue has them
    (by default Free allows 500 worklogs per tenant, Start 1,000 per user; operators edit
    them, and add plans with limits of their own).

    ``adding`` maps each user to the worklogs about to be stored for them, so an
    import for several users is checked whole: per user, and all of it per tenant.
    """
    plan = await catalogue.plan_of(await scope.subscriptions().id())
    per_tenant, per_user = plan.worklog_limit_per_tenant, plan.worklog_limit_per_user
    repo = scope.tracking()
    if per_tenant is not None:
        count = await repo.count_worklogs()
        check_worklog_limit(count, 0, per_tenant, None, adding=sum(adding.values()))
    if per_user is not None:
        for user_id, more in sorted(adding.items()):
            count = await repo.count_worklogs(user_id)
            check_worklog_limit(0, count, None, per_user, adding=more)


async def ensure_day_unlocked(
    repo: TrackingRepository, user_id: str, started_at: datetime, time_zone: str, lock: LockPolicy
) -> None:
    """WeekLocked when a worklog of ``user_id`` starting then may not be added, changed or deleted."""
    day = local_day(started_at, time_zone)
    status = await repo.week_status(user_id, str(week_of(day)))
    ensure_unlocked(day, status, lock)


async def queue_work_item_effects(
    repo: TrackingRepository, before: Worklog | None, after: Worklog | None, at: datetime, change_id: str
) -> None:
    """Queue the work-item updates a worklog change causes (SPEC §8 automation).

    Completed Work is recomputed for every item the change touched (before and
    after an edit that moves a worklog). Remaining Work is lowered once, when a
    worklog with a work item is created: its effect key is the worklog's id.
    """
    items = {w.work_item for w in (before, after) if w is not None and w.work_item is not None}
    for item in sorted(items):
        # Work item names are up to 200 characters; the key stays short and distinct.
        digest = hashlib.sha256(item.encode()).hexdigest()[:16]
        await repo.enqueue_work_item(item, f"sync:{change_id}:{digest}", 0, at)
    if before is None and after is not None and after.work_item is not None:
        await repo.enqueue_work_item(after.work_item, f"remaining:{after.id}", after.length_s, at)
