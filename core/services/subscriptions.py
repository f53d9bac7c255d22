"""Subscription use cases (SPEC §3, §5): view, Buy Now, cancel, resume.

Every write locks the subscription row first (``for_update``), so seats, plans and
invoices of one billing account change one request at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from core.billing.ports import Billing
from core.clock import Clock, today_in
from core.errors import ManagedByActivation
from core.ids import new_id
from core.licensing import lifecycle
from core.licensing.plans import PlanScope
from core.licensing.seats import (
    RECENT_USE_DAYS,
    keep_most_recent,
    keep_on_conversion,
    proposed_seats_on_purchase,
)
from core.licensing.subscription import Subscription, SubscriptionStatus
from core.periods import Interval
from core.proration.invoice import Invoice, purchase_invoice
from core.proration.terms import Terms
from core.tenancy import Tenant, User
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .audit import actor_of

__all__ = [
    "SubscriptionView",
    "cancel_subscription",
    "ensure_changed_here",
    "parse_interval",
    "purchase",
    "resume_subscription",
    "view_in_scope",
    "view_subscription",
]


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    id: str
    subscription: Subscription
    seat_price: int | None
    currency: str
    scope: str
    licensed_users: int
    credit_balance: int
    proposed_seats: int
    #: ``activation_file`` / ``activation_online`` when an activated on-premises server takes
    #: its plan, seats and period from its activation (status then reads ``cancelled``: it
    #: never renews here); None when the subscription is bought and changed here.
    managed_by: str | None = None


def parse_interval(value: str) -> Interval:
    from core.errors import ValidationFailed

    try:
        return Interval(value)
    except ValueError:
        raise ValidationFailed("interval must be 'monthly' or 'annual'", field="interval") from None


async def view_in_scope(scope: TenantScope, today: date) -> SubscriptionView:
    held = await scope.subscriptions().get()
    sub_id, sub = held.id, held.subscription
    terms = await scope.subscriptions().terms()
    ledger = await scope.invoices().ledger(terms.currency)
    people = await scope.seats().holders_last_use()
    # Only the users of the last 30 days count for the proposal (SPEC §5): ask for just those.
    since = datetime.combine(today - timedelta(days=RECENT_USE_DAYS), time(0), tzinfo=UTC)
    users = await scope.users().recent(since)
    return SubscriptionView(
        id=sub_id,
        subscription=sub,
        seat_price=terms.seat_price,
        currency=terms.currency,
        scope=terms.scope,
        licensed_users=len(people),
        credit_balance=ledger.balance,
        proposed_seats=proposed_seats_on_purchase(users, today),
        managed_by=f"activation_{mode}" if (mode := await scope.activation().mode()) else None,
    )


async def view_subscription(uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant) -> SubscriptionView:
    async with uow() as work:
        return await view_in_scope(work.tenant(tenant.id), today_in(clock, tenant.time_zone))


async def _release_over_seats(
    scope: TenantScope,
    before: Subscription,
    seats: int,
    today: date,
    actor: str,
    clock: Clock,
) -> list[str]:
    """Unlicense whoever does not fit ``seats`` (SPEC §5 trial conversion; recent users first)."""
    people = await scope.seats().holders_last_use()
    if len(people) <= seats:
        return []
    if before.status is SubscriptionStatus.TRIALING or not before.is_paid:
        _, released = keep_on_conversion(people, today, seats)
    else:
        _, released = keep_most_recent(people, seats)
    now = clock.now()
    for person_id in released:
        await scope.seats().release(person_id)
        await scope.audit().record(
            actor, "seat.released", person_id, {"why": "purchase with fewer seats"}, now
        )
    return list(released)


async def ensure_changed_here(scope: TenantScope) -> None:
    """An activated on-premises server takes its plan, seats and period from its activation
    (SPEC §7): a purchase or change made here would be overwritten by the next refresh or
    file, so it is refused with the way to make it instead."""
    mode = await scope.activation().mode()
    if mode is None:
        return
    how = (
        "then refresh the activation here (it also refreshes by itself within minutes)"
        if mode == "online"
        else "then install the new activation file here"
    )
    raise ManagedByActivation(
        f"This server's licence comes from its activation ({mode}). Change the plan, seats or "
        f"renewal on the subscription it was activated with, {how}.",
        activation=mode,
    )


async def purchase(
    uow: UnitOfWorkFactory,
    billing: Billing,
    clock: Clock,
    *,
    tenant: Tenant,
    actor: User,
    plan_id: str,
    interval: str,
    seats: int,
) -> tuple[SubscriptionView, Invoice]:
    """Buy Now (or buy again after expiry): active today, first invoice = seats × price."""
    every = parse_interval(interval)
    today = today_in(clock, tenant.time_zone)
    now = clock.now()
    who = actor_of(actor)
    async with uow(write=True) as work:
        catalogue = await work.directory.catalogue.load()
        plan = catalogue.get(plan_id)
        scope = work.tenant(tenant.id)
        await ensure_changed_here(scope)
        held = await scope.subscriptions().get(for_update=True)
        sub_id, before = held.id, held.subscription
        after = lifecycle.purchase(before, plan, every, seats, today, deployment=tenant.deployment)
        assert after.period is not None
        if plan.scope is PlanScope.ENTERPRISE:
            # One subscription and one seat pool for every tenant of the enterprise.
            await work.directory.repoint_enterprise(tenant.enterprise_id, sub_id)
        await _release_over_seats(scope, before, seats, today, who, clock)
        currency = (await scope.subscriptions().terms()).currency
        terms = Terms(plan.id, every, seats, plan.seat_price(every), plan_name=plan.name)
        await scope.subscriptions().save(
            sub_id, after, now, seat_price=terms.seat_price, scope=plan.scope.value
        )
        invoices = scope.invoices()
        ledger = await invoices.ledger(currency)
        invoice, new_ledger = purchase_invoice(new_id(), terms, after.period, ledger, currency)
        key = f"purchase:{invoice.id}"
        stored = await invoices.add(invoice, kind="purchase", idempotency_key=key, at=now)
        assert stored is not None  # a new id makes a new key
        invoice = stored
        await invoices.save_ledger(ledger, new_ledger, now)
        await scope.audit().record(
            who,
            "subscription.purchased",
            plan.id,
            {"interval": every.value, "seats": seats, "invoice": invoice.id},
            now,
        )
        view = await view_in_scope(scope, today)
        await work.commit()
    await billing.collect(tenant, invoice)
    return view, invoice


async def cancel_subscription(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User
) -> SubscriptionView:
    """No renewal; the licence stays valid until the running period ends (no refund)."""
    return await _transition(
        uow, clock, tenant, actor, "subscription.cancelled", lambda sub, today: lifecycle.cancel(sub)
    )


async def resume_subscription(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User
) -> SubscriptionView:
    """Undo a cancel before the period ends."""
    return await _transition(uow, clock, tenant, actor, "subscription.resumed", lifecycle.resume)


async def _transition(
    uow: UnitOfWorkFactory,
    clock: Clock,
    tenant: Tenant,
    actor: User,
    action: str,
    step: Callable[[Subscription, date], Subscription],
) -> SubscriptionView:
    today = today_in(clock, tenant.time_zone)
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        await ensure_changed_here(scope)
        held = await scope.subscriptions().get(for_update=True)
        sub_id, before = held.id, held.subscription
        after = step(before, today)
        if after != before:
            await scope.subscriptions().save(sub_id, after, clock.now())
            await scope.audit().record(
                actor_of(actor), action, sub_id, {"status": after.status.value}, clock.now()
            )
        view = await view_in_scope(scope, today)
        await work.commit()
    return view
