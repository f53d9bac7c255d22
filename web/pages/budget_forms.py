"""The Budgets pages' forms and how their fields are read: hours, amounts in major units,
dates, the currency, and lists of ids (``budgets.py`` is the pages)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import msgspec

from core.budgets import hours_to_seconds
from core.errors import ValidationFailed
from core.money import Money

__all__ = ["ID_SEPARATORS", "AssignForm", "BudgetForm", "OpenForm", "budget_fields", "int_ids"]

ID_SEPARATORS = re.compile(r"[\s,;]+")
Short = Annotated[str, msgspec.Meta(max_length=200)]


class BudgetForm(msgspec.Struct):
    name: Short
    description: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    hours: Annotated[str, msgspec.Meta(max_length=20)] = ""
    amount: Annotated[str, msgspec.Meta(max_length=30)] = ""
    hourly_rate: Annotated[str, msgspec.Meta(max_length=30)] = ""
    currency: Annotated[str, msgspec.Meta(max_length=3)] = ""
    starts_on: Annotated[str, msgspec.Meta(max_length=10)] = ""
    ends_on: Annotated[str, msgspec.Meta(max_length=10)] = ""
    customer: Short = ""


class OpenForm(msgspec.Struct):
    open: Literal["0", "1"]


class AssignForm(msgspec.Struct):
    action: Literal["assign", "unassign"] = "assign"
    iterations: Annotated[str, msgspec.Meta(max_length=20_000)] = ""
    work_items: Annotated[str, msgspec.Meta(max_length=20_000)] = ""
    worklogs: Annotated[str, msgspec.Meta(max_length=40_000)] = ""


def _hours(text: str, field: str) -> int | None:
    return hours_to_seconds(text.strip(), field) if text.strip() else None


def _minor(text: str, field: str) -> int | None:
    """A money field typed as major units ("1200", "1,200.50") → minor units, exactly."""
    cleaned = text.strip().replace(",", "")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValidationFailed(f"{field.replace('_', ' ')} is an amount such as 1200.50",
                               field=field) from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise ValidationFailed(f"{field.replace('_', ' ')} is an amount of at most two decimal places",
                               field=field)
    if value > Decimal(10**13):
        raise ValidationFailed(f"{field.replace('_', ' ')} is too large", field=field)
    return int(value * 100)


def _day(text: str, field: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(f"{field.replace('_', ' ')} is a date (YYYY-MM-DD)", field=field) from None


def _currency(text: str) -> str:
    code = text.strip().upper() or "USD"
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValidationFailed("currency is a three-letter code such as EUR", field="currency")
    return code


def _money(minor: int | None, currency: str) -> Money | None:
    return None if minor is None else Money(minor, currency)


def budget_fields(form: BudgetForm) -> dict[str, Any]:
    currency = _currency(form.currency)
    return {
        "name": form.name,
        "description": form.description.strip() or None,
        "limit_s": _hours(form.hours, "hours"),
        "amount": _money(_minor(form.amount, "amount"), currency),
        "hourly_rate": _money(_minor(form.hourly_rate, "hourly_rate"), currency),
        "starts_on": _day(form.starts_on, "starts_on"),
        "ends_on": _day(form.ends_on, "ends_on"),
        "customer": form.customer.strip() or None,
    }


def int_ids(text: str, field: str) -> list[int]:
    out = []
    for token in filter(None, ID_SEPARATORS.split(text)):
        if not token.isdigit() or len(token) > 18 or int(token) == 0:
            raise ValidationFailed(f"{field.replace('_', ' ')}: {token[:30]!r} is not an id", field=field)
        out.append(int(token))
    return out
