"""Budgets: what a manager plans work and bills a customer against (SPEC §12).

A budget has an optional hour limit (whole seconds; the API speaks hours with at most two
places, so every limit is a whole number of seconds) and an optional money limit, an
optional hourly rate (the rate that applies first to the time it holds, ``core.rates``),
optional dates, an open/closed flag and a customer reference for billing. All the money
of one budget is in one currency: the tenant's rates currency when one is known.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final

from core.errors import Conflict, ValidationFailed
from core.money import Money

__all__ = [
    "KEEP",
    "MAX_NAME",
    "NO_BUDGET",
    "Assignment",
    "AssignmentKind",
    "Budget",
    "BudgetChanges",
    "BudgetClosed",
    "BudgetDraft",
    "Resolution",
    "apply_changes",
    "check_currency",
    "create_budget",
    "hours_to_seconds",
    "seconds_to_hours",
]

MAX_NAME: Final = 200
MAX_DESCRIPTION: Final = 4000
MAX_CUSTOMER: Final = 200
#: A limit above this many hours (about 114 years of one person's time) is a typo.
MAX_HOURS: Final = Decimal(1_000_000)
MAX_MINOR: Final = 10**15


class Assignment(StrEnum):
    """How a work item or a worklog came to its budget (API.md's values)."""

    DIRECT = "DirectlyAssigned"
    PARENT = "InheritedFromParent"
    ITERATION = "InheritedFromIteration"
    NONE = "NoBudget"


class AssignmentKind(StrEnum):
    """What a budget can be assigned to directly."""

    ITERATION = "iteration"
    WORK_ITEM = "work_item"
    WORKLOG = "worklog"


@dataclass(frozen=True, slots=True)
class Resolution:
    """The one budget a work item or worklog resolves to (``None`` with ``NoBudget``)."""

    budget_id: str | None
    assignment: Assignment

    def __post_init__(self) -> None:
        if (self.budget_id is None) != (self.assignment is Assignment.NONE):
            raise ValueError("a resolution names a budget exactly when it is not NoBudget")


NO_BUDGET: Final = Resolution(None, Assignment.NONE)


class BudgetClosed(Conflict):
    """A closed budget takes no new assignment and no new worklog (SPEC §12)."""

    code = "budget_closed"


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()
"""A :class:`BudgetChanges` field left as it is."""


def hours_to_seconds(hours: Decimal | int | str, field: str = "hours") -> int:
    """Hours with at most two places (0.01 h = 36 s) as whole seconds, exactly."""
    try:
        value = Decimal(str(hours))
    except InvalidOperation:
        raise ValidationFailed(f"{field} must be a number of hours", field=field) from None
    if not value.is_finite() or value < 0 or value > MAX_HOURS:
        raise ValidationFailed(f"{field} must be between 0 and {MAX_HOURS} hours", field=field)
    if value != value.quantize(Decimal("0.01")):
        raise ValidationFailed(f"{field} takes at most two decimal places", field=field)
    return int(value * 3600)


def seconds_to_hours(seconds: int) -> Decimal:
    """Seconds as hours, to two places (half-even), for display and the API's ``hours``."""
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"))


def _text(value: str | None, field: str, limit: int, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise ValidationFailed(f"{field} is required", field=field)
        return None
    cleaned = value.strip()
    if not cleaned:
        if required:
            raise ValidationFailed(f"{field} may not be blank", field=field)
        return None
    if len(cleaned) > limit or any(ord(ch) < 32 and ch not in "\n\t" for ch in cleaned):
        raise ValidationFailed(f"{field} must be at most {limit} printable characters", field=field)
    return cleaned


def _money(value: Money | None, field: str) -> Money | None:
    if value is not None and not 0 <= value.amount <= MAX_MINOR:
        raise ValidationFailed(f"{field} must be between 0 and {MAX_MINOR} minor units", field=field)
    return value


@dataclass(frozen=True, slots=True)
class BudgetDraft:
    """A budget as asked for; :func:`create_budget` checks it."""

    name: str
    description: str | None = None
    limit_s: int | None = None
    amount: Money | None = None
    hourly_rate: Money | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    open: bool = True
    customer: str | None = None


@dataclass(frozen=True, slots=True)
class Budget:
    id: str
    name: str
    description: str | None
    limit_s: int | None
    """The hour limit in whole seconds (None: no hour limit)."""
    amount: Money | None
    """The money limit (None: no money limit)."""
    hourly_rate: Money | None
    starts_on: date | None
    ends_on: date | None
    open: bool
    customer: str | None
    created_at: datetime

    def __post_init__(self) -> None:
        check(self)

    @property
    def currency(self) -> str | None:
        """The budget's one currency, if it names any money."""
        for money in (self.amount, self.hourly_rate):
            if money is not None:
                return money.currency
        return None


def check(budget: Budget) -> None:
    """The rules every stored budget keeps (also on load: a bad row fails loudly)."""
    if not budget.name or len(budget.name) > MAX_NAME:
        raise ValidationFailed(f"a budget's name has 1 to {MAX_NAME} characters", field="name")
    if budget.limit_s is not None and budget.limit_s < 0:
        raise ValidationFailed("the hour limit may not be negative", field="hours")
    _money(budget.amount, "amount")
    _money(budget.hourly_rate, "hourly_rate")
    if (
        budget.amount is not None
        and budget.hourly_rate is not None
        and budget.amount.currency != budget.hourly_rate.currency
    ):
        raise ValidationFailed("a budget's amount and hourly rate are in one currency", field="hourly_rate")
    if budget.starts_on is not None and budget.ends_on is not None and budget.ends_on < budget.starts_on:
        raise ValidationFailed("a budget ends on or after the day it starts", field="ends_on")


def check_currency(budget: Budget, tenant_currency: str | None) -> None:
    """A budget's money is in the currency of the tenant's other rates (one currency)."""
    if tenant_currency is not None and budget.currency not in (None, tenant_currency):
        raise ValidationFailed(
            f"this tenant's rates are in {tenant_currency}; a budget's money must be too",
            field="amount" if budget.amount is not None else "hourly_rate",
        )


def create_budget(draft: BudgetDraft, budget_id: str, at: datetime) -> Budget:
    name = _text(draft.name, "name", MAX_NAME, required=True)
    assert name is not None
    return Budget(
        id=budget_id,
        name=name,
        description=_text(draft.description, "description", MAX_DESCRIPTION),
        limit_s=draft.limit_s,
        amount=draft.amount,
        hourly_rate=draft.hourly_rate,
        starts_on=draft.starts_on,
        ends_on=draft.ends_on,
        open=draft.open,
        customer=_text(draft.customer, "customer", MAX_CUSTOMER),
        created_at=at,
    )


@dataclass(frozen=True, slots=True)
class BudgetChanges:
    """A PATCH: every field :data:`KEEP` unless sent; ``None`` clears an optional one."""

    name: Any = KEEP
    description: Any = KEEP
    limit_s: Any = KEEP
    amount: Any = KEEP
    hourly_rate: Any = KEEP
    starts_on: Any = KEEP
    ends_on: Any = KEEP
    open: Any = KEEP
    customer: Any = KEEP


def apply_changes(budget: Budget, changes: BudgetChanges) -> Budget:
    """The budget with ``changes`` applied and checked as a whole (a PATCH)."""
    values: dict[str, Any] = {}
    for name in BudgetChanges.__dataclass_fields__:
        value = getattr(changes, name)
        if value is KEEP:
            continue
        if name == "name":
            value = _text(value, "name", MAX_NAME, required=True)
        elif name == "description":
            value = _text(value, "description", MAX_DESCRIPTION)
        elif name == "customer":
            value = _text(value, "customer", MAX_CUSTOMER)
        elif name == "open" and value is None:
            raise ValidationFailed("open is true or false", field="open")
        values[name] = value
    return replace(budget, **values) if values else budget
