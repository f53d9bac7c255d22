"""Plans as plain dicts: the form the catalogue is stored in and operators edit.

Reading is strict — every field present, nothing unknown, exact JSON types — and
each refusal is a :class:`ValidationFailed` that names the field, because an
operator's typo in a price must never reach a customer's invoice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import ValidationFailed
from core.licensing.deployment import Deployment
from core.licensing.plans import Plan, PlanScope

__all__ = ["plan_from_dict", "plan_to_dict"]

_INT_FIELDS = ("min_users", "monthly_price_annual_billing", "monthly_price_monthly_billing")
_OPTIONAL_INT_FIELDS = ("max_users", "worklog_limit_per_tenant", "worklog_limit_per_user")
_FIELDS = frozenset(
    {"id", "name", "deployments", "scope", "purchasable", "currency"}
    | set(_INT_FIELDS)
    | set(_OPTIONAL_INT_FIELDS)
)


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan as JSON-ready plain values; :func:`plan_from_dict` reads it back unchanged."""
    return {
        "id": plan.id,
        "name": plan.name,
        "deployments": sorted(str(d) for d in plan.deployments),
        "scope": str(plan.scope),
        "min_users": plan.min_users,
        "max_users": plan.max_users,
        "monthly_price_annual_billing": plan.monthly_price_annual_billing,
        "monthly_price_monthly_billing": plan.monthly_price_monthly_billing,
        "purchasable": plan.purchasable,
        "worklog_limit_per_tenant": plan.worklog_limit_per_tenant,
        "worklog_limit_per_user": plan.worklog_limit_per_user,
        "currency": plan.currency,
    }


def plan_from_dict(data: object) -> Plan:
    """The plan a dict describes, or ValidationFailed naming the first field that is wrong."""
    if not isinstance(data, Mapping):
        raise ValidationFailed("a plan must be an object")
    unknown = sorted(str(key) for key in data if key not in _FIELDS)
    if unknown:
        raise ValidationFailed(f"unknown plan field {unknown[0]!r}", field=unknown[0])
    missing = sorted(_FIELDS - set(data))
    if missing:
        raise ValidationFailed(f"missing plan field {missing[0]!r}", field=missing[0])
    return Plan(
        id=_text(data, "id"),
        name=_text(data, "name"),
        deployments=_deployments(data["deployments"]),
        scope=_scope(data["scope"]),
        min_users=_int(data, "min_users"),
        max_users=_optional_int(data, "max_users"),
        monthly_price_annual_billing=_int(data, "monthly_price_annual_billing"),
        monthly_price_monthly_billing=_int(data, "monthly_price_monthly_billing"),
        purchasable=_bool(data, "purchasable"),
        worklog_limit_per_tenant=_optional_int(data, "worklog_limit_per_tenant"),
        worklog_limit_per_user=_optional_int(data, "worklog_limit_per_user"),
        currency=_text(data, "currency"),
    )


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data[name]
    if not isinstance(value, str):
        raise ValidationFailed(f"{name} must be text", field=name)
    return value


def _int(data: Mapping[str, Any], name: str) -> int:
    value = data[name]
    # bool is an int in Python; "purchasable: true" typed into a price must not become 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed(f"{name} must be a whole number", field=name)
    return value


def _optional_int(data: Mapping[str, Any], name: str) -> int | None:
    return None if data[name] is None else _int(data, name)


def _bool(data: Mapping[str, Any], name: str) -> bool:
    value = data[name]
    if not isinstance(value, bool):
        raise ValidationFailed(f"{name} must be true or false", field=name)
    return value


def _scope(value: object) -> PlanScope:
    allowed = [str(scope) for scope in PlanScope]
    if not isinstance(value, str) or value not in allowed:
        raise ValidationFailed(f"scope must be one of {', '.join(allowed)}", field="scope")
    return PlanScope(value)


def _deployments(value: object) -> frozenset[Deployment]:
    allowed = {str(d) for d in Deployment}
    if (
        not isinstance(value, list | tuple)
        or not all(isinstance(item, str) and item in allowed for item in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationFailed(
            "deployments must be a list of distinct values from: cloud, onprem", field="deployments"
        )
    return frozenset(Deployment(item) for item in value)
