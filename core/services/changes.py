"""Seat, plan and interval changes with per-day proration (SPEC §4), and their quotes.

A quote and the change that follows it run the same code on the same facts, so
the change produces exactly the quoted lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.billing.ports import Billing
from core.clock import Clock, today_in
from core.errors import SubscriptionShared, ValidationFailed
from core.ids import new_id
from core.licensing.catalogue import PlanCatalogue
from core.licensing.changes import change_interval, change_plan, change_seats
from core.licensing.plans import PlanScope
from core.licensing.ports import HeldSubscription
from core.licensing.subscription import Subscription
from core.periods import Interval
from core.proration.change import Change
from core.proration.credit import CreditLedger
from core.proration.credit_note import CreditNote
from core.proration.invoice import Invoice
from core.proration.quote import Quote, quote_change
from core.proration.settlement import Settlement, settle_change
from core.proration.terms import Terms
from core.tenancy import Tenant, User
from core.unit_of_work import TenantScope, UnitOfWork, UnitOfWorkFactory

from .audit import actor_of
from .subscriptions import SubscriptionView, ensure_changed_here, parse_interval, view_in_scope

__all__ = [
    "ChangePreview",
    "ChangeResult",
    "RequestedChange",
    "change_subscription",
    "preview_subscription_change",
    "quote_subscription_change",
]


@dataclass(frozen=True, slots=True)
class RequestedChange:
    seats: int | None = None
    plan_id: str | None = None
    interval: str | None = None

    def to_change(self) -> Change:
        if self.seats is None and self.plan_id is None and self.interval is None:
            raise ValidationFailed("say what to change: seats, plan or interval", field="seats")
        interval = parse_interval(self.interval) if self.interval is not None else None
        return Change(seats=self.seats, plan_id=self.plan_id, interval=interval)


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """The change done: its quote, the charge invoice, and where its credit went."""

    view: SubscriptionView
    quote: Quote
    invoice: Invoice | None
    credit_notes: tuple[CreditNote, ...] = ()
    credited_invoices: tuple[Invoice, ...] = ()
    to_credit_balance: int = 0

    @property
    def against_invoices(self) -> int:
        return sum(note.amount for note in self.credit_notes)


@dataclass(frozen=True, slots=True)
class ChangePreview:
    """A quote and where its credit would go today: against unpaid invoices, then the balance."""

    quote: Quote
    credit_notes: tuple[CreditNote, ...]
    to_credit_balance: int

    @property
    def against_invoices(self) -> int:
        return sum(note.amount for note in self.credit_notes)


def _current_terms(sub: Subscription, seat_price: int | None, catalogue: PlanCatalogue) -> Terms:
    if sub.interval is None or sub.seats is None or sub.period is None:
        raise ValidationFailed("there is no paid period to change yet; buy a plan first", field="plan")
    price = seat_price if seat_price is not None else catalogue.get(sub.plan_id).seat_price(sub.interval)
    return Terms(sub.plan_id, sub.interval, sub.seats, price, plan_name=catalogue.get(sub.plan_id).name)


@dataclass(frozen=True, slots=True)
class _Quoted:
    """A change quoted against the subscription it was read from."""

    held: HeldSubscription
    quote: Quote
    currency: str


async def _quote(
    scope: TenantScope,
    catalogue: PlanCatalogue,
    tenant: Tenant,
    requested: RequestedChange,
    on: date,
    *,
    for_update: bool,
) -> _Quoted:
    await ensure_changed_here(scope)
    held = await scope.subscriptions().get(for_update=for_update)
    sub = held.subscription
    terms = await scope.subscriptions().terms()
    currency = terms.currency
    current = _current_terms(sub, terms.seat_price, catalogue)
    assert sub.period is not None
    change = requested.to_change()
    if change.plan_id is not None:
        catalogue.get(change.plan_id)  # unknown plan → plan_not_available

    def price_of(plan_id: str, interval: Interval) -> int:
        return catalogue.get(plan_id).seat_price(interval)

    def is_free(plan_id: str) -> bool:
        return catalogue.get(plan_id).is_free

    def name_of(plan_id: str) -> str:
        return catalogue.get(plan_id).name

    quote = quote_change(current, sub.period, on, change, price_of, is_free, currency, name_of)
    return _Quoted(held, quote, currency)


async def _refuse_stranding_siblings(
    work: UnitOfWork, catalogue: PlanCatalogue, tenant: Tenant, sub_id: str, quote: Quote
) -> None:
    """SPEC §2: Ultimate covers every tenant of the enterprise, Team or Start only the one.

    Moving off an enterprise-wide plan while other tenants share the subscription would either
    leave them on a plan that no longer covers them or without a subscription; neither is what
    the buyer meant, so the move waits until they have their own.
    """
    before = catalogue.get(quote.current.plan_id).scope
    after = catalogue.get(quote.new.plan_id).scope
    if before is not PlanScope.ENTERPRISE or after is PlanScope.ENTERPRISE:
        return
    sharing = [
        other.slug
        for other in await work.directory.tenants_of_enterprise(tenant.enterprise_id)
        if other.id != tenant.id and other.subscription_id == sub_id
    ]
    if sharing:
        raise SubscriptionShared(
            f"{len(sharing)} other organisation(s) or server(s) of your enterprise share this "
            f"{catalogue.get(quote.current.plan_id).name} subscription ({', '.join(sorted(sharing)[:5])}"
            f"{', …' if len(sharing) > 5 else ''}); {catalogue.get(quote.new.plan_id).name} covers "
            "only one. Give them their own subscriptions first, then move this one.",
            sharing=len(sharing),
        )


def _apply_to_subscription(
    sub: Subscription, quote: Quote, catalogue: PlanCatalogue, tenant: Tenant, licensed: int
) -> Subscription:
    """The licensing rules (ranges, deployments, licensed users) on the quoted new terms."""
    current_plan = catalogue.get(sub.plan_id)
    new = quote.new
    if new.plan_id != sub.plan_id:
        new_plan = catalogue.get(new.plan_id)
        sub = change_plan(sub, current_plan, new_plan, new.seats, tenant.deployment, licensed)
    elif new.seats != sub.seats:
        sub = change_seats(sub, current_plan, new.seats, licensed)
    # A change scheduled for the period end (a move to a free plan) leaves the running period
    # as it is, interval included: switching it now would be unpriced, while the stored seat
    # price stays the old interval's, and a free plan has no interval to bill by afterwards.
    if not quote.is_scheduled and new.interval is not quote.current.interval:
        sub = change_interval(sub, catalogue.get(sub.plan_id), new.interval)
    return sub


async def _settle(
    scope: TenantScope, quote: Quote, currency: str, change_id: str
) -> tuple[CreditLedger, Settlement]:
    """The quote settled against the account as it stands (the ledger before, the settlement)."""
    invoices = scope.invoices()
    ledger = await invoices.ledger(currency)
    # Only a credit can lower an invoice; a charge never reads them.
    unpaid = (
        await invoices.unpaid_in(quote.period.start, quote.period.end)
        if any(line.amount < 0 for line in quote.lines)
        else []
    )
    return ledger, settle_change(quote, ledger, unpaid, invoice_id=change_id, note_id=new_id)


async def preview_subscription_change(
    uow: UnitOfWorkFactory,
    clock: Clock,
    *,
    tenant: Tenant,
    requested: RequestedChange,
    on: date | None = None,
) -> ChangePreview:
    """What the change would do on ``on`` (default today), every number included, and how much
    of its credit would lower invoices unpaid today. Changes nothing."""
    day = on or today_in(clock, tenant.time_zone)
    async with uow() as work:
        catalogue = await work.directory.catalogue.load()
        scope = work.tenant(tenant.id)
        quoted = await _quote(scope, catalogue, tenant, requested, day, for_update=False)
        sub, quote = quoted.held.subscription, quoted.quote
        # The same rules as the change itself, so a quote never promises a refused change.
        await _refuse_stranding_siblings(work, catalogue, tenant, quoted.held.id, quote)
        _apply_to_subscription(sub, quote, catalogue, tenant, len(await scope.seats().holders_last_use()))
        _, settled = await _settle(scope, quote, quoted.currency, new_id())
    return ChangePreview(quote, settled.credit_notes, settled.to_ledger)


async def quote_subscription_change(
    uow: UnitOfWorkFactory,
    clock: Clock,
    *,
    tenant: Tenant,
    requested: RequestedChange,
    on: date | None = None,
) -> Quote:
    """What the change would do on ``on`` (default today), every number included. Changes nothing."""
    preview = await preview_subscription_change(uow, clock, tenant=tenant, requested=requested, on=on)
    return preview.quote


async def change_subscription(
    uow: UnitOfWorkFactory,
    billing: Billing,
    clock: Clock,
    *,
    tenant: Tenant,
    actor: User,
    requested: RequestedChange,
) -> ChangeResult:
    """Apply the change today: a charge is invoiced (credit first); a credit lowers the
    period's unpaid invoices (credit notes, newest first) and the rest goes to the ledger."""
    today = today_in(clock, tenant.time_zone)
    now = clock.now()
    async with uow(write=True) as work:
        catalogue = await work.directory.catalogue.load()
        scope = work.tenant(tenant.id)
        quoted = await _quote(scope, catalogue, tenant, requested, today, for_update=True)
        sub_id, sub, quote, currency = quoted.held.id, quoted.held.subscription, quoted.quote, quoted.currency
        await _refuse_stranding_siblings(work, catalogue, tenant, sub_id, quote)
        licensed = len(await scope.seats().holders_last_use())
        after = _apply_to_subscription(sub, quote, catalogue, tenant, licensed)
        # A move to Free keeps paying terms until the period end; otherwise the new price is in force.
        seat_price = quote.current.seat_price if quote.is_scheduled else quote.new.seat_price
        new_scope = catalogue.get(after.plan_id).scope
        if new_scope is PlanScope.ENTERPRISE:
            # Moving onto an enterprise-wide plan: every tenant of the enterprise shares it.
            await work.directory.repoint_enterprise(tenant.enterprise_id, sub_id)
        await scope.subscriptions().save(sub_id, after, now, seat_price=seat_price, scope=new_scope.value)
        invoices = scope.invoices()
        change_id = new_id()
        ledger, settled = await _settle(scope, quote, currency, change_id)
        for note in settled.credit_notes:
            await invoices.add_credit_note(note, reference=change_id, at=now)
        invoice = settled.invoice
        if invoice is not None:
            stored = await invoices.add(
                invoice, kind="proration", idempotency_key=f"change:{invoice.id}", at=now
            )
            assert stored is not None  # a new id makes a new key
            invoice = stored
        await invoices.save_ledger(ledger, settled.ledger, now)
        await scope.audit().record(
            actor_of(actor),
            "subscription.changed",
            sub_id,
            {
                "lines": [line.description for line in quote.lines],
                "total": quote.total,
                "scheduled_for": quote.scheduled_for.isoformat() if quote.scheduled_for else None,
                "credit_notes": [
                    {"id": n.id, "invoice": n.invoice_id, "amount": n.amount} for n in settled.credit_notes
                ],
                "to_credit_balance": settled.to_ledger,
            },
            now,
        )
        view = await view_in_scope(scope, today)
        await work.commit()
    for credited in settled.credited_invoices:
        await billing.credit(
            tenant, credited, [n for n in settled.credit_notes if n.invoice_id == credited.id]
        )
    if invoice is not None:
        await billing.collect(tenant, invoice)
    return ChangeResult(
        view=view,
        quote=quote,
        invoice=invoice,
        credit_notes=settled.credit_notes,
        credited_invoices=settled.credited_invoices,
        to_credit_balance=settled.to_ledger,
    )
