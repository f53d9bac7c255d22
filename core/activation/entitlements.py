"""What an entitlement means on the on-premises server (SPEC §7), pure.

Both activation paths (online by subscription id, offline by file) end in one
:class:`~core.activation.ports.Entitlement` kept in the tenant's activation record, and
:func:`subscription_for` turns it into the tenant's Subscription, so the access decision,
seats and banner behave the same online and offline.

The mapping, and why: the local subscription is ``cancelled`` — in SPEC §3 terms "active
until the period ends, will not renew" — because an on-premises server never renews by
itself: renewals arrive as new entitlements (a refresh, or a newer file). Its period runs
from the entitlement's start to its expiry **plus a grace of 7 days**, so when the licence
service cannot be reached the last entitlement holds until expiry + 7 days and is then
refused by the ordinary decision (``expired``), with no job needed to notice. An
entitlement the service reports as expired takes effect at once.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta

from core.activation.claims import ActivationClaims
from core.activation.ports import ActivationRecord, Entitlement
from core.activation.trusted_time import ClockSetBack
from core.errors import ValidationFailed
from core.licensing import ExpiryReason, Subscription, SubscriptionStatus, cancel, expire
from core.periods import Interval, Period

__all__ = [
    "GRACE",
    "activation_warnings",
    "entitlement_from_claims",
    "holds_until",
    "normalised_subscription_id",
    "subscription_for",
]

#: How long the last entitlement holds past its expiry when it cannot be refreshed.
GRACE = timedelta(days=7)

_SUBSCRIPTION_ID = re.compile(r"^[0-9a-f]{32}$")


def holds_until(entitlement: Entitlement) -> date:
    """The first day the entitlement no longer gives access: its expiry plus the grace."""
    return entitlement.expires_on + GRACE


def subscription_for(entitlement: Entitlement, today: date) -> Subscription:
    """The tenant's subscription under ``entitlement`` on ``today`` (see the module docstring)."""
    end = holds_until(entitlement)
    running = Subscription(
        entitlement.plan_id,
        SubscriptionStatus.ACTIVE,
        Interval(entitlement.interval),
        entitlement.seats,
        period=Period(entitlement.period_start, end, entitlement.period_start.day),
    )
    local = cancel(running)
    if today >= end:
        return expire(local, today)
    if entitlement.status == "expired":
        return replace(
            local,
            status=SubscriptionStatus.EXPIRED,
            expired_on=today,
            expiry_reason=ExpiryReason.PERIOD_ENDED,
        )
    return local


def entitlement_from_claims(claims: ActivationClaims) -> Entitlement:
    """A file grants its plan and seats for its period; it is billed annually if a year or longer."""
    days = (claims.expires_on - claims.period_start).days
    interval = Interval.ANNUAL if days >= 365 else Interval.MONTHLY
    return Entitlement(
        plan_id=claims.plan_id,
        seats=claims.seats,
        interval=interval.value,
        period_start=claims.period_start,
        expires_on=claims.expires_on,
        status="active",
        source="file",
    )


def normalised_subscription_id(value: str) -> str:
    """A subscription id as both sides compare it: 32 lower-case hex digits (dashes dropped)."""
    normalised = value.strip().lower().replace("-", "")
    if not _SUBSCRIPTION_ID.match(normalised):
        raise ValidationFailed(
            "a subscription id is 32 hexadecimal digits, as shown on the licence service's "
            "Subscription page",
            field="subscription_id",
        )
    return normalised


def activation_warnings(
    record: ActivationRecord, today: date, now: datetime, set_back: ClockSetBack | None
) -> tuple[str, ...]:
    """What the Subscription page warns a collection admin of: the clock, an unreachable
    licence service, an expired licence in its grace."""
    found: list[str] = [set_back.message] if set_back is not None else []
    ent = record.entitlement
    if ent is None:
        return tuple(found)
    last_day = holds_until(ent) - timedelta(days=1)
    if record.mode == "online" and record.refresh_error:
        since = record.refreshed_at.strftime("%Y-%m-%d %H:%M UTC") if record.refreshed_at else "activation"
        found.append(
            f"Stint could not reach the licence service ({record.refresh_error}); the last successful "
            f"refresh was at {since}. The current licence stays valid up to and including "
            f"{last_day.isoformat()} (its expiry {ent.expires_on.isoformat()} plus 7 days of grace); "
            f"after that Stint is blocked until the licence service can be reached again."
        )
    if ent.expires_on <= today <= last_day:
        remedy = (
            "install a renewed activation file" if record.mode == "file" else "renew the subscription"
        )
        found.append(
            f"The licence expired on {ent.expires_on.isoformat()}. Stint keeps working up to and "
            f"including {last_day.isoformat()} (7 days of grace); {remedy} before then."
        )
    return tuple(found)
