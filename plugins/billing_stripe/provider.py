"""Stripe behind ``core.billing.PaymentProvider`` and ``ProviderActions``: the reads the
billing rules ask for, translated into core values, and the two writes they decide on.

Any Stripe error becomes :class:`PaymentProviderUnavailable` (nothing has been changed
in Stint when it is raised; Stripe retries the event).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import stripe

from core.billing import PaymentProviderUnavailable, ProviderCustomer, ProviderInvoiceStatus

from .billing import StripeBilling

__all__ = ["StripeProvider"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

_STATUSES = {status.value: status for status in ProviderInvoiceStatus}


def _reaching_stripe(
    call: Callable[_P, Coroutine[Any, Any, _R]],
) -> Callable[_P, Coroutine[Any, Any, _R]]:
    @wraps(call)
    async def reached(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return await call(*args, **kwargs)
        except stripe.StripeError as exc:
            raise PaymentProviderUnavailable(f"Stripe could not be read: {exc}; retry later") from None

    return reached


class StripeProvider:
    def __init__(self, billing: StripeBilling) -> None:
        # The gateway is taken from the billing adapter at each call, so both always talk
        # to the same Stripe client.
        self.billing = billing

    @_reaching_stripe
    async def invoice_status(self, remote_invoice_id: str) -> ProviderInvoiceStatus:
        found = await self.billing.gateway.invoice(remote_invoice_id)
        return _STATUSES.get(str(found.status), ProviderInvoiceStatus.OTHER)

    @_reaching_stripe
    async def customer(self, customer_id: str) -> ProviderCustomer:
        found = await self.billing.gateway.customer(customer_id, expand_method=True)
        method = getattr(getattr(found, "invoice_settings", None), "default_payment_method", None)
        card = getattr(method, "card", None) if method is not None and not isinstance(method, str) else None
        return ProviderCustomer(
            customer_id=customer_id,
            email=getattr(found, "email", None),
            payment_method_id=_default_method(found),
            card_brand=getattr(card, "brand", None) if card else None,
            card_last4=getattr(card, "last4", None) if card else None,
        )

    @_reaching_stripe
    async def default_payment_method(self, customer_id: str) -> str | None:
        return _default_method(await self.billing.gateway.customer(customer_id))

    @_reaching_stripe
    async def checkout_payment_method(self, session_id: str) -> str | None:
        gateway = self.billing.gateway
        session = await gateway.retrieve_checkout_session(session_id)
        if not (session.status == "complete" and session.mode == "setup" and session.setup_intent):
            return None
        intent = await gateway.setup_intent(str(session.setup_intent))
        if intent.status == "succeeded" and intent.payment_method:
            return str(intent.payment_method)
        return None

    @_reaching_stripe
    async def set_default_payment_method(self, customer_id: str, payment_method_id: str) -> None:
        await self.billing.gateway.set_default_payment_method(customer_id, payment_method_id)

    @_reaching_stripe
    async def resume_account(self, subscription_id: str) -> None:
        # Each invoice's push logs its own Stripe error and leaves the invoice due: the next
        # card event or the stripe_retry job picks it up again.
        await self.billing.resume_account(subscription_id)


def _default_method(customer: Any) -> str | None:
    settings = getattr(customer, "invoice_settings", None)
    value = getattr(settings, "default_payment_method", None) if settings else None
    if value is None:
        return None
    return str(value if isinstance(value, str) else getattr(value, "id", value))
