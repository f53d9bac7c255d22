"""What a unit of work changed that cached access decisions (and other cached reads:
the rate book, a user's zone) depend on.

Repository methods that change a role, a user's flags, a tenant's settings, a seat or
a subscription call :func:`note_change` with the scope they touched (``t:<tenant id>``,
``s:<subscription id>``, ``u:<user id>``, or ``*`` for what every tenant reads). The unit
of work collects the scopes and, *after* its commit, hands them to the cache's ``bump`` —
so the very next request decides afresh.

Writes to a user's timer or worklogs likewise call :func:`note_tracking`; after the commit
the unit of work publishes them on the change feed (``core.tracking.feed``) — once, and
never for a transaction that rolled back.
"""

from __future__ import annotations

import contextvars

from core.tracking import Timer
from core.tracking.feed import TrackingChange

__all__ = [
    "Tracked",
    "collecting",
    "collecting_tracking",
    "note_change",
    "note_tracking",
    "rates_scope",
    "stop_collecting",
    "stop_collecting_tracking",
    "subscription_scope",
    "tenant_scope",
    "user_scope",
]

_pending: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("stint_changes", default=None)
#: Keyed by (tenant, user, timer?): a later write in the same transaction replaces an earlier
#: one, so a restart (stop, then start) publishes only the timer it ends with.
Tracked = dict[tuple[str, str | None, bool], TrackingChange]
_tracking: contextvars.ContextVar[Tracked | None] = contextvars.ContextVar(
    "stint_tracking_changes", default=None
)


def tenant_scope(tenant_id: str) -> str:
    return f"t:{tenant_id}"


def user_scope(user_id: str) -> str:
    """One user's own row (``last_used_at``): only that user's cached sign-in is forgotten."""
    return f"u:{user_id}"


def rates_scope(tenant_id: str) -> str:
    """A tenant's user rates, activity types and rate currency: its cached rate book
    (``core.services.rates.rates_scopes`` reads the same name)."""
    return f"r:{tenant_id}"


def subscription_scope(subscription_id: str) -> str:
    return f"s:{subscription_id}"


def note_change(scope: str) -> None:
    """Record that the running unit of work changed ``scope`` (no-op outside one)."""
    pending = _pending.get()
    if pending is not None:
        pending.add(scope)


def collecting(changes: set[str]) -> contextvars.Token[set[str] | None]:
    """Start collecting into ``changes``; pass the token to ``_pending.reset``."""
    return _pending.set(changes)


def stop_collecting(token: contextvars.Token[set[str] | None]) -> None:
    _pending.reset(token)


def note_tracking(
    tenant_id: str, user_id: str | None, *, timer: bool,
    state: Timer | None = None, carries_state: bool = False,
) -> None:
    """Record that the running unit of work changed ``user_id``'s timer or worklogs
    (``None``: every user of the tenant), with the timer it leaves when known; no-op
    outside one."""
    pending = _tracking.get()
    if pending is not None:
        pending[tenant_id, user_id, timer] = TrackingChange(tenant_id, user_id, timer, state, carries_state)


def collecting_tracking(changes: Tracked) -> contextvars.Token[Tracked | None]:
    return _tracking.set(changes)


def stop_collecting_tracking(token: contextvars.Token[Tracked | None]) -> None:
    _tracking.reset(token)
