"""Rows ⇄ domain values. The only place that knows both shapes."""

from __future__ import annotations

from typing import Any

from core.licensing.subscription import ExpiryReason, Subscription, SubscriptionStatus
from core.periods import Interval, Period
from core.tenancy import Deployment, LicensingMode, Tenant, User


def tenant_from_row(row: dict[str, Any]) -> Tenant:
    return Tenant(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        deployment=Deployment(row["deployment"]),
        enterprise_id=row["enterprise_id"],
        subscription_id=row["subscription_id"],
        time_zone=row["time_zone"],
        default_role=row["default_role"],
        licensing_mode=LicensingMode(row["licensing_mode"]),
        uninstalled_at=row["uninstalled_at"],
        created_at=row["created_at"],
        require_second_factor=bool(row["require_second_factor"]),
    )


def tenant_to_row(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "slug": tenant.slug,
        "name": tenant.name,
        "deployment": tenant.deployment.value,
        "enterprise_id": tenant.enterprise_id,
        "subscription_id": tenant.subscription_id,
        "time_zone": tenant.time_zone,
        "default_role": tenant.default_role,
        "licensing_mode": tenant.licensing_mode.value,
        "uninstalled_at": tenant.uninstalled_at,
        "created_at": tenant.created_at,
        "require_second_factor": tenant.require_second_factor,
    }


def user_from_row(row: dict[str, Any]) -> User:
    return User(
        id=row["id"],
        tenant_id=row["tenant_id"],
        person_id=row["person_id"],
        email=row["person_id.email"],
        name=row["person_id.name"],
        role=row["role"],
        collection_admin=bool(row["collection_admin"]),
        approval_manager=bool(row["approval_manager"]),
        last_used_at=row["last_used_at"],
        second_factor=row["totp_confirmed_at"] is not None,
        active=row.get("deactivated_at") is None,
        locale=row.get("locale") or "en",
        time_format=row.get("time_format") or "hm",
        week_starts_on=row.get("week_starts_on") or "monday",
    )


def subscription_from_row(row: dict[str, Any]) -> Subscription:
    period = None
    if row["period_start"] is not None:
        period = Period(row["period_start"], row["period_end"], row["anchor_day"])
    return Subscription(
        plan_id=row["plan_id"],
        status=SubscriptionStatus(row["status"]),
        interval=Interval(row["interval"]) if row["interval"] else None,
        seats=row["seats"],
        trial_ends_on=row["trial_ends_on"],
        period=period,
        past_due_since=row["past_due_since"],
        expired_on=row["expired_on"],
        expiry_reason=ExpiryReason(row["expiry_reason"]) if row["expiry_reason"] else None,
        scheduled_plan_id=row["scheduled_plan_id"],
        scheduled_seats=row["scheduled_seats"],
    )


def subscription_to_row(sub: Subscription) -> dict[str, Any]:
    return {
        "plan_id": sub.plan_id,
        "status": sub.status.value,
        "interval": sub.interval.value if sub.interval else None,
        "seats": sub.seats,
        "trial_ends_on": sub.trial_ends_on,
        "period_start": sub.period.start if sub.period else None,
        "period_end": sub.period.end if sub.period else None,
        "anchor_day": sub.period.anchor_day if sub.period else None,
        "past_due_since": sub.past_due_since,
        "expired_on": sub.expired_on,
        "expiry_reason": sub.expiry_reason.value if sub.expiry_reason else None,
        "scheduled_plan_id": sub.scheduled_plan_id,
        "scheduled_seats": sub.scheduled_seats,
    }
