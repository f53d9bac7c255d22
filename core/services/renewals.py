"""What the calendar does to subscriptions (SPEC §3): renewals, trial ends, grace ends.

Idempotent: a renewal invoice is keyed by its subscription and period start, and a
subscription is re-read under its lock before anything changes, so running the
sweep twice, or on two workers at once, has each effect once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.clock import Clock, today_in
from core.licensing.due import DueAction, apply_due, due_transition
from core.licensing.seats import keep_most_recent
from core.ports import Billing, UnitOfWorkFactory
from core.proration.invoice import Invoice, renewal_invoice
from core.proration.terms import Terms
from core.tenancy import Tenant

__all__ = ["DueReport", "run_due_for_tenant", "sweep_due_subscriptions"]

#: A server that was off for a long time catches up at most this many renewals per run.
_MAX_CATCH_UP = 36


@dataclass
class DueReport:
    renewed: int = 0
    expired: int = 0
    invoices: list[Invoice] = field(default_factory=list)


async def run_due_for_tenant(
    uow: UnitOfWorkFactory,
    billing: Billing,
    clock: Clock,
    *,
    tenant: Tenant,
    grace_days: int,
) -> DueReport:
    """Bring the tenant's subscription up to date with today."""
    report = DueReport()
    today = today_in(clock, tenant.time_zone)
    now = clock.now()
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        sub_id, sub = await scope.subscription(for_update=True)
        catalogue = await work.directory.catalogue.load()
        _, currency, _ = await scope.subscription_terms()
        for _ in range(_MAX_CATCH_UP):
            due = due_transition(sub, today, grace_days)
            if due.action is DueAction.NOTHING:
                break
            if due.action is DueAction.EXPIRE:
                # Expire as of the day it happened, not the day the sweep noticed.
                sub, _ = apply_due(sub, today, grace_days)
                await scope.save_subscription(sub_id, sub, now)
                await scope.audit(
                    "system:renewals",
                    "subscription.expired",
                    sub_id,
                    {"reason": due.reason.value if due.reason else None},
                    now,
                )
                report.expired += 1
                break
            # Renew as of the period end, so a late sweep bills the right period.
            assert sub.period is not None
            renewed, _ = apply_due(sub, sub.period.end, grace_days)
            assert renewed.period is not None and renewed.interval is not None and renewed.seats is not None
            plan = catalogue.get(renewed.plan_id)
            # A renewal is priced from the catalogue as it is then: price edits apply from here.
            terms = Terms(
                plan.id,
                renewed.interval,
                renewed.seats,
                plan.seat_price(renewed.interval),
                plan_name=plan.name,
            )
            people = await scope.licensed_people_last_use()
            if len(people) > renewed.seats:
                _, released = keep_most_recent(people, renewed.seats)
                for person_id in released:
                    await scope.release_seat(person_id)
                    await scope.audit(
                        "system:renewals",
                        "seat.released",
                        person_id,
                        {"why": "renewed with fewer seats"},
                        now,
                    )
            await scope.save_subscription(sub_id, renewed, now, seat_price=terms.seat_price)
            if not plan.is_free:
                invoices = await scope.billing()
                ledger = await invoices.ledger(currency)
                invoice, new_ledger = renewal_invoice(
                    f"ren{sub_id[:12]}{renewed.period.start:%Y%m%d}", terms, renewed.period, ledger, currency
                )
                key = f"renewal:{sub_id}:{renewed.period.start.isoformat()}"
                if await invoices.add(invoice, kind="renewal", idempotency_key=key, at=now):
                    await invoices.save_ledger(ledger, new_ledger, now)
                    report.invoices.append(invoice)
            await scope.audit(
                "system:renewals",
                "subscription.renewed",
                sub_id,
                {"period_start": renewed.period.start.isoformat()},
                now,
            )
            report.renewed += 1
            sub = renewed
        await work.commit()
    for invoice in report.invoices:
        await billing.collect(tenant, invoice)
    return report


async def sweep_due_subscriptions(
    uow: UnitOfWorkFactory,
    billing: Billing,
    clock: Clock,
    *,
    grace_days: int,
    limit: int = 500,
) -> DueReport:
    """Every subscription with something due today (found by an indexed query), in one pass."""
    total = DueReport()
    async with uow() as work:
        tenants = await work.directory.tenants_with_due_subscriptions(
            today_in(clock), grace_days=grace_days, limit=limit
        )
    for tenant in tenants:
        report = await run_due_for_tenant(uow, billing, clock, tenant=tenant, grace_days=grace_days)
        total.renewed += report.renewed
        total.expired += report.expired
        total.invoices.extend(report.invoices)
    return total
