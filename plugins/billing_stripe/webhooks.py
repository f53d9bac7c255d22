"""Stripe webhooks: verified, then translated into Stint's billing use cases.

Verification uses the stripe library (HMAC-SHA256 over ``t.payload`` with the endpoint
secret, and a 300 s tolerance for old timestamps); a timestamp more than the same
tolerance in the future is refused too, since a signed request "from the future" can be
replayed until that moment passes. Freshness is judged by the wall clock, as Stripe signs.

Each handled event is applied through ``core.services.billing_events``, which claims the
event id in the same transaction as the effect. Objects whose order matters are read
again from Stripe rather than trusted from the event: a failed payment for an invoice
that Stripe now shows paid counts as paid, and a customer is stored as it is now. Stripe
is not read when the event alone settles it: ``invoice.paid`` (paid is final), a failure
for an invoice Stripe already reported paid, and a ``customer.updated`` whose customer is
what Stint already stores (most such events change fields Stint does not keep).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import msgspec
import stripe

from core.billing.ports import BillingCustomer, PaymentRecords
from core.clock import Clock
from core.services.billing_events import (
    InvalidWebhook,
    PaymentOutcome,
    PaymentProviderUnavailable,
    apply_customer_update,
    apply_payment_outcome,
    ignore_event,
)
from core.unit_of_work import UnitOfWorkFactory

from .billing import StripeBilling

__all__ = ["HANDLED", "TOLERANCE_SECONDS", "StripeWebhooks", "verify_event"]

log = logging.getLogger("stint.billing.stripe")

TOLERANCE_SECONDS = 300

_PAID = ("invoice.paid", "invoice.payment_succeeded")
_UNPAID = {
    "invoice.payment_failed": PaymentOutcome.FAILED,
    "invoice.payment_action_required": PaymentOutcome.ACTION_REQUIRED,
}
_CUSTOMER = ("checkout.session.completed", "customer.updated", "payment_method.attached")
HANDLED = frozenset((*_PAID, *_UNPAID, *_CUSTOMER))


def verify_event(
    payload: bytes, header: str | None, secret: str, *, now: Callable[[], float] = time.time
) -> dict[str, Any]:
    """The event, if ``payload`` is signed by ``secret`` and its timestamp is within the tolerance."""
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=TOLERANCE_SECONDS)
        stamp = int(next(p for p in (header or "").split(",") if p.startswith("t="))[2:])
    except (stripe.SignatureVerificationError, ValueError, StopIteration, UnicodeDecodeError) as exc:
        raise InvalidWebhook(f"Stripe signature refused: {exc}") from None
    if stamp > now() + TOLERANCE_SECONDS:
        raise InvalidWebhook("Stripe signature refused: its timestamp is in the future")
    try:
        # msgspec: about half json's time for an event; the verified payload is UTF-8 already.
        event = msgspec.json.decode(payload)
    except msgspec.DecodeError:
        raise InvalidWebhook("the event is not JSON") from None
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and isinstance(event.get("type"), str)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        raise InvalidWebhook("the event has no id, type or data.object")
    return event


class StripeWebhooks:
    def __init__(
        self,
        billing: StripeBilling,
        uow: UnitOfWorkFactory,
        records: PaymentRecords,
        clock: Clock,
        *,
        secret: str,
    ) -> None:
        self.billing = billing
        self.uow = uow
        self.records = records
        self.clock = clock
        self.secret = secret

    async def receive(self, payload: bytes, header: str | None) -> str:
        """Verify and apply one delivery; the answer names what it did (``ignored``, ``duplicate`` …)."""
        event = verify_event(payload, header, self.secret)
        kind = event["type"]
        if kind not in HANDLED:
            return "ignored"
        try:
            return await self._apply(event["id"], kind, event["data"]["object"])
        except stripe.StripeError as exc:
            log.warning("Stripe unreachable while applying an event", extra={"event": event["id"]})
            raise PaymentProviderUnavailable(f"Stripe could not be read: {exc}; retry later") from None

    async def _apply(self, event_id: str, kind: str, obj: dict[str, Any]) -> str:
        if kind in _PAID or kind in _UNPAID:
            return await self._invoice_event(event_id, kind, obj)
        return await self._customer_event(event_id, kind, obj)

    async def _invoice_event(self, event_id: str, kind: str, obj: dict[str, Any]) -> str:
        remote_id = str(obj.get("id") or "")
        remote = await self.records.remote_invoice_by_remote_id(remote_id) if remote_id else None
        if remote is None:
            # Only invoices Stint itself sent count: metadata alone could be copied.
            return await ignore_event(
                self.uow,
                self.records,
                self.clock,
                event_id=event_id,
                event_type=kind,
                outcome="unknown_invoice",
            )
        if kind in _PAID or remote.state == "paid":
            # Paid is final in Stripe: no later event undoes it, and a failure reported for
            # an invoice Stripe already told Stint is paid was an earlier attempt.
            outcome = PaymentOutcome.PAID
        else:
            if await self.records.seen_event(event_id):
                return "duplicate"  # a redelivery: spare Stripe the read
            status = (await self.billing.gateway.invoice(remote_id)).status
            if status == "paid":
                outcome = PaymentOutcome.PAID  # the failure was an earlier attempt
            elif status in ("open", "uncollectible"):
                outcome = _UNPAID[kind]
            else:
                return await ignore_event(
                    self.uow, self.records, self.clock, event_id=event_id, event_type=kind, outcome="ignored"
                )
        result = await apply_payment_outcome(
            self.uow,
            self.records,
            self.clock,
            event_id=event_id,
            event_type=kind,
            invoice_id=remote.invoice_id,
            outcome=outcome,
            tenant_id=remote.tenant_id,
        )
        state = "paid" if outcome is PaymentOutcome.PAID else "failed"
        if result != "duplicate" and remote.state != state:
            await self.billing.mark(remote.invoice_id, state)
        return result

    async def _customer_event(self, event_id: str, kind: str, obj: dict[str, Any]) -> str:
        gateway = self.billing.gateway
        customer_id = str(obj.get("id") if kind == "customer.updated" else obj.get("customer") or "")
        known = await self.records.customer_by_remote(customer_id) if customer_id else None
        if known is None:
            return await ignore_event(
                self.uow,
                self.records,
                self.clock,
                event_id=event_id,
                event_type=kind,
                outcome="unknown_customer",
            )
        if kind == "customer.updated" and _as_stored(obj, known):
            # The event's own customer carries what Stint keeps (email, default card), and it
            # is what Stint has: storing it changes nothing, whatever the order, so Stripe is
            # not asked. (An older event that differs is re-read below; the newest state
            # always arrives with an event of its own.)
            return await ignore_event(
                self.uow, self.records, self.clock, event_id=event_id, event_type=kind, outcome="no_change"
            )
        # Reading Stripe is the dear part: a redelivery is looked for first (one read,
        # outside any transaction). The claim in the effect's transaction is what
        # guarantees "once", for every event.
        if await self.records.seen_event(event_id):
            return "duplicate"
        if kind == "checkout.session.completed":
            session = await gateway.retrieve_checkout_session(str(obj.get("id")))
            if session.status == "complete" and session.mode == "setup" and session.setup_intent:
                intent = await gateway.setup_intent(str(session.setup_intent))
                if intent.status == "succeeded" and intent.payment_method:
                    await gateway.set_default_payment_method(customer_id, str(intent.payment_method))
        elif kind == "payment_method.attached":
            current = await gateway.customer(customer_id)
            if not _default_method(current) and obj.get("id"):
                # A card added in the portal is the one to charge when there was none.
                await gateway.set_default_payment_method(customer_id, str(obj["id"]))
        current = await gateway.customer(customer_id, expand_method=True)
        method = getattr(getattr(current, "invoice_settings", None), "default_payment_method", None)
        method_id = _default_method(current)
        card = getattr(method, "card", None) if method is not None and not isinstance(method, str) else None
        brand = getattr(card, "brand", None) if card else None
        last4 = getattr(card, "last4", None) if card else None
        result = await apply_customer_update(
            self.uow,
            self.records,
            self.clock,
            event_id=event_id,
            event_type=kind,
            customer=BillingCustomer(
                subscription_id=known.subscription_id,
                customer_id=customer_id,
                email=getattr(current, "email", None),
                payment_method_id=method_id,
                card_brand=brand,
                card_last4=last4,
            ),
        )
        if method_id and result != "duplicate" and method_id != known.payment_method_id:
            # A new card is on file: charge what was waiting for one.
            await self.billing.resume_account(known.subscription_id)
        return result


def _as_stored(obj: dict[str, Any], known: BillingCustomer) -> bool:
    """Whether a customer object from an event says what Stint stores about it already."""
    settings = obj.get("invoice_settings")
    if not isinstance(settings, dict) or "default_payment_method" not in settings or "email" not in obj:
        return False
    method = settings["default_payment_method"]
    if isinstance(method, dict):
        method = method.get("id")
    if method is not None and not isinstance(method, str):
        return False
    # A card on file whose brand and last 4 Stint has not read yet still needs the read.
    has_card_details = method is None or known.card_last4 is not None
    return method == known.payment_method_id and obj["email"] == known.email and has_card_details


def _default_method(customer: Any) -> str | None:
    settings = getattr(customer, "invoice_settings", None)
    value = getattr(settings, "default_payment_method", None) if settings else None
    if value is None:
        return None
    return str(value if isinstance(value, str) else getattr(value, "id", value))
