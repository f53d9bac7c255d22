"""``POST /webhooks/stripe``: Stripe's events (API.md "Webhooks").

Registered at app level, outside ``/api/v1``: no tenant token (Stripe has none; the
signature is the credential) and exempt from CSRF. A bad signature, a stale or future
timestamp → 400 ``invalid_webhook``; an event type Stint does not handle → 200, ignored.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, post

from core.errors import NotFound
from plugins.bootstrap import metrics

from ..deps import StintDep

__all__ = ["stripe_webhook"]

#: Stripe's own limit for an event body is far below this; anything larger is not Stripe.
MAX_EVENT_BYTES = 512 * 1024


class WebhookAnswer(msgspec.Struct):
    received: bool
    outcome: str


@post(
    "/webhooks/stripe",
    status_code=200,
    summary="Stripe events",
    tags=["billing"],
    opt={"exclude_from_csrf": True, "exclude_from_auth": True},
    request_max_body_size=MAX_EVENT_BYTES,
)
async def stripe_webhook(request: Request[Any, Any, Any], stint: StintDep) -> WebhookAnswer:
    receiver = stint.stripe_webhooks
    if receiver is None:
        raise NotFound("Stripe webhooks are not configured here (STINT_STRIPE_WEBHOOK_SECRET).")
    try:
        outcome = await receiver.receive(await request.body(), request.headers.get("stripe-signature"))
    except Exception:
        metrics.webhook_delivered("stripe", "refused")
        raise
    metrics.webhook_delivered("stripe", outcome)
    return WebhookAnswer(received=True, outcome=outcome)
