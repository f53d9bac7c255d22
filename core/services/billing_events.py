"""Payment-provider events as Stint use cases (SPEC §10): each event id is claimed in the
same transaction as its effect, so a second delivery finds it claimed and changes nothing.

The adapter verifies the event and reads the facts it needs from the provider (re-reading
objects whose order matters); these functions only apply facts to Stint's own state.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from core.billing.ports import BillingCustomer, PaymentRecords
from core.clock import Clock, today_in
from core.errors import Conflict, StintError
from core.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .payments import record_failed_payment, settle_invoice

__all__ = [
    "InvalidWebhook",
    "PaymentOutcome",
    "PaymentProviderMissing",
    "PaymentProviderUnavailable",
    "apply_customer_update",
    "apply_payment_outcome",
    "ignore_event",
]

ACTOR = "system:payment-provider"


class InvalidWebhook(StintError):
    """The request is not a genuine, fresh provider event (signature, timestamp or shape)."""

    code = "invalid_webhook"


class PaymentProviderMissing(Conflict):
    """No payment provider is configured: invoices are paid manually."""

    code = "payment_provider_not_configured"


class PaymentProviderUnavailable(StintError):
    """The provider could not be reached; nothing was changed and the event can be retried."""

    code = "payment_provider_unavailable"


class PaymentOutcome(StrEnum):
    PAID = "paid"
    FAILED = "failed"
    ACTION_REQUIRED = "action_required"
    """The payment needs the customer (e.g. 3-D Secure); until then it counts as failed."""


async def apply_payment_outcome(
    uow: UnitOfWorkFactory,
    records: PaymentRecords,
    clock: Clock,
    *,
    event_id: str,
    event_type: str,
    invoice_id: str,
    outcome: PaymentOutcome,
    tenant_id: str | None = None,
) -> str:
    """Apply what the provider says happened to a Stint invoice; the result names the effect.

    ``tenant_id``, when the caller already knows whose invoice it is (the provider record
    Stint wrote when it sent the invoice), spares looking it up.
    """
    now = clock.now()
    async with uow(write=True) as work:
        # The claim comes first, so a redelivery stops at one statement. A concurrent
        # delivery of the same event waits on the first one's claim (the unique key) until
        # that commits, then finds it claimed and changes nothing.
        if not await records.claim_event(event_id, event_type, outcome.value, now):
            return "duplicate"
        invoice = await records.invoice(invoice_id)
        if invoice is None:
            await work.commit()
            return "unknown_invoice"
        if invoice.status == "paid":
            # Paid is final in Stint (a paid invoice is never voided nor due again): neither
            # outcome changes anything, as settle_invoice(again=False) and
            # record_failed_payment would decide under the subscription's lock.
            await work.commit()
            return "no_change"
        if tenant_id is None:
            account = await records.invoice_account(invoice_id)
            tenant_id = account.tenant_id if account else None
        tenant = await work.directory.tenant_by_id(tenant_id) if tenant_id else None
        if tenant is None:
            await work.commit()
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
            await work.commit()
            return "unknown_invoice"
        if effect.invoice_changed or effect.subscription_changed:
            await scope.audit().record(
                ACTOR,
                action,
                invoice_id,
                {
                    "event": event_id,
                    "outcome": outcome.value,
                    "subscription": effect.subscription.status.value,
                },
                now,
            )
        await work.commit()
    if not (effect.invoice_changed or effect.subscription_changed):
        return "no_change"
    return outcome.value


async def apply_customer_update(
    uow: UnitOfWorkFactory,
    records: PaymentRecords,
    clock: Clock,
    *,
    event_id: str,
    event_type: str,
    customer: BillingCustomer,
) -> str:
    """Store the provider customer as it is now (read after the event, so order does not matter)."""
    now = clock.now()
    async with uow(write=True) as work:
        if not await records.claim_event(event_id, event_type, "customer", now):
            return "duplicate"
        await records.save_customer(customer, now)
        await work.commit()
    return "customer"


async def ignore_event(
    uow: UnitOfWorkFactory,
    records: PaymentRecords,
    clock: Clock,
    *,
    event_id: str,
    event_type: str,
    outcome: str,
) -> str:
    """Remember a handled event that changes nothing of Stint's (an unknown customer or invoice,
    or a customer as Stint already has it)."""
    async with uow(write=True) as work:
        return await _claim_only(work, records, event_id, event_type, outcome, clock.now())


async def _claim_only(
    work: UnitOfWork, records: PaymentRecords, event_id: str, event_type: str, outcome: str, now: datetime
) -> str:
    if not await records.claim_event(event_id, event_type, outcome, now):
        return "duplicate"
    await work.commit()
    return outcome
