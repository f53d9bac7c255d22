"""Stripe webhooks: verified, decoded, and translated into ``core.billing`` events.

Verification uses the stripe library (HMAC-SHA256 over ``t.payload`` with the endpoint
secret, and a 300 s tolerance for old timestamps); a timestamp more than the same
tolerance in the future is refused too, since a signed request "from the future" can be
replayed until that moment passes. Freshness is judged by the wall clock, as Stripe signs.

What an event means for Stint (which invoices and customers count, paid is final, when
Stripe must be read again, a new card resumes the account) is decided in the core:
``core.services.billing_events.apply_provider_event`` with the rules of
``core.billing.events``, reading Stripe through :class:`StripeProvider`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import msgspec
import stripe

from core.billing import (
    CheckoutCompleted,
    CustomerUpdated,
    InvalidWebhook,
    InvoicePaymentReported,
    PaymentMethodAttached,
    PaymentOutcome,
    PaymentProviderUnavailable,
    ProviderEvent,
    StatedCustomer,
)
from core.clock import Clock
from core.services.billing_events import apply_provider_event
from core.unit_of_work import UnitOfWorkFactory

from .billing import StripeBilling
from .provider import StripeProvider

__all__ = ["HANDLED", "TOLERANCE_SECONDS", "StripeWebhooks", "translate", "verify_event"]

log = logging.getLogger("stint.billing.stripe")

TOLERANCE_SECONDS = 300

#: Stripe's names for the invoice events Stint listens to, and what each reports.
_INVOICE = {
    "invoice.paid": PaymentOutcome.PAID,
    "invoice.payment_succeeded": PaymentOutcome.PAID,
    "invoice.payment_failed": PaymentOutcome.FAILED,
    "invoice.payment_action_required": PaymentOutcome.ACTION_REQUIRED,
}
_CUSTOMER = ("checkout.session.completed", "customer.updated", "payment_method.attached")
HANDLED = frozenset((*_INVOICE, *_CUSTOMER))


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
        clock: Clock,
        *,
        secret: str,
    ) -> None:
        self.provider = StripeProvider(billing)
        self.uow = uow
        self.clock = clock
        self.secret = secret

    async def receive(self, payload: bytes, header: str | None) -> str:
        """Verify and apply one delivery; the answer names what it did (``ignored``, ``duplicate`` …)."""
        found = translate(verify_event(payload, header, self.secret))
        if found is None:
            return "ignored"
        try:
            return await apply_provider_event(
                found,
                uow=self.uow,
                clock=self.clock,
                provider=self.provider,
                actions=self.provider,
            )
        except PaymentProviderUnavailable:
            log.warning("Stripe unreachable while applying an event", extra={"event": found.event_id})
            raise


def translate(event: dict[str, Any]) -> ProviderEvent | None:
    """The core event a verified Stripe event is, or None for a kind Stint does not handle."""
    kind: str = event["type"]
    obj: dict[str, Any] = event["data"]["object"]
    event_id: str = event["id"]
    reported = _INVOICE.get(kind)
    if reported is not None:
        return InvoicePaymentReported(event_id, kind, _text(obj.get("id")), reported)
    if kind == "customer.updated":
        return CustomerUpdated(event_id, kind, _text(obj.get("id")), _stated(obj))
    if kind == "checkout.session.completed":
        return CheckoutCompleted(event_id, kind, _text(obj.get("customer")), _text(obj.get("id")))
    if kind == "payment_method.attached":
        method = obj.get("id")
        return PaymentMethodAttached(
            event_id, kind, _text(obj.get("customer")), str(method) if method else None
        )
    return None


def _text(value: Any) -> str:
    """An id from the event as text; "" when absent (nothing of Stint's has it)."""
    return str(value) if value else ""


def _stated(obj: dict[str, Any]) -> StatedCustomer | None:
    """What a customer object in an event says of Stint's fields, if it carries them all."""
    settings = obj.get("invoice_settings")
    if not isinstance(settings, dict) or "default_payment_method" not in settings or "email" not in obj:
        return None
    method = settings["default_payment_method"]
    if isinstance(method, dict):
        method = method.get("id")
    email = obj["email"]
    if not (method is None or isinstance(method, str)) or not (email is None or isinstance(email, str)):
        return None
    return StatedCustomer(email=email, payment_method_id=method)
