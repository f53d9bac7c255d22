"""Payment-provider events as Stint use cases (SPEC §10): each event id is claimed in the
same transaction as its effect, so a second delivery finds it claimed and changes nothing.

The adapter verifies a delivery and translates it into a ``core.billing`` event;
:func:`apply_provider_event` asks the billing rules what it counts as, reads the provider
(``core.billing.PaymentProvider``) only where they say the event cannot settle it alone,
and applies the outcome to Stint's own state.
"""

from __future__ import annotations

from datetime import datetime

from core.billing import (
    CheckoutCompleted,
    CustomerEvent,
    CustomerUpdated,
    InvoicePaymentReported,
    PaymentMethodAttached,
    PaymentOutcome,
    PaymentProvider,
    ProviderActions,
    ProviderEvent,
    customer_now,
    default_after_attach,
    outcome_from_provider,
    outcome_without_provider,
    remote_state_to_record,
    resumes_account,
    says_what_stint_stores,
)
from core.billing.ports import BillingCustomer
from core.clock import Clock, today_in
from core.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .payments import record_failed_payment, settle_invoice

__all__ = [
    "apply_customer_update",
    "apply_payment_outcome",
    "apply_provider_event",
    "ignore_event",
]

ACTOR = "system:payment-provider"


async def apply_provider_event(
    event: ProviderEvent,
    *,
    uow: UnitOfWorkFactory,
    clock: Clock,
    provider: PaymentProvider,
    actions: ProviderActions,
) -> str:
    """Apply one verified provider event; the answer names what it did (``paid``,
    ``duplicate``, ``unknown_invoice``, ``no_change`` …)."""
    if isinstance(event, InvoicePaymentReported):
        return await _invoice_event(event, uow, clock, provider)
    return await _customer_event(event, uow, clock, provider, actions)


async def _invoice_event(
    event: InvoicePaymentReported,
    uow: UnitOfWorkFactory,
    clock: Clock,
    provider: PaymentProvider,
) -> str:
    remote_id = event.remote_invoice_id
    # A read unit of work holds no transaction on PostgreSQL, so these reads cost what they
    # did as single statements; it is left before the provider is asked anything, so no
    # pooled connection waits on the provider.
    async with uow() as work:
        payments = work.payments()
        remote = await payments.remote_invoice_by_remote_id(remote_id) if remote_id else None
        outcome = outcome_without_provider(event, remote) if remote is not None else None
        # A redelivery is looked for only where it would spare the provider a read.
        seen = remote is not None and outcome is None and await payments.seen_event(event.event_id)
    if remote is None:
        # Only invoices Stint itself sent count: what an event says about Stint's ids
        # (metadata) could be copied onto any invoice.
        return await _ignore(event, uow, clock, "unknown_invoice")
    if outcome is None:
        if seen:
            return "duplicate"  # a redelivery: spare the provider the read
        outcome = outcome_from_provider(event, await provider.invoice_status(remote_id))
        if outcome is None:
            return await _ignore(event, uow, clock, "ignored")
    return await apply_payment_outcome(
        uow,
        clock,
        event_id=event.event_id,
        event_type=event.event_type,
        invoice_id=remote.invoice_id,
        outcome=outcome,
        tenant_id=remote.tenant_id,
        remote_state=remote_state_to_record(remote, outcome),
    )


async def _customer_event(
    event: CustomerEvent,
    uow: UnitOfWorkFactory,
    clock: Clock,
    provider: PaymentProvider,
    actions: ProviderActions,
) -> str:
    customer_id = event.customer_id
    async with uow() as work:
        payments = work.payments()
        known = await payments.customer_by_remote(customer_id) if customer_id else None
        no_change = (
            known is not None
            and isinstance(event, CustomerUpdated)
            and says_what_stint_stores(event.stated, known)
        )
        # Reading the provider is the dear part: a redelivery is looked for first. The
        # claim in the effect's transaction is what guarantees "once", for every event.
        seen = known is not None and not no_change and await payments.seen_event(event.event_id)
    if known is None:
        return await _ignore(event, uow, clock, "unknown_customer")
    if no_change:
        return await _ignore(event, uow, clock, "no_change")
    if seen:
        return "duplicate"
    if isinstance(event, CheckoutCompleted):
        # A card collected by Buy Now's checkout is the one to charge.
        collected = await provider.checkout_payment_method(event.session_id)
        if collected:
            await actions.set_default_payment_method(customer_id, collected)
    elif isinstance(event, PaymentMethodAttached):
        current_default = await provider.default_payment_method(customer_id)
        new_default = default_after_attach(current_default, event.payment_method_id)
        if new_default:
            await actions.set_default_payment_method(customer_id, new_default)
    current = await provider.customer(customer_id)
    result = await apply_customer_update(
        uow,
        clock,
        event_id=event.event_id,
        event_type=event.event_type,
        customer=customer_now(known, current),
    )
    if result != "duplicate" and resumes_account(known, current):
        await actions.resume_account(known.subscription_id)
    return result


async def _ignore(event: ProviderEvent, uow: UnitOfWorkFactory, clock: Clock, outcome: str) -> str:
    return await ignore_event(
        uow, clock, event_id=event.event_id, event_type=event.event_type, outcome=outcome
    )


async def apply_payment_outcome(
    uow: UnitOfWorkFactory,
    clock: Clock,
    *,
    event_id: str,
    event_type: str,
    invoice_id: str,
    outcome: PaymentOutcome,
    tenant_id: str | None = None,
    remote_state: str | None = None,
) -> str:
    """Apply what the provider says happened to a Stint invoice; the result names the effect.

    ``tenant_id``, when the caller already knows whose invoice it is (the provider record
    Stint wrote when it sent the invoice), spares looking it up. ``remote_state`` is where
    that record moves with this outcome (``remote_state_to_record``), in the same
    transaction: never on a duplicate, and never back from ``paid``.
    """
    now = clock.now()
    async with uow(write=True) as work:
        payments = work.payments()
        # The claim comes first, so a redelivery stops at one statement. A concurrent
        # delivery of the same event waits on the first one's claim (the unique key) until
        # that commits, then finds it claimed and changes nothing.
        if not await payments.claim_event(event_id, event_type, outcome.value, now):
            return "duplicate"
        result = await _settle_or_fail(work, clock, now, event_id, invoice_id, outcome, tenant_id)
        if remote_state is not None:
            # Bookkeeping of how far the invoice got at the provider, kept or dropped with
            # the claim. Its row is locked last: nothing that holds it waits for a
            # subscription's lock, so the two cannot deadlock.
            await payments.set_remote_state(invoice_id, remote_state, now)
        await work.commit()
    return result


async def _settle_or_fail(
    work: UnitOfWork,
    clock: Clock,
    now: datetime,
    event_id: str,
    invoice_id: str,
    outcome: PaymentOutcome,
    tenant_id: str | None,
) -> str:
    payments = work.payments()
    invoice = await payments.invoice(invoice_id)
    if invoice is None:
        return "unknown_invoice"
    if invoice.status == "paid":
        # Paid is final in Stint (a paid invoice is never voided nor due again): neither
        # outcome changes anything, as settle_invoice(again=False) and
        # record_failed_payment would decide under the subscription's lock.
        return "no_change"
    if tenant_id is None:
        account = await payments.invoice_account(invoice_id)
        tenant_id = account.tenant_id if account else None
    tenant = await work.directory.tenant_by_id(tenant_id) if tenant_id else None
    if tenant is None:
        return "unknown_invoice"
    scope = work.tenant(tenant.id)
    today = today_in(clock, tenant.time_zone)
    if outcome is PaymentOutcome.PAID:
        effect = await settle_invoice(scope, invoice_id, today=today, now=now, again=False)
        action = "invoice.paid"
    else:
        effect = await record_failed_payment(scope, invoice_id, today=today, now=now)
        action = "invoice.payment_failed"
    if effect is None:
        return "unknown_invoice"
    if not (effect.invoice_changed or effect.subscription_changed):
        return "no_change"
    await scope.audit().record(
        ACTOR,
        action,
        invoice_id,
        {"event": event_id, "outcome": outcome.value, "subscription": effect.subscription.status.value},
        now,
    )
    return outcome.value


async def apply_customer_update(
    uow: UnitOfWorkFactory,
    clock: Clock,
    *,
    event_id: str,
    event_type: str,
    customer: BillingCustomer,
) -> str:
    """Store the provider customer as it is now (read after the event, so order does not matter)."""
    now = clock.now()
    async with uow(write=True) as work:
        payments = work.payments()
        if not await payments.claim_event(event_id, event_type, "customer", now):
            return "duplicate"
        await payments.save_customer(customer, now)
        await work.commit()
    return "customer"


async def ignore_event(
    uow: UnitOfWorkFactory,
    clock: Clock,
    *,
    event_id: str,
    event_type: str,
    outcome: str,
) -> str:
    """Remember a handled event that changes nothing of Stint's (an unknown customer or invoice,
    or a customer as Stint already has it)."""
    async with uow(write=True) as work:
        if not await work.payments().claim_event(event_id, event_type, outcome, clock.now()):
            return "duplicate"
        await work.commit()
    return outcome
