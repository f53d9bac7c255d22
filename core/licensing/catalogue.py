"""The plan catalogue: every plan by id, immutable; operators replace it, never mutate it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import MappingProxyType

from core.errors import PlanNotAvailable, ValidationFailed
from core.licensing.deployment import Deployment
from core.licensing.plans import DEFAULT_PLANS, Plan

__all__ = ["DEFAULT_CATALOGUE", "PlanCatalogue"]


@dataclass(frozen=True, slots=True)
class PlanCatalogue:
    """Plans by id, in the order they were given (the order the purchase page shows)."""

    plans: tuple[Plan, ...]
    _by_id: MappingProxyType[str, Plan] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, Plan] = {}
        for plan in self.plans:
            if plan.id in by_id:
                raise ValidationFailed(f"plan id {plan.id!r} appears twice", field="id")
            by_id[plan.id] = plan
        # A frozen dataclass can still set its own derived field once, here.
        object.__setattr__(self, "_by_id", MappingProxyType(by_id))

    @classmethod
    def of(cls, plans: Iterable[Plan]) -> PlanCatalogue:
        return cls(tuple(plans))

    def get(self, plan_id: str) -> Plan:
        """The plan with this id; an unknown id is a plan that is not available."""
        try:
            return self._by_id[plan_id]
        except KeyError:
            raise PlanNotAvailable(f"There is no plan {plan_id!r}.", plan=plan_id) from None

    def __getitem__(self, plan_id: str) -> Plan:
        return self.get(plan_id)

    def __contains__(self, plan_id: object) -> bool:
        return plan_id in self._by_id

    def __iter__(self) -> Iterator[Plan]:
        return iter(self.plans)

    def __len__(self) -> int:
        return len(self.plans)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(plan.id for plan in self.plans)

    def purchasable_for(self, deployment: Deployment) -> tuple[Plan, ...]:
        """The plans a new subscription may choose for a tenant of this deployment."""
        return tuple(p for p in self.plans if p.purchasable and deployment in p.deployments)

    def with_plan(self, plan: Plan) -> PlanCatalogue:
        """A catalogue where ``plan`` replaces the plan of the same id, or is added at the end."""
        if plan.id in self._by_id:
            return PlanCatalogue(tuple(plan if p.id == plan.id else p for p in self.plans))
        return PlanCatalogue((*self.plans, plan))


DEFAULT_CATALOGUE = PlanCatalogue(DEFAULT_PLANS)
