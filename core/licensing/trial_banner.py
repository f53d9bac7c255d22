"""The trial banner: "Free Trial: N days left", a "Why am I seeing this?" link and "Buy Now".

Only collection admins see it, and only while the trial runs: they are the ones
who can buy, and no one else should be nagged (SPEC §6).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.licensing.access import AccessContext
from core.licensing.subscription import SubscriptionStatus, trial_days_left, trial_ends_at

__all__ = ["HIDDEN_BANNER", "Banner", "banner"]


@dataclass(frozen=True, slots=True)
class Banner:
    """Whether to show the banner, and the countdown it shows (None when hidden)."""

    visible: bool
    days_left: int | None = None


HIDDEN_BANNER = Banner(False)


def banner(ctx: AccessContext) -> Banner:
    """The banner for this user now: visible to collection admins while the trial runs."""
    sub = ctx.subscription
    if ctx.tenant_uninstalled or not ctx.collection_admin or sub.status is not SubscriptionStatus.TRIALING:
        return HIDDEN_BANNER
    ends_at = trial_ends_at(sub, ctx.time_zone)
    days_left = 0 if ends_at is None else trial_days_left(ends_at, ctx.now)
    # A trial whose last day has passed but that the job has not expired yet is over.
    return Banner(True, days_left) if days_left > 0 else HIDDEN_BANNER
