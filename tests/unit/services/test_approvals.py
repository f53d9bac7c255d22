"""The approval queue's use cases over the fakes: approvers, steps and their mails, the
queue, the settings and the lock job (core/services/approvals.py, approval_steps.py,
approval_settings.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.clock import FixedClock
from core.errors import AccessDenied, Conflict, TimerRunning, ValidationFailed, WeekLocked
from core.services.approval_settings import ApprovalSettings, materialise_locks, save_approval_settings
from core.services.approval_steps import change_week
from core.services.approvals import approval_queue, set_approvers
from core.services.timesheets import week_view
from core.services.tracking import stop_tracking
from core.services.worklogs import NewWorklog, add_worklog
from core.tracking import WeekStatus, week_of
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory
from tests.fakes.jobs import FakeMailer
from tests.fakes.tracking import FakeTrackingDirectory

from .conftest import NOW, TODAY, Seed
from .tracking_builders import THIS_WEEK, Tracking


@pytest.fixture
def tracking(store: FakeDatabase) -> Tracking:
    return Tracking(store)


async def test_a_users_approver_decides_their_week_and_nobody_elses(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    admin = seed.admin(tenant)
    ann, bob, pam = (seed.user(tenant, f"{n}@acme.test") for n in ("ann", "bob", "pam"))
    await set_approvers(uow, clock, tenant=tenant, actor=admin, user_id=ann.id, approver_ids=[pam.id])
    tracking.week(tenant, ann, WeekStatus.SUBMITTED)
    tracking.week(tenant, bob, WeekStatus.SUBMITTED)
    done = await change_week(uow, clock, tenant=tenant, actor=pam, owner_id=ann.id, week=THIS_WEEK,
                             action="approve")
    assert done.status is WeekStatus.APPROVED and done.decided_by == pam.id
    with pytest.raises(AccessDenied):
        await change_week(uow, clock, tenant=tenant, actor=pam, owner_id=bob.id, week=THIS_WEEK,
                          action="approve")
    assert tracking.status(tenant, bob) is WeekStatus.SUBMITTED
    assert "user.approvers_changed" in seed.actions()


async def test_a_user_cannot_be_their_own_approver_and_approvers_must_exist(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant()
    admin, ann = seed.admin(tenant), seed.user(tenant, "ann@acme.test")
    with pytest.raises(ValidationFailed):
        await set_approvers(uow, clock, tenant=tenant, actor=admin, user_id=ann.id, approver_ids=[ann.id])
    with pytest.raises(ValidationFailed) as refused:
        await set_approvers(uow, clock, tenant=tenant, actor=admin, user_id=ann.id, approver_ids=["nobody"])
    assert refused.value.extra["unknown"] == ["nobody"]


async def test_a_rejection_carries_its_note_to_the_owners_week_and_mail(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant, "ann@acme.test")
    max_ = seed.user(tenant, "max@acme.test", approval_manager=True)
    mailer = FakeMailer()
    await change_week(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, week=THIS_WEEK,
                      action="submit", mailer=mailer)
    assert mailer.to("max@acme.test") == [f"Stint: {ann.name} submitted {THIS_WEEK}"]
    with pytest.raises(ValidationFailed):
        await change_week(uow, clock, tenant=tenant, actor=max_, owner_id=ann.id, week=THIS_WEEK,
                          action="reject", note="  ", mailer=mailer)
    await change_week(uow, clock, tenant=tenant, actor=max_, owner_id=ann.id, week=THIS_WEEK,
                      action="reject", note="Tuesday is missing", mailer=mailer)
    view = await week_view(uow, tenant=tenant, user_id=ann.id, week=THIS_WEEK, today=TODAY)
    assert view.status is WeekStatus.REJECTED and view.note == "Tuesday is missing"
    rejected = [m for m in mailer.sent if m.to == "ann@acme.test"]
    assert len(rejected) == 1 and "Tuesday is missing" in rejected[0].body


async def test_a_submission_mails_the_users_own_approvers_rather_than_the_global_managers(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant()
    admin = seed.admin(tenant)
    ann, pam = seed.user(tenant, "ann@acme.test"), seed.user(tenant, "pam@acme.test")
    seed.user(tenant, "max@acme.test", approval_manager=True)
    await set_approvers(uow, clock, tenant=tenant, actor=admin, user_id=ann.id, approver_ids=[pam.id])
    mailer = FakeMailer()
    await change_week(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, week=THIS_WEEK,
                      action="submit", mailer=mailer)
    assert [m.to for m in mailer.sent] == ["pam@acme.test"]


async def test_a_mail_server_that_is_down_loses_no_step(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant, "ann@acme.test")
    seed.user(tenant, "max@acme.test", approval_manager=True)
    await change_week(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, week=THIS_WEEK,
                      action="submit", mailer=FakeMailer(down=True))
    assert tracking.status(tenant, ann) is WeekStatus.SUBMITTED


async def test_the_owner_revokes_until_the_week_is_decided(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant, "ann@acme.test")
    max_ = seed.user(tenant, "max@acme.test", approval_manager=True)
    tracking.week(tenant, ann, WeekStatus.SUBMITTED)
    revoked = await change_week(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, week=THIS_WEEK,
                                action="revoke")
    assert revoked.status is WeekStatus.OPEN and revoked.submitted_at is None
    await change_week(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, week=THIS_WEEK, action="submit")
    await change_week(uow, clock, tenant=tenant, actor=max_, owner_id=ann.id, week=THIS_WEEK,
                      action="approve")
    with pytest.raises(Conflict):
        await change_week(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, week=THIS_WEEK,
                          action="revoke")
    reopened = await change_week(uow, clock, tenant=tenant, actor=max_, owner_id=ann.id, week=THIS_WEEK,
                                 action="reopen")
    assert reopened.status is WeekStatus.OPEN


async def test_the_queue_lists_only_the_weeks_the_caller_may_decide_with_their_totals(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    admin = seed.admin(tenant)
    ann, bob, pam = (seed.user(tenant, f"{n}@acme.test") for n in ("ann", "bob", "pam"))
    max_ = seed.user(tenant, "max@acme.test", approval_manager=True)
    await set_approvers(uow, clock, tenant=tenant, actor=admin, user_id=ann.id, approver_ids=[pam.id])
    tracking.worklog(tenant, ann, NOW - timedelta(hours=5), 3600, billable_length_s=1800)
    tracking.worklog(tenant, ann, NOW - timedelta(hours=2), 1800)
    tracking.worklog(tenant, ann, NOW - timedelta(days=9), 600)  # last week: not this week's total
    for user in (ann, bob, pam):
        tracking.week(tenant, user, WeekStatus.SUBMITTED)
    mine = await approval_queue(uow, tenant=tenant, actor=pam, states={WeekStatus.SUBMITTED})
    assert [(i.user.id, i.record.week, i.tracked_s, i.billable_s) for i in mine] == [
        (ann.id, str(THIS_WEEK), 5400, 1800)
    ]
    everyone = await approval_queue(uow, tenant=tenant, actor=max_, states={WeekStatus.SUBMITTED})
    assert {i.user.id for i in everyone} == {ann.id, bob.id, pam.id}
    only_bob = await approval_queue(uow, tenant=tenant, actor=max_, states={WeekStatus.SUBMITTED},
                                    user_id=bob.id)
    assert [i.user.id for i in only_bob] == [bob.id]
    assert await approval_queue(uow, tenant=tenant, actor=ann, states={WeekStatus.SUBMITTED}) == []


async def test_the_settings_lock_weeks_on_read_before_the_job_runs_and_the_job_writes_them_down(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking, store: FakeDatabase
) -> None:
    tenant = seed.tenant()
    admin, ann = seed.admin(tenant), seed.user(tenant, "ann@acme.test")
    last_week = week_of(TODAY - timedelta(days=7))
    tracking.worklog(tenant, ann, NOW - timedelta(days=7), 600)
    await save_approval_settings(uow, clock, tenant=tenant, actor=admin,
                                 settings=ApprovalSettings(auto_lock_after_days=0))
    assert "approval.settings_changed" in seed.actions()
    with pytest.raises(WeekLocked):
        await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id,
                          new=NewWorklog(started_at=NOW - timedelta(days=8), length_s=60, comment="late"),
                          may_add_for_others=False)
    shown = await week_view(uow, tenant=tenant, user_id=ann.id, week=last_week, today=TODAY)
    assert shown.locked and shown.status is WeekStatus.CLOSED
    assert tracking.status(tenant, ann, last_week) is WeekStatus.OPEN  # not written down yet
    assert await materialise_locks(uow, clock, FakeTrackingDirectory(store)) == 1
    assert tracking.status(tenant, ann, last_week) is WeekStatus.CLOSED
    assert await materialise_locks(uow, clock, FakeTrackingDirectory(store)) == 0  # idempotent
    assert tracking.status(tenant, ann) is WeekStatus.OPEN  # this week is still open
    manager = seed.user(tenant, "max@acme.test", approval_manager=True)
    with pytest.raises(Conflict):  # reopening would leave it locked by its date
        await change_week(uow, clock, tenant=tenant, actor=manager, owner_id=ann.id, week=last_week,
                          action="reopen")


async def test_the_approval_start_date_closes_the_weeks_before_it(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant()
    admin, ann = seed.admin(tenant), seed.user(tenant, "ann@acme.test")
    await save_approval_settings(uow, clock, tenant=tenant, actor=admin,
                                 settings=ApprovalSettings(start_date=date(2026, 3, 9)))
    with pytest.raises(WeekLocked):
        await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id,
                          new=NewWorklog(started_at=NOW - timedelta(days=3), length_s=60, comment="x"),
                          may_add_for_others=False)
    await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id,
                      new=NewWorklog(started_at=NOW - timedelta(hours=1), length_s=60, comment="x"),
                      may_add_for_others=False)


async def test_approval_mails_respect_the_recipients_notification_settings(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    """An owner who turned approval mails off gets no rejection mail (the note is still on
    their week); a tenant default of off silences the approvers too, unless one turns it on."""
    from core.services.notification_preferences import set_my_notifications, set_tenant_notifications

    tenant = seed.tenant()
    admin = seed.admin(tenant)
    ann = seed.user(tenant, "ann@acme.test")
    max_ = seed.user(tenant, "max@acme.test", approval_manager=True)
    await set_my_notifications(uow, tenant=tenant, user=ann, kinds={"approvals": False})
    mailer = FakeMailer()
    await change_week(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, week=THIS_WEEK,
                      action="submit", mailer=mailer)
    await change_week(uow, clock, tenant=tenant, actor=max_, owner_id=ann.id, week=THIS_WEEK,
                      action="reject", note="Tuesday is missing", mailer=mailer)
    assert [m.to for m in mailer.sent] == ["max@acme.test"]
    assert tracking.status(tenant, ann) is WeekStatus.REJECTED

    await set_tenant_notifications(uow, clock, tenant=tenant, actor=admin, kinds={"approvals": False})
    await change_week(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, week=THIS_WEEK,
                      action="submit", mailer=mailer)
    assert [m.to for m in mailer.sent] == ["max@acme.test"]
    await set_my_notifications(uow, tenant=tenant, user=max_, kinds={"approvals": True})
    await change_week(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, week=THIS_WEEK,
                      action="revoke", mailer=mailer)
    await change_week(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, week=THIS_WEEK,
                      action="submit", mailer=mailer)
    assert [m.to for m in mailer.sent] == ["max@acme.test", "max@acme.test"]


async def test_a_week_whose_owner_has_a_timer_running_inside_it_is_decided_only_once_the_timer_stops(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    # SPEC §8: a locked week takes no new worklog, and a running timer leaves one when it
    # stops. Approving or closing the week under it would strand that time.
    tenant = seed.tenant()
    pam = seed.user(tenant, "pam@acme.test", approval_manager=True)
    ann = seed.user(tenant, "ann@acme.test")
    tracking.timer(tenant, ann, NOW - timedelta(hours=1))
    tracking.week(tenant, ann, WeekStatus.SUBMITTED)
    for action in ("approve", "close"):
        with pytest.raises(TimerRunning) as refused:
            await change_week(uow, clock, tenant=tenant, actor=pam, owner_id=ann.id, week=THIS_WEEK,
                              action=action)
        assert refused.value.code == "timer_running" and "once it stops" in refused.value.detail
        assert tracking.status(tenant, ann) is WeekStatus.SUBMITTED
    # Rejecting locks nothing: it goes through.
    rejected = await change_week(uow, clock, tenant=tenant, actor=pam, owner_id=ann.id, week=THIS_WEEK,
                                 action="reject", note="one line is missing")
    assert rejected.status is WeekStatus.REJECTED
    # Another week than the timer's is not held up.
    tracking.week(tenant, ann, WeekStatus.SUBMITTED, week=week_of(TODAY - timedelta(days=7)))
    done = await change_week(uow, clock, tenant=tenant, actor=pam, owner_id=ann.id,
                             week=week_of(TODAY - timedelta(days=7)), action="approve")
    assert done.status is WeekStatus.APPROVED
    # Once the timer stopped, the week can be approved.
    await stop_tracking(uow, clock, tenant=tenant, user=ann)
    await change_week(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, week=THIS_WEEK, action="submit")
    done = await change_week(uow, clock, tenant=tenant, actor=pam, owner_id=ann.id, week=THIS_WEEK,
                             action="approve")
    assert done.status is WeekStatus.APPROVED
