"""Money arrived, or did not: the effects of a payment on an invoice and its subscription.

Shared by every rail that learns about payments — an operator marking a manual invoice
paid, or the payment provider's webhooks — so each has the same effect (SPEC §3):
a paid invoice restores a past-due subscription at once and reactivates an expired paid
one; a failed payment makes an active subscription past due, with access during the grace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from core.licensing import lifecycle
from core.licensing.subscription import Subscription, SubscriptionStatus
from core.proration.invoice import Invoice
from core.unit_of_work import TenantScope

__all__ = ["PaymentEffect", "record_failed_payment", "restored_after_payment", "settle_invoice"]

_S = SubscriptionStatus


@dataclass(frozen=True, slots=True)
class PaymentEffect:
    """What one payment fact did: the invoice and subscription after it, and whether anything changed."""

    invoice: Invoice
    subscription: Subscription
    invoice_changed: bool
    subscription_changed: bool


def restored_after_payment(sub: Subscription, today: date) -> Subscription:
    """Past due → active; expired after having been paid for → reactivated today; else as is."""
    if sub.status is _S.PAST_DUE:
        return lifecycle.payment_succeeded(sub)
    if sub.status is _S.EXPIRED and sub.is_paid:
        return lifecycle.reactivate(sub, today)
    return sub


async def settle_invoice(
    scope: TenantScope, invoice_id: str, *, today: date, now: datetime, again: bool = True
) -> PaymentEffect | None:
    """Mark the invoice paid and restore the subscription (locked here); None: no such invoice.

    ``again=False`` is for facts that may arrive twice (webhooks): an invoice that is
    already paid then changes nothing, so a late duplicate never revives a subscription
    that has since fallen behind on another invoice.
    """
    held = await scope.subscriptions().get(for_update=True)
    sub_id, sub = held.id, held.subscription
    invoices = scope.invoices()
    found = await invoices.get(invoice_id)
    if found is None:
        return None
    before = found.invoice
    invoice = before.mark_paid()
    if before.status == "paid" and not again:
        return PaymentEffect(invoice, sub, False, False)
    if before.status != "paid":
        await invoices.mark_paid(invoice.id, now)
    after = restored_after_payment(sub, today)
    if after != sub:
        await scope.subscriptions().save(sub_id, after, now)
    return PaymentEffect(invoice, after, before.status != "paid", after != sub)


async def record_failed_payment(
    scope: TenantScope, invoice_id: str, *, today: date, now: datetime
) -> PaymentEffect | None:
    """A due invoice could not be charged: an active subscription becomes past due from today.

    A paid invoice (its failure was an earlier attempt) and a subscription that is not
    active (already past due, cancelled, expired) are left as they are.
    """
    held = await scope.subscriptions().get(for_update=True)
    sub_id, sub = held.id, held.subscription
    found = await scope.invoices().get(invoice_id)
    if found is None:
        return None
    invoice = found.invoice
    if invoice.status != "due" or sub.status is not _S.ACTIVE:
        return PaymentEffect(invoice, sub, False, False)
    after = lifecycle.payment_failed(sub, today)
    await scope.subscriptions().save(sub_id, after, now)
    return PaymentEffect(invoice, after, False, True)
