"""What a token may be used for: its scopes (issues #18, #20).

A scope only ever narrows what the token's user's role already allows: the access decision
asks the role first as always, and a scoped token is refused a route whose scope it does not
hold (``web/access.py``). Every API route declares the one scope it needs.

The set, and why it is cut this way:

- ``tracking`` — the timer (start, stop, switch, the live stream, activity checks, the
  user's preferences) and what a tracker needs to pick what to track (work items,
  iterations, activity types, the tenant's tracking rules, who the caller is). Not the
  worklogs themselves: a tracker that shows "today" asks for ``worklogs:read`` too.
- ``worklogs:read`` — worklogs, timesheets, exports and the budgets they book to, as far as
  the role lets the user see them (their own for Team).
- ``worklogs:write`` — adding, changing, deleting and importing worklogs, submitting one's
  own week, and creating or editing work items and iterations (standalone tracking).
- ``reporting:read`` — the OData reporting feed (``/api/odata/…``) and the rates it prices
  with: what Excel and Power BI need, and nothing that writes.
- ``users:read`` — the tenant's user list (for a directory sync, say).
- ``admin`` — everything that manages the account or the tenant: settings, users,
  subscription and invoices, budgets, approvals, the security history, the caller's own
  second factor and personal access tokens. ``admin`` does not imply the others.

A token without scopes (every token made before scopes existed, and one created without
``scopes``) has them all, so it keeps doing what it did; so do access tokens from a
password sign-in.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from core.errors import ValidationFailed

__all__ = ["ALL_SCOPES", "Scope", "grants", "parse_scopes", "scope_text", "scopes_of_text"]


class Scope(StrEnum):
    TRACKING = "tracking"
    WORKLOGS_READ = "worklogs:read"
    WORKLOGS_WRITE = "worklogs:write"
    REPORTING_READ = "reporting:read"
    USERS_READ = "users:read"
    ADMIN = "admin"


ALL_SCOPES: frozenset[Scope] = frozenset(Scope)


def parse_scopes(values: Iterable[str]) -> frozenset[Scope]:
    """The scopes named; an unknown name, or none at all, is bad input (422)."""
    found: set[Scope] = set()
    for value in values:
        try:
            found.add(Scope(value))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise ValidationFailed(f"unknown scope {value[:40]!r}; known scopes: {known}",
                                   field="scopes") from None
    if not found:
        raise ValidationFailed("name at least one scope, or leave scopes out for full access",
                               field="scopes")
    return frozenset(found)


def grants(held: frozenset[Scope] | None, needed: Scope) -> bool:
    """Whether a token holding ``held`` (None: unrestricted) may use a route needing ``needed``."""
    return held is None or needed in held


def scope_text(scopes: frozenset[Scope] | None) -> str | None:
    """As stored: space-separated in a fixed order (OAuth's form); None stays None (all)."""
    if scopes is None:
        return None
    return " ".join(s.value for s in Scope if s in scopes)


def scopes_of_text(text: str | None) -> frozenset[Scope] | None:
    """The stored form read back; a name this version does not know is dropped (narrower, never wider)."""
    if text is None:
        return None
    known = {s.value: s for s in Scope}
    return frozenset(known[name] for name in text.split() if name in known)
