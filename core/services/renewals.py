"""What the calendar does to subscriptions (SPEC §3): renewals, trial ends, grace ends.

Subscriptions are brought up to date a batch at a time: one transaction locks the
batch's subscription rows, the pure rules decide each one's renewals or expiry, and a
handful of bulk statements store the results — so renewing 100,000 subscriptions costs
a few hundred statements, not millions.

Idempotent: every subscription is re-read under its row lock before anything changes
(a subscription that was just moved on has nothing more due), and a renewal invoice is
keyed by its subscription and period start, so running the sweep twice, or on two
workers at once, has each effect once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from core.audit import AuditEntry
from core.billing.ports import Billing, CreditAppend, NewInvoice, RenewedSubscription
from core.clock import Clock, today_in
from core.licensing.catalogue import PlanCatalogue
from core.licensing.due import DueAction, apply_due, due_transition
from core.licensing.seats import keep_most_recent
from core.licensing.subscription import ExpiryReason, Subscription
from core.proration.credit import CreditLedger
from core.proration.invoice import Invoice, renewal_invoice
from core.proration.terms import Terms
from core.tenancy import Tenant
from core.unit_of_work import UnitOfWorkFactory

__all__ = ["DueReport", "renew_due", "run_due_for_tenant", "sweep_due_subscriptions"]

log = logging.getLogger("stint.jobs.renewals")

#: A server that was off for a long time catches up at most this many renewals per run.
_MAX_CATCH_UP = 36
_ACTOR = "system:renewals"


@dataclass
class DueReport:
    renewed: int = 0
    expired: int = 0
    invoices: list[Invoice] = field(default_factory=list)
    #: Subscriptions another transaction held locked: left for the next sweep.
    skipped: int = 0
    #: Invoices stored but not handed to the payment rail (it failed; retried later).
    not_collected: int = 0

    def add(self, other: DueReport) -> None:
        self.renewed += other.renewed
        self.expired += other.expired
        self.invoices.extend(other.invoices)
        self.skipped += other.skipped
        self.not_collected += other.not_collected


@dataclass(frozen=True)
class _Renewal:
    subscription: Subscription
    terms: Terms
    is_free: bool


@dataclass
class _Steps:
    """What one subscription owes today: its renewals in order, or its expiry."""

    before: Subscription
    after: Subscription
    renewals: list[_Renewal] = field(default_factory=list)
    expired: ExpiryReason | None = None
    did_expire: bool = False


def _due_steps(sub: Subscription, today: date, grace_days: int, catalogue: PlanCatalogue) -> _Steps:
    steps = _Steps(before=sub, after=sub)
    for _ in range(_MAX_CATCH_UP):
        due = due_transition(sub, today, grace_days)
        if due.action is DueAction.NOTHING:
            break
        if due.action is DueAction.EXPIRE:
            # Expire as of the day it happened, not the day the sweep noticed.
            sub, _ = apply_due(sub, today, grace_days)
            steps.expired, steps.did_expire = due.reason, True
            break
        # Renew as of the period end, so a late sweep bills the right period.
        assert sub.period is not None
        renewed, _ = apply_due(sub, sub.period.end, grace_days)
        assert renewed.period is not None and renewed.interval is not None and renewed.seats is not None
        plan = catalogue.get(renewed.plan_id)
        # A renewal is priced from the catalogue as it is then: price edits apply from here.
        terms = Terms(plan.id, renewed.interval, renewed.seats, plan.seat_price(renewed.interval),
                      plan_name=plan.name)
        steps.renewals.append(_Renewal(renewed, terms, plan.is_free))
        sub = renewed
    steps.after = sub
    return steps


def _invoice_key(sub_id: str, renewed: Subscription) -> str:
    assert renewed.period is not None
    return f"renewal:{sub_id}:{renewed.period.start.isoformat()}"


async def renew_due(
    uow: UnitOfWorkFactory,
    billing: Billing,
    clock: Clock,
    *,
    tenants: Sequence[Tenant],
    grace_days: int,
    skip_locked: bool = True,
) -> DueReport:
    """Bring the subscriptions of ``tenants`` up to date with today, in one transaction.

    Tenants sharing a subscription (an enterprise-wide plan) move it once; "today" is the
    first listed tenant's. With ``skip_locked`` a subscription another transaction holds is
    left for the next sweep instead of waited for (two sweeps never queue behind each other).
    """
    first: dict[str, Tenant] = {}
    for tenant in tenants:
        first.setdefault(tenant.subscription_id, tenant)
    report = DueReport()
    if not first:
        return report
    now = clock.now()
    to_collect: list[tuple[Tenant, Invoice]] = []
    async with uow(write=True) as work:
        store = work.renewals()
        held = await store.lock(sorted(first), skip_locked=skip_locked)
        report.skipped = len(first) - len(held)
        catalogue = await work.directory.catalogue.load()
        steps = {
            due.id: _due_steps(
                due.subscription, today_in(clock, first[due.id].time_zone), grace_days, catalogue
            )
            for due in held
        }
        steps = {sub_id: s for sub_id, s in steps.items() if s.renewals or s.did_expire}
        if not steps:
            return report
        currency = {due.id: due.currency for due in held}

        # Seats beyond a renewal's (smaller) count go, least recently used first. Rare: only
        # a scheduled seat decrease does it, so the people are read only for those pools.
        fewest = {sub_id: min(r.terms.seats for r in s.renewals) for sub_id, s in steps.items() if s.renewals}
        held_seats = await store.seats_held(sorted(fewest)) if fewest else {}
        for sub_id, seats in fewest.items():
            if held_seats.get(sub_id, 0) > seats:
                scope = work.tenant(first[sub_id].id)
                _, released = keep_most_recent(await scope.seats().holders_last_use(), seats)
                for person_id in released:
                    await scope.seats().release(person_id)
                    await scope.audit().record(_ACTOR, "seat.released", person_id,
                                      {"why": "renewed with fewer seats"}, now)

        # Invoices: seats × price for each renewed period, paid from credit first.
        billable = [(sub_id, r) for sub_id, s in steps.items() for r in s.renewals if not r.is_free]
        existing = await store.existing_invoice_keys(
            [_invoice_key(sub_id, r.subscription) for sub_id, r in billable]
        )
        ledgers = await store.ledgers({sub_id: currency[sub_id] for sub_id, _ in billable})
        new_invoices: list[NewInvoice] = []
        credit: list[CreditAppend] = []
        for sub_id, renewal in billable:
            key = _invoice_key(sub_id, renewal.subscription)
            if key in existing:
                continue
            period = renewal.subscription.period
            assert period is not None
            ledger = ledgers.get(sub_id) or CreditLedger((), currency[sub_id])
            invoice, after = renewal_invoice(
                f"ren{sub_id[:12]}{period.start:%Y%m%d}", renewal.terms, period, ledger, currency[sub_id]
            )
            for position in range(len(ledger.entries), len(after.entries)):
                credit.append(CreditAppend(sub_id, position, after.entries[position]))
            ledgers[sub_id] = after
            new_invoices.append(NewInvoice(sub_id, first[sub_id].id, invoice, key))

        saved: list[RenewedSubscription] = []
        audits: list[AuditEntry] = []
        for sub_id, s in steps.items():
            seat_price = s.renewals[-1].terms.seat_price if s.renewals else None
            saved.append(RenewedSubscription(sub_id, s.after, seat_price))
            tenant_id = first[sub_id].id
            for renewal in s.renewals:
                assert renewal.subscription.period is not None
                audits.append(AuditEntry(tenant_id, _ACTOR, "subscription.renewed", sub_id,
                                         {"period_start": renewal.subscription.period.start.isoformat()}))
            if s.did_expire:
                audits.append(AuditEntry(tenant_id, _ACTOR, "subscription.expired", sub_id,
                                         {"reason": s.expired.value if s.expired else None}))
            report.renewed += len(s.renewals)
            report.expired += int(s.did_expire)

        await store.save(saved, now)
        if new_invoices:
            # Numbered as they are stored: each account's next numbers, in period order.
            stored = await store.add_invoices(new_invoices, kind="renewal", at=now)
            to_collect.extend(
                (first[new.subscription_id], invoice)
                for new, invoice in zip(new_invoices, stored, strict=True)
            )
        if credit:
            await store.append_credit(credit, now)
        await store.audit(audits, now)
        await work.commit()

    # After the commit, so a failing payment rail never loses an invoice; one it could not
    # take is pushed again by the rail's own retry job.
    for tenant, invoice in to_collect:
        try:
            await billing.collect(tenant, invoice)
        except Exception:
            log.exception("payment rail did not take a renewal invoice", extra={"invoice": invoice.id})
            report.not_collected += 1
        report.invoices.append(invoice)
    return report


async def run_due_for_tenant(
    uow: UnitOfWorkFactory,
    billing: Billing,
    clock: Clock,
    *,
    tenant: Tenant,
    grace_days: int,
) -> DueReport:
    """Bring one tenant's subscription up to date with today (waits for its lock)."""
    return await renew_due(uow, billing, clock, tenants=[tenant], grace_days=grace_days, skip_locked=False)


async def sweep_due_subscriptions(
    uow: UnitOfWorkFactory,
    billing: Billing,
    clock: Clock,
    *,
    grace_days: int,
    limit: int = 500,
) -> DueReport:
    """Every subscription with something due today (found by an indexed query), as one batch."""
    async with uow() as work:
        tenants = await work.directory.tenants_with_due_subscriptions(
            today_in(clock), grace_days=grace_days, limit=limit
        )
    return await renew_due(uow, billing, clock, tenants=tenants, grace_days=grace_days, skip_locked=False)
