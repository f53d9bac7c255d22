"""The timer on the server (SPEC §8): start, stop, current, activity checks, and the
job that stops timers an unanswered check or the maximum length has stopped.

Every change runs in a write unit of work under the user's lock, so two clients
starting at once leave exactly one running timer, the other stopped with reason
``concurrency``. Rules decided by time are settled before anything else (see
:func:`core.tracking.due_stop`): a late job or a late click cannot move a stop.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.activities import resolve
from core.clock import Clock, today_in
from core.errors import Conflict
from core.ids import new_id
from core.jobs.ports import Mailer
from core.licensing.subscription import DEFAULT_GRACE_DAYS, access_ended_on
from core.tenancy import Tenant, User
from core.tracking import (
    DeferTo,
    LockPolicy,
    StopReason,
    Timer,
    TrackDraft,
    TrackingRules,
    Worklog,
    ask_activity_check,
    confirm_activity,
    create_worklog,
    defer_activity_check,
    draft_from_track,
    due_stop,
    ensure_unlocked,
    local_day,
    start_timer,
    stop_by_user,
    stop_timer,
    week_of,
)
from core.tracking.ports import TrackingDirectory, TrackingRepository, TrackingSettings, WorkItemEffect
from core.unit_of_work import TenantScope, UnitOfWork, UnitOfWorkFactory

from .budgets import ensure_budget_open
from .planning import known_work_item, parse_work_item_id, require_work_item
from .timer_locks import ZoneOf, known_zone, refuse_locked, unlocked_part, zone_of
from .tracking_common import check_limits, check_limits_of, user_zone, work_item_effects

__all__ = [
    "StoppedTrack",
    "answer_activity_check",
    "current_timer",
    "run_timer_checks",
    "start_tracking",
    "stop_tracking",
]

log = logging.getLogger("stint.tracking")

#: Stops made by the system, not the user: these may be mailed (SPEC §8).
_SYSTEM_STOPS = frozenset(
    {StopReason.ACTIVITY_CHECK, StopReason.MAX_LENGTH, StopReason.SUBSCRIPTION, StopReason.SYSTEM}
)


@dataclass(frozen=True, slots=True)
class StoppedTrack:
    """A timer that stopped, and the worklog it left (None for a 0-second track)."""

    user_id: str
    reason: StopReason
    worklog: Worklog | None
    #: Seconds the timer ran on days that got locked meanwhile: not stored (SPEC §8).
    locked_s: int = 0


def _track_writes(
    track: TrackDraft, locked_s: int = 0
) -> tuple[StoppedTrack, Worklog | None, list[WorkItemEffect]]:
    """The worklog a stopped track leaves (none for 0 seconds) and the work-item effects it queues."""
    worklog = None
    effects: list[WorkItemEffect] = []
    if track.length_s > 0:
        worklog = create_worklog(draft_from_track(track), new_id())
        effects = work_item_effects(None, worklog, new_id())
    return StoppedTrack(track.user_id, track.stop_reason, worklog, locked_s), worklog, effects


async def _finish(
    repo: TrackingRepository, track: TrackDraft, at: datetime, then: Timer | None = None, *,
    lock: LockPolicy, zone_of: ZoneOf,
) -> StoppedTrack:
    """Store a stopped track and replace the user's timer by ``then`` (None: no timer)."""
    track, locked_s = await unlocked_part(repo, track, lock, zone_of)
    stopped, worklog, effects = _track_writes(track, locked_s)
    await repo.write_timer(track.user_id, then, at, worklog=worklog, stop_reason=track.stop_reason.value,
                           effects=effects)
    return stopped


async def _settle(
    repo: TrackingRepository, user_id: str, clock: Clock, settings: TrackingSettings, tenant_zone: str
) -> tuple[Timer | None, StoppedTrack | None]:
    """The running timer, after applying a stop a rule has already decided."""
    timer = await repo.timer(user_id)
    if timer is None:
        return None, None
    due = due_stop(timer, clock.now(), settings.rules)
    if due is None:
        return timer, None
    return None, await _finish(repo, stop_timer(timer, *due), clock.now(),
                               lock=settings.lock.as_of(today_in(clock)),
                               zone_of=zone_of(repo, tenant_zone, user_id))


def _weeks_around(now: datetime) -> tuple[str, str]:
    """The ISO weeks ``now`` falls in somewhere: local days run from UTC−12 to UTC+14."""
    return str(week_of((now - timedelta(hours=12)).date())), str(week_of((now + timedelta(hours=14)).date()))


async def start_tracking(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, user: User,
    work_item: str | None, comment: str | None,
    activity_type_id: str | None = None, activity_type: str | None = None,
) -> tuple[Timer, StoppedTrack | None]:
    """Start a timer; one already running is stopped first (reason ``concurrency``).

    The activity type is an active catalogue entry named by id or name (else 422
    ``unknown_activity_type``); the worklog the timer leaves is billable when the entry is
    billable by default.

    Five round trips on PostgreSQL in the usual case (docs/benchmarks.md, Tracking):
    ``BEGIN``, the user's lock, one read of everything the rules decide on
    (``timer_reads``), one write (``write_timer``), the commit. The checks run in the
    order they always did, so the same error wins when several apply.
    """
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        # The catalogue is read only when an entry is named: resolve() needs none otherwise.
        named = activity_type_id is not None or (activity_type is not None and bool(activity_type.strip()))
        entry = resolve(
            await scope.activity_types().all() if named else (),
            activity_type_id=activity_type_id, name=activity_type,
        )
        repo = scope.tracking()
        item_id = parse_work_item_id(work_item) if work_item is not None and work_item.strip() else None
        await repo.lock_user(user.id)
        now = clock.now()
        reads = await repo.timer_reads(user.id, start=True, weeks=_weeks_around(now), work_item=item_id)
        rules, lock = reads.settings.rules, reads.settings.lock.as_of(today_in(clock))
        zone_of = known_zone(reads.time_zone or tenant.time_zone)
        if item_id is not None:
            # Only an item of the mirror, kept as its canonical id.
            if reads.work_item_exists is None:
                work_item = await require_work_item(scope.work_items(), work_item)
            else:
                work_item = known_work_item(item_id, reads.work_item_exists)
        settled, stopped = reads.timer, None
        due = None if settled is None else due_stop(settled, now, rules)
        if settled is not None and due is not None:
            # A rule stopped it already: stored now, as before, so the limits count its worklog.
            stopped = await _finish(repo, stop_timer(settled, *due), now, lock=lock, zone_of=zone_of)
            settled = None
        adding = {user.id: 1 if settled is None else 2}
        if reads.worklog_limits is None:
            await check_limits(scope, work.directory.catalogue, adding)
        else:
            await check_limits_of(repo, reads.worklog_limits, adding)
        day = local_day(now, reads.time_zone or tenant.time_zone)
        week = str(week_of(day))
        status = reads.week_statuses.get(week)
        ensure_unlocked(day, status if status is not None else await repo.week_status(user.id, week), lock)
        if reads.closed_budget is not False:
            # A timer's worklog would go to its work item's budget: a closed one refuses the start.
            # Stopping a timer started before the budget closed keeps the time (docs/budgets.md).
            await ensure_budget_open(scope, work_item)
        timer, track = start_timer(
            user.id, now, work_item, comment, rules, settled,
            activity_type_id=entry.id if entry else None,
            activity_type=entry.name if entry else None,
            billable=entry.billable_by_default if entry else False,
        )
        if track is not None:
            stopped = await _finish(repo, track, now, then=timer, lock=lock, zone_of=zone_of)
        else:
            await repo.write_timer(user.id, timer, now)
        await work.commit()
    return timer, stopped


async def stop_tracking(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, user: User
) -> StoppedTrack:
    """The user stops their timer; a stop a rule already made stands (with its reason)."""
    async with uow(write=True) as work:
        repo = work.tenant(tenant.id).tracking()
        await repo.lock_user(user.id)
        # After the lock, not with it: a statement that waited for the lock would read
        # the timer as it was before the holder committed.
        reads = await repo.timer_reads(user.id)
        if reads.timer is None:
            raise Conflict("no timer is running", running=False)
        now = clock.now()
        stopped = await _finish(repo, stop_by_user(reads.timer, now, reads.settings.rules), now,
                                lock=reads.settings.lock.as_of(today_in(clock)),
                                zone_of=zone_of(repo, tenant.time_zone, user.id))
        await work.commit()
    refuse_locked(stopped.worklog, stopped.locked_s)
    return stopped


async def current_timer(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, user: User
) -> tuple[Timer | None, TrackingRules]:
    """The running timer as every client should show it (a due stop is applied first)."""
    async with uow() as work:
        repo = work.tenant(tenant.id).tracking()
        settings = await repo.rules()
        rules = settings.rules
        timer = await repo.timer(user.id)
    if timer is None or due_stop(timer, clock.now(), rules) is None:
        return timer, rules
    async with uow(write=True) as work:
        repo = work.tenant(tenant.id).tracking()
        await repo.lock_user(user.id)
        timer, _ = await _settle(repo, user.id, clock, settings, tenant.time_zone)
        await work.commit()
    return timer, rules


async def answer_activity_check(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, user: User, defer: DeferTo | None = None
) -> Timer:
    """"Still working" — or defer the check by one hour, to tomorrow or to next Monday.

    Too late (a rule has stopped the timer) is a Conflict; the stop is kept.
    """
    async with uow(write=True) as work:
        repo = work.tenant(tenant.id).tracking()
        await repo.lock_user(user.id)
        settings = await repo.rules()
        rules = settings.rules
        timer, stopped = await _settle(repo, user.id, clock, settings, tenant.time_zone)
        if timer is not None:
            now = clock.now()
            if defer is None:
                timer = confirm_activity(timer, now, rules)
            else:
                zone = await user_zone(repo, tenant, user.id)
                timer = defer_activity_check(timer, now, defer, zone, rules=rules)
            await repo.save_timer(timer, now)
        await work.commit()  # a stop the rules made is kept even though the answer is refused
    if stopped is not None:
        raise Conflict(f"the timer was already stopped ({stopped.reason})", reason=str(stopped.reason))
    if timer is None:
        raise Conflict("no timer is running", running=False)
    return timer


async def _access_ended_at(
    work: UnitOfWork, scope: TenantScope, clock: Clock, grace_days: int
) -> tuple[datetime | None, str]:
    """The instant the tenant's access ended (midnight of its first day without), or None;
    and the tenant's time zone."""
    tenant = await work.directory.tenant_by_id(scope.tenant_id)
    name = tenant.time_zone if tenant is not None else "UTC"
    zone = ZoneInfo(name)
    sub = (await scope.subscriptions().get()).subscription
    day = access_ended_on(sub, clock.now().astimezone(zone).date(), grace_days)
    return None if day is None else datetime.combine(day, time(0), tzinfo=zone), name


async def run_timer_checks(
    uow: UnitOfWorkFactory, clock: Clock, directory: TrackingDirectory, mailer: Mailer,
    *, base_url: str = "", grace_days: int = DEFAULT_GRACE_DAYS,
) -> list[StoppedTrack]:
    """The activity-check, max-length and end-of-access job: idempotent, safe to run twice or at once.

    Marks due checks as asked, stops timers whose check went unanswered (at the
    check), that reached the maximum length, or whose tenant's access ended (at that
    moment, reason ``subscription``), and mails the users who asked for it.
    Mail goes after the commit, so a mail server that is down loses no stop.
    """
    stopped: list[StoppedTrack] = []
    for tenant_id in await directory.tenants_with_timers():
        notices: list[tuple[str, StoppedTrack]] = []
        async with uow(write=True) as work:
            scope = work.tenant(tenant_id)
            repo = scope.tracking()
            settings = await repo.rules()
            ended_at, tenant_zone = await _access_ended_at(work, scope, clock, grace_days)
            for timer in await repo.timers():
                await repo.lock_user(timer.user_id)
                settled, done = await _settle(repo, timer.user_id, clock, settings, tenant_zone)
                if settled is not None and ended_at is not None:
                    # Access ended (trial over, subscription expired): the timer stops when it
                    # did, so no time is tracked past the end of access.
                    at = max(settled.started_at, min(ended_at, clock.now()))
                    done = await _finish(repo, stop_timer(settled, at, StopReason.SUBSCRIPTION), clock.now(),
                                         lock=settings.lock.as_of(today_in(clock)),
                                         zone_of=zone_of(repo, tenant_zone, timer.user_id))
                    settled = None
                if done is not None:
                    stopped.append(done)
                    if (await repo.preference(done.user_id)).mail_on_system_stop:
                        owner = await scope.users().get(done.user_id)
                        if owner is not None:
                            notices.append((owner.email, done))
                elif settled is not None:
                    asked = ask_activity_check(settled, clock.now())
                    if asked != settled:
                        await repo.save_timer(asked, clock.now())
            await work.commit()
        for email, done in notices:
            await _mail_stop(mailer, email, done, base_url)
    return stopped


async def _mail_stop(mailer: Mailer, email: str, done: StoppedTrack, base_url: str) -> None:
    if done.reason not in _SYSTEM_STOPS:
        return
    why = {
        StopReason.ACTIVITY_CHECK: "an activity check went unanswered",
        StopReason.MAX_LENGTH: "it reached the maximum length of a single track",
        StopReason.SUBSCRIPTION: "your organisation's Stint subscription or trial ended",
    }.get(done.reason, "the system stopped it")
    logged = done.worklog
    detail = (
        f"The track from {logged.started_at.isoformat()} was saved as a worklog of "
        f"{logged.length_s // 60} minutes."
        if logged is not None
        else "Nothing was tracked."
    )
    body = f"Your Stint timer was stopped because {why}.\n\n{detail}\n\n{base_url}/time\n"
    try:
        await mailer.send(email, "Your Stint timer was stopped", body)
    except Exception:
        # The stop is committed; a lost notice must not undo it or stop the job.
        log.exception("could not mail a timer stop", extra={"reason": str(done.reason)})
