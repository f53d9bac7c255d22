"""Notification preferences (issue #19): which kinds of mail a user wants, and the tenant's
defaults for users who have not chosen.

Pure: the kinds, the rule that decides whether a mail of a kind may go to a user, and the
port the stores implement. The outbox asks :func:`allows` when a mail is queued — the one
place every notification passes — so no job can forget the check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from core.errors import ValidationFailed
from core.texts import N_

__all__ = [
    "KINDS", "LABELS", "NotificationSettings", "UnsubscribeLinks", "allows", "checked_kinds", "resolve",
]

#: Every kind of notification a user can turn off, in the order pages list them.
KINDS: tuple[str, ...] = (
    "missing_time",
    "timer_running",
    "seat_requests",
    "trial_ending",
    "payment_failed",
    "invoice_issued",
    "approvals",
)

#: What each kind is, as pages and mail footers name it.
LABELS: dict[str, str] = {
    "missing_time": N_("Weekly reminder of missing time (and the digest for approval managers)"),
    "timer_running": N_("A timer still running at the end of your working day"),
    "seat_requests": N_("Users refused for lack of a seat"),
    "trial_ending": N_("The trial is ending"),
    "payment_failed": N_("A payment failed"),
    "invoice_issued": N_("An invoice was issued"),
    "approvals": N_("Timesheet approvals"),
}


def checked_kinds(kinds: Mapping[str, bool]) -> dict[str, bool]:
    """The choices as given, refusing a kind that does not exist (nothing is stored then)."""
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValidationFailed(f"unknown notification kind(s): {', '.join(unknown)}")
    return {kind: bool(kinds[kind]) for kind in KINDS if kind in kinds}


def resolve(user: Mapping[str, bool], tenant: Mapping[str, bool]) -> dict[str, bool]:
    """Every kind's effective setting: the user's choice, else the tenant's default, else on."""
    return {kind: user.get(kind, tenant.get(kind, True)) for kind in KINDS}


def allows(kind: str, user: Mapping[str, bool], tenant: Mapping[str, bool]) -> bool:
    """Whether a mail of ``kind`` may go to a user with these choices."""
    return resolve(user, tenant).get(kind, True)


class NotificationSettings(Protocol):
    """One tenant's stored choices: its defaults and each user's own (only the kinds set)."""

    async def tenant_defaults(self) -> dict[str, bool]: ...

    async def set_tenant_defaults(self, kinds: Mapping[str, bool]) -> None: ...

    async def user_choices(self, user_id: str) -> dict[str, bool]: ...

    async def set_user_choices(self, user_id: str, kinds: Mapping[str, bool]) -> None: ...


class UnsubscribeLinks(Protocol):
    """Signed one-click addresses that turn one kind off for one user of one tenant."""

    def link(self, tenant_id: str, user_id: str, kind: str) -> str: ...
