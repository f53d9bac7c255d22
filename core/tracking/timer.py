"""The timer on the server: one per user, activity checks, maximum length, stop reasons.

Functions take the timer and "now" as values and return new values plus what
happened (a :class:`TrackDraft` when a timer stopped); storing them is the
caller's job. Services call :func:`due_stop` (or :func:`stop_by_user` /
:func:`start_timer`, which do) before anything else, so that a timer a rule has
already stopped is never stopped later with another reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Literal

from core.errors import Conflict, ValidationFailed
from core.tracking.fields import MAX_LENGTH_S, WorklogFlag, clean_comment, clean_name, utc
from core.tracking.weeks import zone

__all__ = [
    "DEFERRED_CHECK_TIME",
    "DeferTo",
    "StopReason",
    "Timer",
    "TrackDraft",
    "TrackingRules",
    "ask_activity_check",
    "confirm_activity",
    "defer_activity_check",
    "due_stop",
    "start_timer",
    "stop_by_user",
    "stop_timer",
]

DeferTo = Literal["one_hour", "tomorrow", "next_monday"]

DEFERRED_CHECK_TIME = time(9, 0)
"""A check deferred to tomorrow or next Monday is asked at 09:00 in the user's zone:
the start of a working day, so the first check of the day comes when work starts."""


class StopReason(StrEnum):
    USER = "user"
    ACTIVITY_CHECK = "activity_check"
    MAX_LENGTH = "max_length"
    CONCURRENCY = "concurrency"
    SUBSCRIPTION = "subscription"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class TrackingRules:
    """The tenant's tracking rules (SPEC §8 defaults)."""

    tracking_without_work_item: bool = True
    activity_check_every: timedelta = timedelta(minutes=60)
    answer_window: timedelta = timedelta(minutes=10)
    max_track_length: timedelta = timedelta(hours=12)

    def __post_init__(self) -> None:
        for name in ("activity_check_every", "answer_window", "max_track_length"):
            if getattr(self, name) <= timedelta(0):
                raise ValidationFailed(f"{name} must be positive", field=name)
        # A stopped track becomes a worklog, and worklogs are at most a day long.
        if self.max_track_length > timedelta(seconds=MAX_LENGTH_S):
            raise ValidationFailed("max_track_length is at most 24 hours", field="max_track_length")


@dataclass(frozen=True, slots=True)
class Timer:
    """A running timer. ``check_asked_at`` is when the pending check was put to the user."""

    user_id: str
    started_at: datetime
    work_item: str | None
    comment: str | None
    next_activity_check_at: datetime
    check_asked_at: datetime | None = None
    #: The activity type the track is of (catalogue id and its current name), if any.
    activity_type_id: str | None = None
    activity_type: str | None = None
    #: The worklog it leaves is billable (the activity type's ``billable_by_default``).
    billable: bool = False


@dataclass(frozen=True, slots=True)
class TrackDraft:
    """A stopped timer: the worklog to store. ``length_s`` may be 0 (nothing to store)."""

    user_id: str
    started_at: datetime
    length_s: int
    work_item: str | None
    comment: str | None
    stop_reason: StopReason
    flags: frozenset[WorklogFlag] = field(default=frozenset({WorklogFlag.TRACKED}))
    activity_type_id: str | None = None
    activity_type: str | None = None
    billable: bool = False


def start_timer(
    user_id: str,
    now: datetime,
    work_item: str | None,
    comment: str | None,
    rules: TrackingRules,
    running: Timer | None,
    *,
    activity_type_id: str | None = None,
    activity_type: str | None = None,
    billable: bool = False,
) -> tuple[Timer, TrackDraft | None]:
    """Start tracking; a running timer is stopped first (reason ``concurrency``).

    ``activity_type_id``/``activity_type`` name a catalogue entry the caller resolved;
    ``billable`` is its ``billable_by_default``.
    """
    now = utc(now, "now")
    work_item = clean_name(work_item, "work_item")
    comment = clean_comment(comment)
    if not rules.tracking_without_work_item and work_item is None and comment is None:
        raise ValidationFailed(
            "tracking without a work item is off: give a work item or a comment",
            field="work_item",
        )
    stopped = None
    if running is not None:
        if running.user_id != user_id:
            raise ValueError("the running timer belongs to another user")
        stopped = _stop_with(running, now, StopReason.CONCURRENCY, rules)
    # Whole seconds: worklog lengths are whole seconds, so the start is too.
    started_at = now.replace(microsecond=0)
    timer = Timer(
        user_id=user_id,
        started_at=started_at,
        work_item=work_item,
        comment=comment,
        next_activity_check_at=started_at + rules.activity_check_every,
        activity_type_id=activity_type_id,
        activity_type=activity_type,
        billable=billable,
    )
    return timer, stopped


def stop_timer(timer: Timer, at: datetime, reason: StopReason) -> TrackDraft:
    """The worklog a timer leaves when stopped at ``at`` (never a negative length)."""
    seconds = int((utc(at, "at") - timer.started_at).total_seconds())
    return TrackDraft(
        user_id=timer.user_id,
        started_at=timer.started_at,
        length_s=max(0, seconds),
        work_item=timer.work_item,
        comment=timer.comment,
        stop_reason=reason,
        activity_type_id=timer.activity_type_id,
        activity_type=timer.activity_type,
        billable=timer.billable,
    )


def stop_by_user(timer: Timer, now: datetime, rules: TrackingRules) -> TrackDraft:
    """The user pressed stop; if a rule had already stopped the timer, that stop stands."""
    return _stop_with(timer, now, StopReason.USER, rules)


def _stop_with(
    timer: Timer, now: datetime, reason: StopReason, rules: TrackingRules
) -> TrackDraft:
    due = due_stop(timer, now, rules)
    if due is not None:
        return stop_timer(timer, *due)
    return stop_timer(timer, now, reason)


def due_stop(
    timer: Timer, now: datetime, rules: TrackingRules
) -> tuple[datetime, StopReason] | None:
    """When and why a rule stops this timer, if one has by ``now``.

    An activity check is asked at ``next_activity_check_at``; unanswered once the
    answer window has passed, the timer stops *at the check*. The max-length stop
    is at ``started_at + max_track_length``. When both apply, the one decided
    first wins — max length is decided at its own moment, a check at the end of its
    window — so the answer does not depend on how late a background job runs.
    """
    now = utc(now, "now")
    check_at = timer.next_activity_check_at
    check_decided = check_at + rules.answer_window
    max_at = timer.started_at + rules.max_track_length
    candidates = []
    if now >= max_at:
        candidates.append((max_at, max_at, StopReason.MAX_LENGTH))
    if now >= check_decided:
        candidates.append((check_decided, check_at, StopReason.ACTIVITY_CHECK))
    if not candidates:
        return None
    _, at, reason = min(candidates)
    return at, reason


def _ensure_running(timer: Timer, now: datetime, rules: TrackingRules) -> None:
    due = due_stop(timer, now, rules)
    if due is not None:
        at, reason = due
        raise Conflict(
            f"the timer was already stopped ({reason}) at {at.isoformat()}",
            stopped_at=at.isoformat(),
            reason=str(reason),
        )


def confirm_activity(timer: Timer, now: datetime, rules: TrackingRules) -> Timer:
    """The user confirms "still working": the next check is a full interval from now.

    Too late — after a rule stopped the timer — is a Conflict; the service
    should have applied :func:`due_stop` first.
    """
    now = utc(now, "now")
    _ensure_running(timer, now, rules)
    next_check = now + rules.activity_check_every
    return replace(timer, next_activity_check_at=next_check, check_asked_at=None)


def ask_activity_check(timer: Timer, now: datetime) -> Timer:
    """Record that the due check is put to the user (once: compare ``check_asked_at``).

    The check counts as asked at ``next_activity_check_at`` whenever the job
    notices it, so a late job does not give the user a longer answer window.
    """
    if timer.check_asked_at is not None or utc(now, "now") < timer.next_activity_check_at:
        return timer
    return replace(timer, check_asked_at=timer.next_activity_check_at)


def defer_activity_check(
    timer: Timer,
    now: datetime,
    how: DeferTo,
    user_time_zone: str,
    *,
    rules: TrackingRules,
) -> Timer:
    """Put the next check off by one hour, to tomorrow, or to next Monday.

    Tomorrow and next Monday mean :data:`DEFERRED_CHECK_TIME` on that day in the
    user's zone; on a Monday, "next Monday" is seven days on. Deferring does not
    lift the max-length stop.
    """
    now = utc(now, "now")
    _ensure_running(timer, now, rules)
    if how == "one_hour":
        next_check = now + timedelta(hours=1)
    elif how in ("tomorrow", "next_monday"):
        tz = zone(user_time_zone)
        today = now.astimezone(tz).date()
        days = 1 if how == "tomorrow" else 7 - today.weekday()
        day = today + timedelta(days=days)
        next_check = datetime.combine(day, DEFERRED_CHECK_TIME, tzinfo=tz).astimezone(UTC)
    else:
        raise ValidationFailed(
            "defer is one of one_hour, tomorrow, next_monday", field="defer"
        )
    return replace(timer, next_activity_check_at=next_check, check_asked_at=None)
