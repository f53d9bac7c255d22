"""Buy Now's hosted payment pages: Stripe Checkout (setup mode) to collect a card, and the
customer portal to change it. Without a payment provider both answer 409."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post

from core.billing import PaymentProviderMissing
from core.billing.ports import HostedPayments
from core.identity.scopes import Scope
from core.licensing.access import Action
from plugins.bootstrap import Stint

from ..access import requires
from ..auth import TenantPrincipal
from ..deps import StintDep

__all__ = ["CheckoutController"]


class HostedPageOut(msgspec.Struct):
    url: str


def _hosted(stint: Stint) -> HostedPayments:
    hosted = stint.hosted_payments
    if hosted is None:
        raise PaymentProviderMissing(
            "No payment provider is configured; invoices are paid by bank transfer (manual invoicing)."
        )
    return hosted


class CheckoutController(Controller):
    path = "/subscription"
    tags = ("subscription",)

    @post(
        "/checkout",
        status_code=200,
        summary="Start Buy Now's hosted checkout (collects a payment method)",
        guards=[requires(Action.PURCHASE, Scope.ADMIN)],
    )
    async def checkout(self, request: Request[TenantPrincipal, Any, Any], stint: StintDep) -> HostedPageOut:
        principal = request.user
        return HostedPageOut(url=await _hosted(stint).checkout(principal.tenant, principal.user))

    @get(
        "/portal",
        summary="A link to the payment provider's portal (update cards)",
        guards=[requires(Action.MANAGE_SUBSCRIPTION, Scope.ADMIN)],
    )
    async def portal(self, request: Request[TenantPrincipal, Any, Any], stint: StintDep) -> HostedPageOut:
        return HostedPageOut(url=await _hosted(stint).portal(request.user.tenant))
