"""What a unit of work changed that cached access decisions (and other cached reads:
the rate book, a user's zone) depend on.

Repository methods that change a role, a user's flags, a tenant's settings, a seat or
a subscription call :func:`note_change` with the scope they touched (``t:<tenant id>``,
``s:<subscription id>``, ``u:<user id>``, or ``*`` for what every tenant reads). The unit
of work collects the scopes and, *after* its commit, hands them to the cache's ``bump`` —
so the very next request decides afresh.
"""

from __future__ import annotations

import contextvars

__all__ = ["collecting", "note_change", "rates_scope", "subscription_scope", "tenant_scope", "user_scope"]

_pending: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("stint_changes", default=None)


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
