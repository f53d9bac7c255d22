"""A running timer's days can lock under it (SPEC §8: nothing adds a worklog inside a locked
week): what a stopped track may still store, and what the user is told when nothing is left.

Approving or closing the owner's week waits for the timer (:func:`ensure_no_timer_inside`,
asked by :func:`core.services.approval_steps.change_week`); a lock by date (an administrator's
``locked_until``, the approval settings as the calendar moves on) cannot wait, so every stop
(:func:`core.services.tracking._finish`) passes its track through :func:`unlocked_part`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

from core.errors import TimerRunning, WeekLocked
from core.tenancy import Tenant
from core.tracking import (
    LockPolicy,
    TrackDraft,
    WeekId,
    Worklog,
    first_open_instant,
    local_day,
    week_of,
    zone,
)
from core.tracking.ports import TrackingRepository

__all__ = ["ZoneOf", "ensure_no_timer_inside", "known_zone", "refuse_locked", "unlocked_part", "zone_of"]

#: The user's time zone, asked only when a lock comes near a stopped track.
ZoneOf = Callable[[], Awaitable[str]]


async def unlocked_part(
    repo: TrackingRepository, track: TrackDraft, lock: LockPolicy, zone_of: ZoneOf
) -> tuple[TrackDraft, int]:
    """``track`` without what it ran on locked days, and how many seconds that was.

    A timer's days can lock while it runs: an administrator locks up to a date, or the
    approval settings lock a week as the calendar moves on (an approval of the owner's week
    waits for the timer: :func:`core.services.approval_steps.change_week`). Nothing may add a
    worklog inside a locked week, so the worklog starts where the locked days end, or is
    not stored at all. No query unless a date lock reaches the track's first day (local
    days begin at the earliest at UTC−12).
    """
    if track.length_s <= 0 or lock.locked_until is None:
        return track, 0
    if lock.locked_until < (track.started_at - timedelta(hours=12)).date():
        return track, 0
    time_zone = await zone_of()
    end = track.started_at + timedelta(seconds=track.length_s)
    first, last = local_day(track.started_at, time_zone), local_day(end, time_zone)
    # Every week the track touches (two at most with the default 12-hour maximum).
    weeks = {str(week_of(first + timedelta(days=n))) for n in range((last - first).days + 1)}
    statuses = {week: await repo.week_status(track.user_id, week) for week in sorted(weeks)}
    opens = first_open_instant(track.started_at, end, time_zone, statuses, lock)
    if opens is None:
        return replace(track, length_s=0), track.length_s
    cut = int((opens - track.started_at).total_seconds())
    if cut <= 0:
        return track, 0
    return replace(track, started_at=opens, length_s=track.length_s - cut), cut


def zone_of(repo: TrackingRepository, tenant_zone: str, user_id: str) -> ZoneOf:
    async def user_zone() -> str:
        return (await repo.preference(user_id)).time_zone or tenant_zone

    return user_zone


def known_zone(time_zone: str) -> ZoneOf:
    async def the_zone() -> str:
        return time_zone

    return the_zone


def refuse_locked(worklog: Worklog | None, locked_s: int) -> None:
    """The user's own stop left nothing to store (``worklog`` None) because the days it ran
    on are locked: say so (423), after the commit, so the stop itself stands."""
    if worklog is None and locked_s > 0:
        minutes = locked_s // 60
        raise WeekLocked(
            f"the timer stopped, but the {minutes} min it ran lie in locked days "
            "(locked by an administrator or the tenant's approval settings) and were not stored",
            stopped=True, locked_s=locked_s,
        )


async def ensure_no_timer_inside(
    repo: TrackingRepository, tenant: Tenant, owner_id: str, week: WeekId
) -> None:
    """TimerRunning when the owner's running timer started inside ``week``: locked now, the
    week would have no place for the worklog the timer leaves when it stops (SPEC §8). The
    caller holds the owner's lock, which starting a timer takes too."""
    timer = await repo.timer(owner_id)
    if timer is None:
        return
    zone_name = (await repo.preference(owner_id)).time_zone or tenant.time_zone
    if week_of(local_day(timer.started_at, zone_name)) != week:
        return
    since = timer.started_at.astimezone(zone(zone_name)).strftime("%Y-%m-%d %H:%M")
    raise TimerRunning(
        f"a timer is running in this week (since {since}, {zone_name}); decide the week once it stops",
        week=str(week), user_id=owner_id,
    )
