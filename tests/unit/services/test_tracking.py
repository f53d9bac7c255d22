"""The timer on the server (core.services.tracking): start, stop, the running timer, activity
checks, and the job that stops timers a rule, the maximum length or the end of access stopped."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.clock import FixedClock
from core.errors import Conflict, ValidationFailed, WeekLocked
from core.services.tracking import (
    answer_activity_check,
    current_timer,
    run_timer_checks,
    start_tracking,
    stop_tracking,
)
from core.tracking import StopReason, TrackingRules, WorklogFlag, WorklogLimitReached
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory
from tests.fakes.jobs import FakeMailer
from tests.fakes.tracking import FakeTrackingDirectory

from .conftest import NOW, Seed, active, trial
from .tracking_builders import Tracking


@pytest.fixture
def tracking(store: FakeDatabase) -> Tracking:
    return Tracking(store)


@pytest.fixture
def directory(store: FakeDatabase) -> FakeTrackingDirectory:
    return FakeTrackingDirectory(store)


@pytest.fixture
def mailer() -> FakeMailer:
    return FakeMailer()


# Start and stop ---------------------------------------------------------------------------


async def test_starting_stores_a_running_timer_with_its_first_check_an_interval_away(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    seed.work_items(tenant, 42)
    timer, stopped = await start_tracking(uow, clock, tenant=tenant, user=ann, work_item="42", comment=None)
    assert stopped is None
    assert tracking.running(tenant, ann) == timer
    assert (timer.started_at, timer.work_item) == (NOW, "42")
    assert timer.next_activity_check_at == NOW + timedelta(hours=1)
    assert uow.commits == 1


async def test_starting_a_second_timer_stops_the_first_with_reason_concurrency(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    seed.work_items(tenant, 42)
    tracking.timer(tenant, ann, NOW - timedelta(minutes=30), work_item="41")
    timer, stopped = await start_tracking(uow, clock, tenant=tenant, user=ann, work_item="42", comment=None)
    assert stopped is not None and stopped.reason is StopReason.CONCURRENCY
    assert stopped.worklog is not None
    assert (stopped.worklog.work_item, stopped.worklog.length_s) == ("41", 1800)
    assert stopped.worklog.flags == frozenset({WorklogFlag.TRACKED})
    assert tracking.worklogs(tenant) == [stopped.worklog]
    assert tracking.stop_reason(tenant, stopped.worklog) == "concurrency"
    assert tracking.running(tenant, ann) == timer


async def test_a_running_timer_a_rule_already_stopped_keeps_that_reason_when_another_starts(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    seed.work_items(tenant, 42)
    started = NOW - timedelta(hours=13)
    tracking.timer(tenant, ann, started, next_check=NOW + timedelta(hours=1))
    _, stopped = await start_tracking(uow, clock, tenant=tenant, user=ann, work_item="42", comment=None)
    assert stopped is not None and stopped.reason is StopReason.MAX_LENGTH
    assert stopped.worklog is not None and stopped.worklog.length_s == 12 * 3600


async def test_without_the_no_work_item_rule_a_start_needs_a_work_item_or_comment(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    tracking.rules(tenant, TrackingRules(tracking_without_work_item=False))
    with pytest.raises(ValidationFailed) as refused:
        await start_tracking(uow, clock, tenant=tenant, user=ann, work_item=None, comment=None)
    assert refused.value.field == "work_item"
    assert tracking.running(tenant, ann) is None
    assert uow.commits == 0
    await start_tracking(uow, clock, tenant=tenant, user=ann, work_item=None, comment="planning")


async def test_a_timer_cannot_start_on_a_locked_day(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    seed.work_items(tenant, 42)
    tracking.rules(tenant, locked_until=NOW.date())
    with pytest.raises(WeekLocked):
        await start_tracking(uow, clock, tenant=tenant, user=ann, work_item="42", comment=None)
    assert tracking.running(tenant, ann) is None
    assert uow.commits == 0


async def test_a_start_that_would_pass_the_worklog_limit_is_refused_and_the_running_timer_kept(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant(subscription=active("free", seats=1))
    ann = seed.user(tenant)
    seed.work_items(tenant, 42)
    tracking.many_worklogs(tenant, ann, 499)
    running = tracking.timer(tenant, ann, NOW - timedelta(minutes=5))
    # The running timer leaves a 500th worklog and the new one would leave a 501st.
    with pytest.raises(WorklogLimitReached):
        await start_tracking(uow, clock, tenant=tenant, user=ann, work_item="42", comment=None)
    assert tracking.running(tenant, ann) == running
    assert len(tracking.worklogs(tenant)) == 499


async def test_stopping_leaves_a_worklog_of_the_tracked_time_and_queues_its_work_item(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    tracking.timer(tenant, ann, NOW - timedelta(minutes=45), work_item="42", comment="review")
    stopped = await stop_tracking(uow, clock, tenant=tenant, user=ann)
    assert stopped.reason is StopReason.USER
    assert stopped.worklog is not None
    assert (stopped.worklog.length_s, stopped.worklog.comment) == (2700, "review")
    assert tracking.running(tenant, ann) is None
    assert tracking.stop_reason(tenant, stopped.worklog) == "user"
    assert tracking.effects(tenant) == [("42", "sync", 0), ("42", "remaining", 2700)]


async def test_stopping_a_timer_started_this_second_leaves_no_worklog(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    tracking.timer(tenant, ann, NOW)
    stopped = await stop_tracking(uow, clock, tenant=tenant, user=ann)
    assert stopped.worklog is None
    assert tracking.worklogs(tenant) == [] and tracking.outbox(tenant) == []
    assert tracking.running(tenant, ann) is None


async def test_stopping_when_nothing_runs_is_a_conflict_and_commits_nothing(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    with pytest.raises(Conflict) as refused:
        await stop_tracking(uow, clock, tenant=tenant, user=ann)
    assert refused.value.extra == {"running": False}
    assert uow.commits == 0


async def test_a_late_stop_after_an_unanswered_check_keeps_the_stop_at_the_check(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    tracking.timer(tenant, ann, NOW - timedelta(hours=2))  # its check was an hour ago
    stopped = await stop_tracking(uow, clock, tenant=tenant, user=ann)
    assert stopped.reason is StopReason.ACTIVITY_CHECK
    assert stopped.worklog is not None and stopped.worklog.length_s == 3600


async def test_one_tenants_stop_never_touches_anothers_timer(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    acme, globex = seed.tenant("acme"), seed.tenant("globex")
    ann = seed.user(acme)
    theirs = tracking.timer(globex, ann, NOW - timedelta(minutes=5))
    with pytest.raises(Conflict):
        await stop_tracking(uow, clock, tenant=acme, user=ann)
    assert tracking.running(globex, ann) == theirs


# The running timer ------------------------------------------------------------------------


async def test_the_running_timer_is_read_without_writing_while_no_rule_stopped_it(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    timer = tracking.timer(tenant, ann, NOW - timedelta(minutes=20))
    assert await current_timer(uow, clock, tenant=tenant, user=ann) == (timer, TrackingRules())
    assert uow.writes == 0


async def test_a_timer_a_rule_stopped_is_shown_stopped_and_its_worklog_stored(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    tracking.timer(tenant, ann, NOW - timedelta(hours=3))
    timer, _ = await current_timer(uow, clock, tenant=tenant, user=ann)
    assert timer is None
    assert tracking.running(tenant, ann) is None
    [worklog] = tracking.worklogs(tenant)
    assert worklog.length_s == 3600
    assert tracking.stop_reason(tenant, worklog) == "activity_check"


# Activity checks --------------------------------------------------------------------------


async def test_still_working_puts_the_next_check_a_full_interval_from_the_answer(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    tracking.timer(tenant, ann, NOW - timedelta(minutes=62), asked=True)  # asked 2 minutes ago
    timer = await answer_activity_check(uow, clock, tenant=tenant, user=ann)
    assert timer.next_activity_check_at == NOW + timedelta(hours=1)
    assert timer.check_asked_at is None
    assert tracking.running(tenant, ann) == timer


async def test_a_check_deferred_to_tomorrow_is_asked_at_nine_in_the_users_own_zone(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant(time_zone="UTC")
    ann = seed.user(tenant)
    tracking.preference(tenant, ann, time_zone="Asia/Tokyo")
    tracking.timer(tenant, ann, NOW - timedelta(minutes=61), asked=True)
    timer = await answer_activity_check(uow, clock, tenant=tenant, user=ann, defer="tomorrow")
    # 09:00 UTC on the 10th is 18:00 in Tokyo; tomorrow 09:00 there is 00:00 UTC on the 11th.
    assert timer.next_activity_check_at == datetime(2026, 3, 11, 0, 0, tzinfo=UTC)


async def test_an_answer_after_the_window_is_a_conflict_and_the_stop_is_kept(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    tracking.timer(tenant, ann, NOW - timedelta(minutes=75), asked=True)  # the window closed at -5 min
    with pytest.raises(Conflict) as refused:
        await answer_activity_check(uow, clock, tenant=tenant, user=ann)
    assert refused.value.extra == {"reason": "activity_check"}
    assert tracking.running(tenant, ann) is None
    [worklog] = tracking.worklogs(tenant)
    assert worklog.length_s == 3600
    assert uow.commits == 1


async def test_answering_with_no_timer_running_is_a_conflict(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    with pytest.raises(Conflict) as refused:
        await answer_activity_check(uow, clock, tenant=tenant, user=ann)
    assert refused.value.extra == {"running": False}


# The job ----------------------------------------------------------------------------------


async def test_the_job_asks_a_due_check_once_without_stopping_the_timer(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking,
    directory: FakeTrackingDirectory, mailer: FakeMailer,
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    timer = tracking.timer(tenant, ann, NOW - timedelta(minutes=63))
    assert await run_timer_checks(uow, clock, directory, mailer) == []
    asked = tracking.running(tenant, ann)
    # Asked at the check's own time, so a late job gives no longer answer window.
    assert asked is not None and asked.check_asked_at == timer.next_activity_check_at
    assert await run_timer_checks(uow, clock, directory, mailer) == []
    assert tracking.running(tenant, ann) == asked


async def test_the_job_stops_an_unanswered_check_at_the_check_and_mails_a_user_who_asked_for_it(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking,
    directory: FakeTrackingDirectory, mailer: FakeMailer,
) -> None:
    tenant = seed.tenant()
    ann, bob = seed.user(tenant, "ann@acme.test"), seed.user(tenant, "bob@acme.test")
    tracking.preference(tenant, ann, mail_on_system_stop=True)
    tracking.timer(tenant, ann, NOW - timedelta(minutes=90), asked=True)
    tracking.timer(tenant, bob, NOW - timedelta(minutes=90), asked=True)
    stopped = await run_timer_checks(uow, clock, directory, mailer, base_url="https://stint.test")
    assert {s.reason for s in stopped} == {StopReason.ACTIVITY_CHECK}
    assert [w.length_s for w in tracking.worklogs(tenant)] == [3600, 3600]
    assert mailer.to("ann@acme.test") == ["Your Stint timer was stopped"]
    assert "an activity check went unanswered" in mailer.sent[0].body
    assert "60 minutes" in mailer.sent[0].body and "https://stint.test/time" in mailer.sent[0].body
    assert mailer.to("bob@acme.test") == []
    # Run again: nothing left to stop, nothing mailed twice.
    assert await run_timer_checks(uow, clock, directory, mailer) == []
    assert len(mailer.sent) == 1


async def test_the_job_stops_a_timer_at_its_maximum_length_even_with_its_checks_deferred(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking,
    directory: FakeTrackingDirectory, mailer: FakeMailer,
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    tracking.timer(tenant, ann, NOW - timedelta(hours=12, minutes=30), next_check=NOW + timedelta(days=1))
    [stopped] = await run_timer_checks(uow, clock, directory, mailer)
    assert stopped.reason is StopReason.MAX_LENGTH
    assert stopped.worklog is not None and stopped.worklog.length_s == 12 * 3600


async def test_a_timer_running_when_the_trial_ends_stops_at_that_moment_with_reason_subscription(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking,
    directory: FakeTrackingDirectory, mailer: FakeMailer,
) -> None:
    tenant = seed.tenant(subscription=trial(ends_on=date(2026, 3, 10)), time_zone="Europe/Berlin")
    ann = seed.user(tenant)
    tracking.preference(tenant, ann, mail_on_system_stop=True)
    # Started 22:30 UTC on the 9th; the trial ended at midnight in Berlin (23:00 UTC).
    tracking.timer(tenant, ann, datetime(2026, 3, 9, 22, 30, tzinfo=UTC), next_check=NOW + timedelta(hours=1))
    [stopped] = await run_timer_checks(uow, clock, directory, mailer)
    assert stopped.reason is StopReason.SUBSCRIPTION
    assert stopped.worklog is not None and stopped.worklog.length_s == 1800
    assert "subscription or trial ended" in mailer.sent[0].body


async def test_a_mail_server_that_is_down_loses_no_stop(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking,
    directory: FakeTrackingDirectory,
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    tracking.preference(tenant, ann, mail_on_system_stop=True)
    tracking.timer(tenant, ann, NOW - timedelta(minutes=90), asked=True)
    down = FakeMailer(down=True)
    [stopped] = await run_timer_checks(uow, clock, directory, down)
    assert down.refused == 1
    assert tracking.running(tenant, ann) is None
    assert tracking.worklogs(tenant) == [stopped.worklog]


async def test_the_job_visits_every_tenant_with_a_timer_and_only_those(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking,
    directory: FakeTrackingDirectory, mailer: FakeMailer,
) -> None:
    acme, globex = seed.tenant("acme"), seed.tenant("globex")
    seed.tenant("idle")
    for tenant in (acme, globex):
        tracking.timer(tenant, seed.user(tenant, f"ann@{tenant.slug}.test"), NOW - timedelta(hours=2))
    stopped = await run_timer_checks(uow, clock, directory, mailer)
    assert len(stopped) == 2
    assert await directory.tenants_with_timers() == []
    # One write unit of work per tenant with a timer; the idle tenant is never opened.
    assert uow.writes == 2


# SPEC §8: nothing adds a worklog inside a locked week, a running timer's worklog included.
# Approving the owner's week waits for the timer (test_approvals.py); a lock by date can
# fall on a running timer's days, and then only what it ran on open days is stored.


async def test_a_timer_whose_days_an_administrator_locks_meanwhile_keeps_only_what_it_ran_after_them(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    tracking.preference(tenant, ann, time_zone="Europe/Berlin")
    # Started at 23:30 Berlin time on the 9th; the 9th is locked while it runs.
    started = datetime(2026, 3, 9, 22, 30, tzinfo=UTC)
    clock.set(started + timedelta(hours=2))
    tracking.timer(tenant, ann, started, next_check=clock.now() + timedelta(minutes=5))
    tracking.rules(tenant, locked_until=date(2026, 3, 9))
    stopped = await stop_tracking(uow, clock, tenant=tenant, user=ann)
    [worklog] = tracking.worklogs(tenant)
    assert stopped.worklog == worklog
    # From Berlin's midnight (23:00 UTC) to the stop: the half hour on the 9th is not stored.
    assert (worklog.started_at, worklog.length_s) == (datetime(2026, 3, 9, 23, 0, tzinfo=UTC), 5400)
    assert stopped.locked_s == 1800
    assert tracking.running(tenant, ann) is None


async def test_a_timer_that_ran_only_on_days_locked_meanwhile_stops_stores_nothing_and_says_why(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tracking: Tracking
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    tracking.timer(tenant, ann, NOW - timedelta(minutes=30))
    tracking.rules(tenant, locked_until=NOW.date())  # locked up to today while it runs
    with pytest.raises(WeekLocked) as refused:
        await stop_tracking(uow, clock, tenant=tenant, user=ann)
    assert refused.value.extra == {"stopped": True, "locked_s": 1800}
    assert "30 min" in refused.value.detail
    # The stop stands (committed before the refusal), and nothing entered the locked day.
    assert tracking.running(tenant, ann) is None
    assert tracking.worklogs(tenant) == []
    assert uow.commits == 1


async def test_a_rule_stop_on_days_locked_meanwhile_stores_only_the_open_part_and_a_later_track_whole(
    uow: FakeUnitOfWorkFactory,
    clock: FixedClock,
    seed: Seed,
    tracking: Tracking,
    directory: FakeTrackingDirectory,
    mailer: FakeMailer,
) -> None:
    tenant = seed.tenant()
    ann, bob = seed.user(tenant, "ann@acme.test"), seed.user(tenant, "bob@acme.test")
    # Both ran past the maximum length (12 h); ann's first hours lie on a locked day.
    clock.set(datetime(2026, 3, 10, 14, 0, tzinfo=UTC))
    tracking.timer(
        tenant, ann, datetime(2026, 3, 9, 22, 0, tzinfo=UTC), next_check=clock.now() + timedelta(hours=1)
    )
    tracking.timer(
        tenant, bob, datetime(2026, 3, 10, 1, 0, tzinfo=UTC), next_check=clock.now() + timedelta(hours=1)
    )
    tracking.rules(tenant, locked_until=date(2026, 3, 9))
    stopped = {s.user_id: s for s in await run_timer_checks(uow, clock, directory, mailer)}
    assert stopped[ann.id].reason is StopReason.MAX_LENGTH and stopped[ann.id].locked_s == 2 * 3600
    assert stopped[ann.id].worklog is not None
    assert (stopped[ann.id].worklog.started_at, stopped[ann.id].worklog.length_s) == (
        datetime(2026, 3, 10, 0, 0, tzinfo=UTC),
        10 * 3600,
    )
    # Bob's timer started after the locked day (UTC's day here: no zone set): kept whole.
    assert stopped[bob.id].locked_s == 0 and stopped[bob.id].worklog is not None
    assert stopped[bob.id].worklog.length_s == 12 * 3600
