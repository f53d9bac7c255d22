"""Plans: what a subscription buys — deployments, instances covered, user range, prices.

The catalogue is data that operators edit, so a :class:`Plan` checks its own
consistency when built and :data:`DEFAULT_PLANS` are only the defaults of SPEC §2.
Prices are integer minor units per user per month, one figure per billing interval.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from core.errors import ValidationFailed
from core.licensing.deployment import Deployment
from core.periods import Interval

__all__ = ["DEFAULT_PLANS", "Plan", "PlanScope"]


class PlanScope(StrEnum):
    """Which instances one subscription covers: its own tenant, or every tenant of the enterprise."""

    TENANT = "tenant"
    ENTERPRISE = "enterprise"


@dataclass(frozen=True, slots=True)
class Plan:
    """One plan of the catalogue; ``max_users`` None means no upper limit."""

    id: str
    name: str
    deployments: frozenset[Deployment]
    scope: PlanScope
    min_users: int
    max_users: int | None
    monthly_price_annual_billing: int
    monthly_price_monthly_billing: int
    purchasable: bool
    worklog_limit_per_tenant: int | None = None
    worklog_limit_per_user: int | None = None
    currency: str = "USD"

    def __post_init__(self) -> None:
        _check_consistent(self)

    @property
    def is_free(self) -> bool:
        """A plan that costs nothing on either interval (a change to it waits for the period end)."""
        return self.monthly_price_annual_billing == 0 and self.monthly_price_monthly_billing == 0

    def seat_price(self, interval: Interval) -> int:
        """Minor units one seat costs for one whole ``interval`` (Team: 14400 a year, 1500 a month)."""
        if interval is Interval.ANNUAL:
            return 12 * self.monthly_price_annual_billing
        return self.monthly_price_monthly_billing

    def allows_users(self, users: int) -> bool:
        return users >= self.min_users and (self.max_users is None or users <= self.max_users)

    @property
    def user_range(self) -> str:
        """The user range as people read it: '1–19', '20+', 'any number of'."""
        if self.max_users is None and self.min_users == 1:
            return "any number of"
        if self.max_users is None:
            return f"{self.min_users}+"
        return f"{self.min_users}–{self.max_users}"


_SLUG = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _check_consistent(plan: Plan) -> None:
    # Operators edit the catalogue, so a broken plan must fail loudly when built,
    # naming the field, rather than later inside a purchase.
    if not _SLUG.fullmatch(plan.id):
        raise ValidationFailed(f"plan id must be a lower-case slug, got {plan.id!r}", field="id")
    if not plan.name.strip():
        raise ValidationFailed("a plan needs a display name", field="name")
    if not plan.deployments:
        raise ValidationFailed(f"plan {plan.id} has no deployment", field="deployments")
    if plan.min_users < 1:
        raise ValidationFailed("min_users must be at least 1", field="min_users")
    if plan.max_users is not None and plan.max_users < plan.min_users:
        raise ValidationFailed("max_users must not be below min_users", field="max_users")
    for name in ("monthly_price_annual_billing", "monthly_price_monthly_billing"):
        if getattr(plan, name) < 0:
            raise ValidationFailed(f"{name} must not be negative", field=name)
    for name in ("worklog_limit_per_tenant", "worklog_limit_per_user"):
        limit = getattr(plan, name)
        if limit is not None and limit < 1:
            raise ValidationFailed(f"{name} must be positive or absent", field=name)
    if len(plan.currency) != 3 or not plan.currency.isalpha() or not plan.currency.isupper():
        raise ValidationFailed(f"not an ISO currency code: {plan.currency!r}", field="currency")


_CLOUD = frozenset({Deployment.CLOUD})
_BOTH = frozenset({Deployment.CLOUD, Deployment.ONPREM})

DEFAULT_PLANS: tuple[Plan, ...] = (
    Plan(
        id="free", name="Free", deployments=_CLOUD, scope=PlanScope.TENANT,
        min_users=1, max_users=3,
        monthly_price_annual_billing=0, monthly_price_monthly_billing=0,
        purchasable=True, worklog_limit_per_tenant=500,
    ),
    Plan(
        id="start", name="Start", deployments=_CLOUD, scope=PlanScope.TENANT,
        min_users=1, max_users=19,
        monthly_price_annual_billing=700, monthly_price_monthly_billing=900,
        purchasable=True, worklog_limit_per_user=1000,
    ),
    Plan(
        id="team", name="Team", deployments=_BOTH, scope=PlanScope.TENANT,
        min_users=1, max_users=299,
        monthly_price_annual_billing=1200, monthly_price_monthly_billing=1500,
        purchasable=True,
    ),
    Plan(
        id="ultimate", name="Ultimate", deployments=_BOTH, scope=PlanScope.ENTERPRISE,
        min_users=20, max_users=None,
        monthly_price_annual_billing=1600, monthly_price_monthly_billing=2000,
        purchasable=True,
    ),
    Plan(
        id="legacy_services", name="Legacy DevOps Services (formerly VSTS)",
        deployments=_CLOUD, scope=PlanScope.TENANT, min_users=1, max_users=None,
        monthly_price_annual_billing=1000, monthly_price_monthly_billing=1200,
        purchasable=False,
    ),
    Plan(
        id="legacy_server", name="Legacy DevOps Server (formerly TFS)",
        deployments=_BOTH, scope=PlanScope.ENTERPRISE, min_users=1, max_users=None,
        monthly_price_annual_billing=1000, monthly_price_monthly_billing=1200,
        purchasable=False,
    ),
)  # fmt: skip
