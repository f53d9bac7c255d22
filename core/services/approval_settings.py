"""The tenant's approval settings (issue #17: the start date and "N days after the week
ends") and the job that writes the weeks they lock down as closed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from core.clock import Clock, today_in
from core.errors import ValidationFailed
from core.tenancy import Tenant, User
from core.tracking import LOCKED_STATUSES, LockPolicy, WeekId, WeekStatus, week_of
from core.tracking.explorer import week_window
from core.tracking.ports import TrackingDirectory
from core.unit_of_work import UnitOfWorkFactory

from .tracking_common import all_users

__all__ = ["ApprovalSettings", "approval_settings", "materialise_locks", "save_approval_settings"]


#: How far back the lock job looks for weeks to write down as closed: weeks locked
#: longer ago were written down by an earlier run (the rule locks them on read anyway).
_SWEEP_WEEKS = 8


@dataclass(frozen=True, slots=True)
class ApprovalSettings:
    start_date: date | None = None
    auto_lock_after_days: int | None = None


async def approval_settings(uow: UnitOfWorkFactory, *, tenant: Tenant) -> ApprovalSettings:
    async with uow() as work:
        lock = (await work.tenant(tenant.id).tracking().rules()).lock
    return ApprovalSettings(lock.approval_start, lock.auto_lock_after_days)


async def save_approval_settings(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, settings: ApprovalSettings
) -> ApprovalSettings:
    if settings.auto_lock_after_days is not None and settings.auto_lock_after_days < 0:
        raise ValidationFailed("auto_lock_after_days cannot be negative", field="auto_lock_after_days")
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        repo = scope.tracking()
        before = (await repo.rules()).lock
        now = clock.now()
        await repo.save_approval_settings(settings.start_date, settings.auto_lock_after_days, now)
        detail = {
            "start_date": settings.start_date.isoformat() if settings.start_date else None,
            "auto_lock_after_days": settings.auto_lock_after_days,
            "before": {
                "start_date": before.approval_start.isoformat() if before.approval_start else None,
                "auto_lock_after_days": before.auto_lock_after_days,
            },
        }
        await scope.audit().record(f"user:{actor.id}", "approval.settings_changed", tenant.slug, detail, now)
        await work.commit()
    return settings


def _rule_locked_weeks(lock: LockPolicy, today: date) -> list[WeekId]:
    """The last weeks the approval settings lock (at most ``_SWEEP_WEEKS``), newest first."""
    last = lock.rule_locked_until(today)
    if last is None:
        return []
    week = week_of(last)
    return [week_of(week.monday - timedelta(weeks=back)) for back in range(_SWEEP_WEEKS)]


async def materialise_locks(uow: UnitOfWorkFactory, clock: Clock, directory: TrackingDirectory) -> int:
    """Write ``closed`` down for the weeks with worklogs that the approval settings lock.

    The lock itself is applied on every read (``LockPolicy.as_of``); this only makes the
    stored status say so, for the queue and the reports. Idempotent.
    """
    closed = 0
    for tenant_id in await directory.tenants_with_auto_lock():
        async with uow(write=True) as work:
            scope = work.tenant(tenant_id)
            repo = scope.tracking()
            lock = (await repo.rules()).lock
            now = clock.now()
            weeks = _rule_locked_weeks(lock, today_in(clock))
            if not weeks:
                continue
            zones = await repo.time_zones()
            tenant = await work.directory.tenant_by_id(tenant_id)
            if tenant is None or tenant.uninstalled:
                continue
            tenant_zone = tenant.time_zone
            for user in await all_users(scope):
                for week in weeks:
                    record = await repo.week_record(user.id, str(week))
                    if record.status in LOCKED_STATUSES:
                        continue
                    window = week_window(user.id, week, zones.get(user.id) or tenant_zone)
                    if not await repo.worklogs(user_id=user.id, start=window.start, end=window.end, limit=1):
                        continue
                    await repo.save_week(replace(record, status=WeekStatus.CLOSED), "system", now)
                    await scope.audit().record("system", "week.close", f"{user.id}/{week}",
                                               {"by": "approval settings"}, now)
                    closed += 1
            await work.commit()
    return closed
