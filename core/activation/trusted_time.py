"""Clock tampering (SPEC §7): "a clock set back before the newest verified issue time is
detected and refused" — on every access decision, not only when a file is installed.

An on-premises server counts its licence's days on its own clock, so it remembers the
latest time it has trusted: a clock reading that passed this check, kept with the tenant's
activation and only ever moved forward. The clock is refused (``clock_set_back``) when it
reads earlier than

- the newest verified activation file's issue time, less :data:`CLOCK_SKEW` (the same
  allowance a file gets when it is installed): the file proves that time had come; or
- the latest trusted time, less a tolerance (an hour unless configured), so that a clock
  which ran fast can be corrected without locking anyone out.

A newer activation file is the vendor's signed word on the time: installing one moves the
latest trusted time to its issue time (or the clock, if later), even backwards — the way
out after a clock that was set far ahead by mistake is corrected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.activation.claims import CLOCK_SKEW

__all__ = [
    "DEFAULT_TOLERANCE",
    "MARK_EVERY",
    "ClockSetBack",
    "TrustedTime",
    "clock_set_back",
    "mark_due",
]

#: How far the clock may fall behind the latest trusted time before it is refused.
DEFAULT_TOLERANCE = timedelta(hours=1)
#: How far the clock must have moved past the stored mark before it is written again: the
#: mark is refreshed as a side effect of access decisions, not written on every request.
MARK_EVERY = timedelta(minutes=1)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("s" if hours != 1 else "")
    return f"{minutes} minute" + ("s" if minutes != 1 else "")


@dataclass(frozen=True, slots=True)
class TrustedTime:
    """What a server remembers about time, for one tenant."""

    latest: datetime | None = None
    """The latest clock reading it has trusted (None: none yet)."""
    newest_issued_at: datetime | None = None
    """The issue time of the newest activation file it has verified (None: no file)."""


@dataclass(frozen=True, slots=True)
class ClockSetBack:
    """Why the clock is not believed: it reads ``now``, earlier than ``trusted`` allows."""

    now: datetime
    floor: datetime
    """The time the clock was shown to have reached: a file's issue time or a trusted reading."""
    from_file: bool
    tolerance: timedelta

    @property
    def message(self) -> str:
        if self.from_file:
            return (
                f"This server's clock reads {_stamp(self.now)}, earlier than the issue time of the "
                f"newest activation file it has verified ({_stamp(self.floor)}). The clock appears "
                f"to have been set back: correct the server's date and time."
            )
        return (
            f"This server's clock reads {_stamp(self.now)}, more than {_span(self.tolerance)} "
            f"earlier than a time it has already trusted ({_stamp(self.floor)}). The clock appears "
            f"to have been set back: correct the server's date and time. If they are correct, "
            f"ask support for a new activation file."
        )


def clock_set_back(
    now: datetime, trusted: TrustedTime, tolerance: timedelta = DEFAULT_TOLERANCE
) -> ClockSetBack | None:
    """Why ``now`` cannot be believed, or None when it can (see the module docstring).

    The activation file comes first: it is the vendor's signed word, the trusted time only
    the server's own.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    if tolerance < timedelta(0):
        raise ValueError("the tolerance cannot be negative")
    issued = trusted.newest_issued_at
    if issued is not None and now < issued - CLOCK_SKEW:
        return ClockSetBack(now, issued, True, tolerance)
    latest = trusted.latest
    if latest is not None and now < latest - tolerance:
        return ClockSetBack(now, latest, False, tolerance)
    return None


def mark_due(now: datetime, trusted: TrustedTime) -> bool:
    """Whether ``now`` (believed) should be stored as the latest trusted time."""
    return trusted.latest is None or now - trusted.latest >= MARK_EVERY
