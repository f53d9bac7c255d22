"""Builders for the tracking, work-item and job use-case tests: seed a fake store's tracking
tables directly (as a test database would be prepared) and read them back."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from core.ids import new_id
from core.licensing.subscription import ExpiryReason, Subscription, SubscriptionStatus
from core.tenancy import Tenant, User
from core.tracking import (
    LockPolicy,
    Timer,
    TrackingRules,
    WeekId,
    WeekStatus,
    Worklog,
    WorklogFlag,
    create_worklog,
    draft_worklog,
    week_of,
)
from core.tracking.ports import OutboxEntry, TrackingPreference, TrackingSettings, UserWeek
from tests.fakes import FakeDatabase

from .conftest import NOW, TODAY

__all__ = ["THIS_WEEK", "Tracking", "expired"]

#: The week of the tests' "now" (Tuesday 2026-03-10): 2026-W11, Monday 9 March.
THIS_WEEK = week_of(TODAY)


def expired(on: date, plan_id: str = "team") -> Subscription:
    """A subscription that expired on ``on`` (its trial ended that day)."""
    return Subscription(
        plan_id, SubscriptionStatus.EXPIRED, trial_ends_on=on, expired_on=on,
        expiry_reason=ExpiryReason.TRIAL_EXPIRED,
    )


class Tracking:
    """Seeds one store's tracking tables and reads them back."""

    def __init__(self, store: FakeDatabase) -> None:
        self.store = store

    # Seeding ------------------------------------------------------------------------

    def worklog(
        self, tenant: Tenant, user: User, started_at: datetime = NOW - timedelta(hours=3),
        length_s: int = 3600, *, work_item: str | None = None, comment: str | None = None,
        added_by: User | None = None, origin: WorklogFlag = WorklogFlag.MANUAL, billable_length_s: int = 0,
        worklog_id: str | None = None,
    ) -> Worklog:
        draft = draft_worklog(
            user.id, started_at, length_s, added_by=added_by.id if added_by else None, origin=origin,
            billable_length_s=billable_length_s, work_item=work_item, comment=comment,
        )
        worklog = create_worklog(draft, worklog_id or new_id())
        self.store.worklogs.setdefault(tenant.id, {})[worklog.id] = worklog
        return worklog

    def many_worklogs(self, tenant: Tenant, user: User, count: int) -> None:
        """``count`` one-minute worklogs, a minute apart, ending before now."""
        first = NOW - timedelta(days=30)
        for n in range(count):
            self.worklog(tenant, user, first + timedelta(minutes=2 * n), 60)

    def timer(
        self, tenant: Tenant, user: User, started_at: datetime, *, work_item: str | None = "123",
        comment: str | None = None, next_check: datetime | None = None, asked: bool = False,
        rules: TrackingRules | None = None,
    ) -> Timer:
        """A running timer; its next check a full interval after its start unless given."""
        every = (rules or self.rules_of(tenant)).activity_check_every
        check = next_check or started_at + every
        timer = Timer(user.id, started_at, work_item, comment, check, check if asked else None)
        self.store.timers.setdefault(tenant.id, {})[user.id] = timer
        return timer

    def week(self, tenant: Tenant, user: User, status: WeekStatus, week: WeekId = THIS_WEEK) -> None:
        self.store.week_statuses.setdefault(tenant.id, {})[UserWeek(user.id, str(week))] = status

    def rules(
        self, tenant: Tenant, rules: TrackingRules | None = None, *, locked_until: date | None = None
    ) -> None:
        self.store.tracking_settings[tenant.id] = TrackingSettings(
            rules or TrackingRules(), LockPolicy(locked_until)
        )

    def preference(
        self, tenant: Tenant, user: User, *, time_zone: str | None = None, mail_on_system_stop: bool = False
    ) -> None:
        self.store.preferences.setdefault(tenant.id, {})[user.id] = TrackingPreference(
            time_zone, mail_on_system_stop
        )

    # Reading back -------------------------------------------------------------------

    def rules_of(self, tenant: Tenant) -> TrackingRules:
        found = self.store.tracking_settings.get(tenant.id)
        return found.rules if found else TrackingRules()

    def worklogs(self, tenant: Tenant) -> list[Worklog]:
        return sorted(self.store.worklogs.get(tenant.id, {}).values(), key=lambda w: (w.started_at, w.id))

    def running(self, tenant: Tenant, user: User) -> Timer | None:
        return self.store.timers.get(tenant.id, {}).get(user.id)

    def status(self, tenant: Tenant, user: User, week: WeekId = THIS_WEEK) -> WeekStatus:
        return self.store.week_statuses.get(tenant.id, {}).get(UserWeek(user.id, str(week)), WeekStatus.OPEN)

    def stop_reason(self, tenant: Tenant, worklog: Worklog) -> str | None:
        return self.store.stop_reasons[tenant.id][worklog.id]

    def outbox(self, tenant: Tenant) -> list[OutboxEntry]:
        return list(self.store.outbox.get(tenant.id, []))

    def pending(self, tenant: Tenant) -> list[OutboxEntry]:
        done = self.store.outbox_done_at.get(tenant.id, {})
        return [entry for entry in self.outbox(tenant) if entry.id not in done]

    def effects(self, tenant: Tenant) -> list[tuple[str, str, int]]:
        """Each queued effect as (work item, kind, remaining delta): kind ``sync``, ``remaining``
        or ``import``."""
        return [(e.work_item, e.effect_key.split(":")[0], e.remaining_delta_s) for e in self.outbox(tenant)]

    def errors(self, tenant: Tenant) -> list[str]:
        return list(self.store.outbox_errors.get(tenant.id, {}).values())
