"""Stripe as the payment rail (SPEC §10): customers, hosted checkout, invoices with
Stint's lines, and webhooks applied once. Chosen when ``STINT_STRIPE_API_KEY`` is set."""

from __future__ import annotations

from core.clock import Clock
from core.unit_of_work import UnitOfWorkFactory

from .billing import StripeBilling
from .gateway import StripeGateway
from .webhooks import StripeWebhooks, verify_event

__all__ = ["StripeBilling", "StripeGateway", "StripeWebhooks", "build", "verify_event"]


def build(
    *,
    api_key: str,
    api_base: str | None,
    webhook_secret: str | None,
    base_url: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
) -> tuple[StripeBilling, StripeWebhooks | None]:
    """The billing adapter, and the webhook receiver when a webhook secret is set."""
    gateway = StripeGateway(api_key, api_base=api_base)
    billing = StripeBilling(gateway, uow, clock, base_url=base_url)
    hooks = None
    if webhook_secret:
        hooks = StripeWebhooks(billing, uow, clock, secret=webhook_secret)
    return billing, hooks
