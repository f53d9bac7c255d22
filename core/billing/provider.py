"""The payment provider as the billing rules see it (SPEC §10): what Stint asks it, and the
two things Stint has it do after one of its events.

Implemented by the provider's adapter (``plugins/billing_stripe``). Every call may raise
:class:`PaymentProviderUnavailable`; nothing has been changed in Stint when it does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from core.errors import Conflict, StintError

__all__ = [
    "InvalidWebhook",
    "PaymentProvider",
    "PaymentProviderMissing",
    "PaymentProviderUnavailable",
    "ProviderActions",
    "ProviderCustomer",
    "ProviderInvoiceStatus",
]


class InvalidWebhook(StintError):
    """The request is not a genuine, fresh provider event (signature, timestamp or shape)."""

    code = "invalid_webhook"


class PaymentProviderMissing(Conflict):
    """No payment provider is configured: invoices are paid manually."""

    code = "payment_provider_not_configured"


class PaymentProviderUnavailable(StintError):
    """The provider could not be reached; nothing was changed and the event can be retried."""

    code = "payment_provider_unavailable"


class ProviderInvoiceStatus(StrEnum):
    """Where one of the provider's invoices stands there now."""

    DRAFT = "draft"
    OPEN = "open"
    """Finalised and waiting for the money."""
    PAID = "paid"
    UNCOLLECTIBLE = "uncollectible"
    """Given up on by the provider's own retries; the money is still owed."""
    VOID = "void"
    OTHER = "other"
    """A status this version of Stint does not know."""


@dataclass(frozen=True, slots=True)
class ProviderCustomer:
    """A customer as the provider has it now, in the fields Stint keeps."""

    customer_id: str
    email: str | None = None
    payment_method_id: str | None = None
    """The default payment method, the one charged."""
    card_brand: str | None = None
    card_last4: str | None = None


class PaymentProvider(Protocol):
    """What Stint reads from the provider when an event alone does not settle what happened."""

    async def invoice_status(self, remote_invoice_id: str) -> ProviderInvoiceStatus: ...

    async def customer(self, customer_id: str) -> ProviderCustomer:
        """The customer now, with the brand and last 4 digits of its default card."""
        ...

    async def default_payment_method(self, customer_id: str) -> str | None:
        """The customer's default payment method now (a lighter read than :meth:`customer`)."""
        ...

    async def checkout_payment_method(self, session_id: str) -> str | None:
        """The payment method a hosted checkout collected, or None when it collected none
        (not completed, not a setup of a card, or its setup did not succeed)."""
        ...


class ProviderActions(Protocol):
    """What Stint has the provider do for an account after one of its events."""

    async def set_default_payment_method(self, customer_id: str, payment_method_id: str) -> None: ...

    async def resume_account(self, subscription_id: str) -> None:
        """Collect every invoice of the account that waits for money (it has a card now)."""
        ...
