"""The change feed: committed timer and worklog changes, published once, fanned out to every
open event stream (issue #23, "live updates that scale").

A write that changes a user's timer or worklogs notes a :class:`TrackingChange`; the unit
of work hands them to :meth:`ChangeFeed.publish` *after* its commit (a rolled-back change is
never published). An event stream :meth:`subscribes <ChangeFeed.subscribe>` to its user's
changes first and reads the current state once after, so nothing slips between the read
and the subscription; from then on it reads the database only when the feed says its own
user's timer changed. Database work grows with the number of changes, not of open streams.

A timer change carries the timer as committed (or None: stopped), so a stream pushes it
without asking the database: queries per second grow with changes, not with open streams.
Two processes may publish one user's changes out of commit order; a stream that hears of
two changes of its user in quick succession therefore reads the database once instead of
trusting the order (``web/api/tracking.py``), which costs a read only in such bursts.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Literal, Protocol

from core.tracking.timer import Timer

__all__ = ["RESYNC", "ChangeFeed", "FeedItem", "FellBehind", "Resync", "Subscription", "TrackingChange"]


class FellBehind(Exception):
    """A subscriber did not keep up with its feed and was dropped."""


@dataclass(frozen=True, slots=True)
class TrackingChange:
    """A committed change to ``user_id``'s timer (``timer=True``) or worklogs.

    ``user_id=None``: every user of the tenant (a catalogue rename rewrites their timers).
    ``carries_state``: ``state`` is the user's timer as committed (None: none runs); without
    it a subscriber reads the timer itself."""

    tenant_id: str
    user_id: str | None
    timer: bool
    state: Timer | None = None
    carries_state: bool = False

    def concerns(self, tenant_id: str, user_id: str) -> bool:
        return self.tenant_id == tenant_id and self.user_id in (None, user_id)


@dataclass(frozen=True, slots=True)
class Resync:
    """The feed may have missed changes (its connection to the publisher was lost and is
    back): a subscriber reads the current state again."""

    kind: Literal["resync"] = "resync"


RESYNC = Resync()

#: What a subscription yields: a change of its user, or "read the state again".
FeedItem = TrackingChange | Resync


class Subscription(Protocol):
    """One stream's view of the feed: only its own user's changes."""

    async def next(self, timeout: float) -> FeedItem | None:
        """The next item, or None when ``timeout`` seconds pass without one.

        Raises :class:`FellBehind` when the subscriber fell so far behind that its queue
        filled: it ends (the client reconnects and gets the current state) rather than
        holding up the others."""
        ...


class ChangeFeed(Protocol):
    """Committed tracking changes, across every process that serves the same tenants."""

    async def publish(self, changes: Collection[TrackingChange]) -> None:
        """Announce committed changes (called after the commit, never before)."""
        ...

    def subscribe(self, tenant_id: str, user_id: str) -> AbstractAsyncContextManager[Subscription]:
        """Receive ``user_id``'s changes until the context ends."""
        ...
