"""Named-user seats (SPEC §5): who holds a licence, and whether one more person can get one.

A licence belongs to a person in a *seat pool*: the tenant's own pool, or the
enterprise's on plans that cover every tenant (one person, one seat, however
many tenants they use). The persistence layer keeps one licence row per
(pool key, person) and hands these functions the counts; they decide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import NamedTuple

from core.errors import SeatLimit, ValidationFailed
from core.licensing.plans import Plan, PlanScope

__all__ = [
    "RECENT_USE_DAYS",
    "AutoLicensing",
    "FirstUse",
    "FirstUseOutcome",
    "LastUse",
    "PoolKey",
    "SeatPool",
    "keep_most_recent",
    "keep_on_conversion",
    "licence_on_first_use",
    "pool_key",
    "proposed_seats_on_purchase",
    "seats_taken",
]

RECENT_USE_DAYS = 30
"""A trial user who used the product in this many days (today included) keeps a licence."""


class LastUse(NamedTuple):
    """A person and the last day they used the product (None: never)."""

    person_id: str
    on: date | None


class AutoLicensing(StrEnum):
    """Tenant setting: does first use license a user when a seat is free, or only an admin?"""

    AUTOMATIC = "automatic"
    ADMIN_ONLY = "admin_only"


@dataclass(frozen=True, slots=True)
class SeatPool:
    """Paid seats (None: no limit, during a trial) and how many people hold a licence.

    ``licensed`` may exceed ``seats`` only between a seat reduction that a
    conversion or renewal made and the release of the excess; while it does, no
    one new is licensed.
    """

    seats: int | None
    licensed: int

    def __post_init__(self) -> None:
        if self.licensed < 0 or (self.seats is not None and self.seats < 0):
            raise ValueError(f"a seat pool cannot hold negative counts: {self}")

    @property
    def unlimited(self) -> bool:
        return self.seats is None

    @property
    def free_seats(self) -> int | None:
        return None if self.seats is None else max(0, self.seats - self.licensed)

    @property
    def over_by(self) -> int:
        """How many licences must be released before the pool is within its seats."""
        return 0 if self.seats is None else max(0, self.licensed - self.seats)

    def can_license_one(self) -> bool:
        return self.seats is None or self.licensed < self.seats

    def license_one(self) -> SeatPool:
        """The pool with one more licence, or SeatLimit when every seat is taken."""
        if not self.can_license_one():
            raise SeatLimit(
                f"All {self.seats} seats are taken; unlicense someone or buy more seats.",
                seats=self.seats,
                licensed_users=self.licensed,
            )
        return replace(self, licensed=self.licensed + 1)

    def unlicense_one(self) -> SeatPool:
        """The pool with one licence released; the seat is free at once."""
        if self.licensed == 0:
            raise ValueError("no licence to release")
        return replace(self, licensed=self.licensed - 1)


class FirstUseOutcome(StrEnum):
    ALREADY_LICENSED = "already_licensed"
    LICENSED = "licensed"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class FirstUse:
    """What happens when a person touches the product: the outcome and the pool after it."""

    outcome: FirstUseOutcome
    pool: SeatPool
    reason: str | None = None
    """``no_seat`` when refused: the reason the access decision reports."""
    notify_admins: bool = False

    @property
    def licensed(self) -> bool:
        return self.outcome is not FirstUseOutcome.REFUSED


def licence_on_first_use(pool: SeatPool, policy: AutoLicensing, *, already_licensed: bool) -> FirstUse:
    """License a person on first use when a seat is free and the tenant allows it.

    During a trial (no seat limit) everyone who uses the product is licensed,
    whatever the policy. A refusal tells the person ``no_seat`` and the admins.
    """
    if already_licensed:
        return FirstUse(FirstUseOutcome.ALREADY_LICENSED, pool)
    if pool.unlimited or (policy is AutoLicensing.AUTOMATIC and pool.can_license_one()):
        return FirstUse(FirstUseOutcome.LICENSED, pool.license_one())
    return FirstUse(FirstUseOutcome.REFUSED, pool, reason="no_seat", notify_admins=True)


@dataclass(frozen=True, slots=True)
class PoolKey:
    """Whose seats a licence uses: ``tenant:<id>`` or, on enterprise-wide plans, ``enterprise:<id>``."""

    scope: PlanScope
    owner_id: str

    def __str__(self) -> str:
        return f"{self.scope}:{self.owner_id}"


def pool_key(plan: Plan, tenant_id: str, enterprise_id: str | None) -> PoolKey:
    """The seat pool a tenant's users draw from under ``plan``."""
    if plan.scope is PlanScope.TENANT:
        return PoolKey(PlanScope.TENANT, tenant_id)
    if not enterprise_id:
        raise ValidationFailed(
            f"The {plan.name} plan covers every tenant of an enterprise; this tenant has none.",
            field="enterprise_id",
        )
    return PoolKey(PlanScope.ENTERPRISE, enterprise_id)


def seats_taken(licensed_persons: Iterable[str]) -> int:
    """Seats used by these licences: one per person, however many tenants they use."""
    return len(set(licensed_persons))


def keep_on_conversion(
    users: Iterable[tuple[str, date | None]], today: date, seats: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split trial users into (keep, release) when the trial converts to ``seats`` paid seats.

    Users who used the product in the last 30 days keep their licence, most
    recent use first, up to ``seats``; everyone else is released. Ties go by
    user id so that the same input always splits the same way.
    """
    _check_seats(seats)
    listed = _sorted_users(users)
    kept = tuple(user_id for user_id, _ in _recent_first(listed, today)[:seats])
    kept_set = set(kept)
    released = tuple(user_id for user_id, _ in listed if user_id not in kept_set)
    return kept, released


def keep_most_recent(
    users: Iterable[tuple[str, date | None]], seats: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split licensed users into (keep, release) when their pool shrinks to ``seats``.

    For a paid pool that lost seats without a trial conversion (a renewal onto a
    scheduled free plan, a purchase after expiry): the most recent users keep
    their licence, never-seen users go first, ties by user id. SPEC §5 names no
    rule for this; it follows the conversion rule without its 30-day window.
    """
    _check_seats(seats)
    listed = _sorted_users(users)
    ordered = sorted(listed, key=lambda user: user[1] or date.min, reverse=True)
    kept = tuple(user_id for user_id, _ in ordered[:seats])
    kept_set = set(kept)
    return kept, tuple(user_id for user_id, _ in listed if user_id not in kept_set)


def proposed_seats_on_purchase(
    users: Iterable[tuple[str, date | None]], today: date, plan: Plan | None = None
) -> int:
    """Seats the purchase page proposes: the users of the last 30 days, within the plan's range."""
    proposal = max(1, len(_recent_first(_sorted_users(users), today)))
    if plan is None:
        return proposal
    proposal = max(proposal, plan.min_users)
    return proposal if plan.max_users is None else min(proposal, plan.max_users)


def _check_seats(seats: int) -> None:
    if seats < 0:
        raise ValidationFailed("seats must not be negative", field="seats")


def _sorted_users(
    users: Iterable[tuple[str, date | None]],
) -> list[tuple[str, date | None]]:
    listed = sorted(users, key=lambda user: user[0])
    for before, after in pairwise(listed):
        if before[0] == after[0]:
            raise ValidationFailed(f"user {before[0]!r} is listed twice", field="users")
    return listed


def _recent_first(listed: list[tuple[str, date | None]], today: date) -> list[tuple[str, date | None]]:
    # "The last 30 days" is today and the 29 days before it.
    since = today - timedelta(days=RECENT_USE_DAYS - 1)
    recent = [u for u in listed if u[1] is not None and u[1] >= since]
    # Stable sort: equal dates stay in user-id order.
    return sorted(recent, key=lambda user: user[1] or since, reverse=True)
