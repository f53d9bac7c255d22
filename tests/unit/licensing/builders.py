"""Small builders for licensing tests: plans by id, subscriptions in each state, access contexts."""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.licensing import (
    DEFAULT_CATALOGUE,
    AccessContext,
    Deployment,
    Plan,
    Role,
    Subscription,
    cancel,
    payment_failed,
    purchase,
    start_trial,
)
from core.periods import Interval

TODAY = date(2026, 1, 1)


def plan(plan_id: str) -> Plan:
    return DEFAULT_CATALOGUE.get(plan_id)


def trial(today: date = TODAY) -> Subscription:
    return start_trial(today)


def active(
    plan_id: str = "team",
    seats: int = 10,
    interval: Interval = Interval.ANNUAL,
    today: date = TODAY,
    deployment: Deployment = Deployment.CLOUD,
) -> Subscription:
    return purchase(trial(today), plan(plan_id), interval, seats, today, deployment=deployment)


def cancelled(today: date = TODAY) -> Subscription:
    return cancel(active(today=today))


def past_due(since: date, today: date = TODAY) -> Subscription:
    return payment_failed(active(today=today), since)


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def context(
    subscription: Subscription,
    *,
    on: date = TODAY,
    role: Role = Role.TEAM,
    licensed: bool = True,
    collection_admin: bool = False,
    approval_manager: bool = False,
    deployment: Deployment = Deployment.CLOUD,
    tenant_uninstalled: bool = False,
) -> AccessContext:
    return AccessContext(
        deployment=deployment,
        subscription=subscription,
        now=noon(on),
        role=role,
        licensed=licensed,
        collection_admin=collection_admin,
        approval_manager=approval_manager,
        tenant_uninstalled=tenant_uninstalled,
    )
