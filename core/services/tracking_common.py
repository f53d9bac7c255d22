"""What the tracking use cases share: the tenant's users, the owner's zone, plan limits,
locked days, and the work-item effects a worklog change queues (in the same transaction)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from core.licensing.ports import Catalogue, GenerationCache
from core.tenancy import Tenant, User
from core.tracking import (
    LockPolicy,
    Worklog,
    check_worklog_limit,
    ensure_unlocked,
    local_day,
    week_of,
)
from core.tracking.ports import TrackingRepository, WorkItemEffect
from core.unit_of_work import TenantScope, UnitOfWorkFactory

__all__ = [
    "all_users",
    "cached_user_zone",
    "check_limits",
    "check_limits_of",
    "ensure_day_unlocked",
    "import_effects",
    "queue_work_item_effects",
    "user_zone",
    "work_item_effects",
]

#: ``work_item_outbox.remaining_delta_s`` is a 32-bit INTEGER.
_MAX_DELTA_S = 2**31 - 1


async def all_users(scope: TenantScope) -> list[User]:
    """Every user of the tenant, a page of 500 at a time."""
    users: list[User] = []
    after = ""
    while True:
        page = await scope.users().list(after=after, limit=500)
        users.extend(page)
        if len(page) < 500:
            return users
        after = page[-1].id


async def user_zone(repo: TrackingRepository, tenant: Tenant, user_id: str) -> str:
    """The user's own time zone, else the tenant's."""
    return (await repo.preference(user_id)).time_zone or tenant.time_zone


#: As long as the cached sign-in rows (web/auth.py); the generation keeps it right.
_ZONE_TTL_SECONDS = 60


async def cached_user_zone(
    uow: UnitOfWorkFactory, tenant: Tenant, user_id: str, cache: GenerationCache | None,
) -> str:
    """:func:`user_zone` without a database read when ``cache`` holds the user's own zone:
    kept under ``u:<user id>`` and ``*``, which saving the preference moves after its
    commit (``save_preference`` notes it), so a changed zone is used by the next request."""
    found = None if cache is None else await cache.get(f"zone:{tenant.id}:{user_id}", (f"u:{user_id}", "*"))
    if found is not None and found.value is not None:
        own = found.value["z"]
    else:
        async with uow() as work:
            own = (await work.tenant(tenant.id).tracking().preference(user_id)).time_zone
        if cache is not None and found is not None:
            await cache.put(f"zone:{tenant.id}:{user_id}", found.stamp, {"z": own}, _ZONE_TTL_SECONDS)
    return str(own) if own else tenant.time_zone


async def check_limits(scope: TenantScope, catalogue: Catalogue, adding: Mapping[str, int]) -> None:
    """SPEC §2: the worklog limits of the tenant's plan as the stored catalogue has them
    (by default Free allows 500 worklogs per tenant, Start 1,000 per user; operators edit
    them, and add plans with limits of their own).

    ``adding`` maps each user to the worklogs about to be stored for them, so an
    import for several users is checked whole: per user, and all of it per tenant.
    """
    plan = await catalogue.plan_of(await scope.subscriptions().id())
    limits = plan.worklog_limit_per_tenant, plan.worklog_limit_per_user
    await check_limits_of(scope.tracking(), limits, adding)


async def check_limits_of(
    repo: TrackingRepository, limits: tuple[int | None, int | None], adding: Mapping[str, int]
) -> None:
    """:func:`check_limits` for a plan's known ``(per tenant, per user)`` limits."""
    per_tenant, per_user = limits
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


def _digest(work_item: str) -> str:
    # Work item names are up to 200 characters; the key stays short and distinct.
    return hashlib.sha256(work_item.encode()).hexdigest()[:16]


async def queue_work_item_effects(
    repo: TrackingRepository, before: Worklog | None, after: Worklog | None, at: datetime, change_id: str,
    *, remaining_set: Decimal | None = None,
) -> None:
    """Queue the work-item updates a worklog change causes (SPEC §8 automation).

    Completed Work is recomputed for every item the change touched (before and
    after an edit that moves a worklog). Remaining Work is lowered once, when a
    worklog with a work item is created: its effect key is the worklog's id; it carries
    the Remaining Work the user set on the new worklog (``remaining_set``), if any. What
    the job makes of them is decided by the tenant's settings when it runs.
    """
    for item, key, delta in work_item_effects(before, after, change_id):
        own = remaining_set if key.startswith(_REMAINING) else None
        await repo.enqueue_work_item(item, key, delta, at, remaining_set=own)


_REMAINING = "remaining:"


def work_item_effects(before: Worklog | None, after: Worklog | None, change_id: str) -> list[WorkItemEffect]:
    """The effects :func:`queue_work_item_effects` queues for a change, as values (for a
    repository that writes them with the worklog in one statement)."""
    items = {w.work_item for w in (before, after) if w is not None and w.work_item is not None}
    effects = [WorkItemEffect(item, f"sync:{change_id}:{_digest(item)}", 0) for item in sorted(items)]
    if before is None and after is not None and after.work_item is not None:
        effects.append(WorkItemEffect(after.work_item, f"{_REMAINING}{after.id}", after.length_s))
    return effects


def import_effects(worklogs: Sequence[Worklog], import_id: str) -> list[WorkItemEffect]:
    """The work-item effects of an import.

    One per work item rather than two per worklog: the outbox job recomputes Completed Work
    for every pending item and lowers Remaining Work by the sum of the item's pending deltas,
    so an item's imported time in one effect lowers it exactly as much, and 100,000 rows
    queue a few hundred effects, not 200,000. A total past the column's range is split.
    """
    totals: dict[str, int] = {}
    for worklog in worklogs:
        if worklog.work_item is not None:
            totals[worklog.work_item] = totals.get(worklog.work_item, 0) + worklog.length_s
    effects: list[WorkItemEffect] = []
    for item, seconds in sorted(totals.items()):
        part = 0
        while seconds > 0:
            delta = min(seconds, _MAX_DELTA_S)
            effects.append(WorkItemEffect(item, f"import:{import_id}:{_digest(item)}:{part}", delta))
            seconds -= delta
            part += 1
    return effects
