"""localstripe on loopback for the Stripe billing tests, and Stripe-style webhook signing.

Run as ``python -m tests.integration.localstripe_support --port N``: it starts the real
localstripe 1.15 app with three changes, each because localstripe lacks something
Stint uses, not to change what it does:

- the store is kept in memory only: stock localstripe pickles every write to one shared
  ``/tmp/localstripe.pickle``, so two test runs on one machine would read each other's data;
- one-off invoices (``POST /v1/invoices`` without a Stripe subscription, sweeping the
  customer's pending invoice items), which localstripe refuses with "No upcoming invoices",
  are built with localstripe's own ``Invoice`` constructor, which supports them;
- ``POST /v1/invoices/{id}/finalize`` is routed to localstripe's own ``Invoice._finalize``
  (the method exists, the route does not);
- Checkout Sessions (setup mode) and billing-portal sessions, which localstripe has not
  at all, are a small fake: a session creates a real localstripe SetupIntent for the
  customer, and ``POST /_test/checkout/{id}/complete`` plays the customer entering a card
  on the hosted page (a real PaymentMethod, confirmed on that SetupIntent and attached
  to the customer), as Stripe's hosted page would.

Everything else (customers, payment methods, invoice items, invoices, pay) is localstripe's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

API_KEY = "sk_test_stint_localstripe"
WEBHOOK_SECRET = "whsec_stint_test_secret"
_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def localstripe() -> Iterator[str]:
    """A fresh localstripe on a free loopback port; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.localstripe_support", "--port", str(port)],
        cwd=_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(_ROOT)},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/v1/customers", auth=(API_KEY, ""), timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("localstripe did not start") from None
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe sends: ``t=<unix time>,v1=<HMAC-SHA256>``."""
    stamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def event(event_id: str, kind: str, obj: dict[str, Any], created: int | None = None) -> bytes:
    """A Stripe event body carrying ``obj`` as ``data.object``."""
    body = {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(time.time()) if created is None else created,
        "livemode": False,
        "api_version": "2025-01-27.acacia",
        "data": {"object": obj},
    }
    return json.dumps(body).encode()


def stripe_get(base: str, path: str) -> dict[str, Any]:
    response = httpx.get(f"{base}{path}", auth=(API_KEY, ""), timeout=10)
    response.raise_for_status()
    return dict(response.json())


def stripe_post(base: str, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(f"{base}{path}", auth=(API_KEY, ""), data=data or {}, timeout=10)
    response.raise_for_status()
    return dict(response.json())


# The server side: localstripe plus the few routes it lacks --------------------------------


def _serve() -> None:  # pragma: no cover - runs in the localstripe subprocess
    import argparse
    import random
    import string

    from aiohttp import web
    from localstripe import resources, server
    from localstripe.errors import UserError

    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]
    resources.Store.try_load_from_disk = lambda self: None  # type: ignore[method-assign]

    sessions: dict[str, dict[str, Any]] = {}
    subscription_invoice = resources.Invoice._api_create

    def create_invoice(
        cls: Any,
        customer: Any = None,
        subscription: Any = None,
        description: Any = None,
        metadata: Any = None,
        pending_invoice_items_behavior: Any = None,
        **rest: Any,
    ) -> Any:
        if subscription is not None or rest:
            return subscription_invoice(
                customer=customer,
                subscription=subscription,
                description=description,
                metadata=metadata,
                **rest,
            )
        if pending_invoice_items_behavior not in (None, "include"):
            raise UserError(400, "only pending_invoice_items_behavior=include is supported here")
        return cls(customer=customer, description=description, metadata=metadata)

    resources.Invoice._api_create = classmethod(create_invoice)  # type: ignore[method-assign,assignment]

    def rid(prefix: str) -> str:
        return prefix + "".join(random.choices(string.ascii_letters + string.digits, k=14))

    async def form(request: web.Request) -> dict[str, Any]:
        return dict(await server.get_post_data(request) or {})

    async def finalize(request: web.Request) -> web.Response:
        invoice = resources.Invoice._api_retrieve(request.match_info["id"])
        if invoice.status != "draft":
            raise UserError(400, "This invoice is already finalized")
        invoice._finalize()
        return server.json_response(invoice._export())

    async def create_checkout(request: web.Request) -> web.Response:
        data = await form(request)
        if data.get("mode") != "setup" or not str(data.get("customer", "")).startswith("cus_"):
            raise UserError(400, "Bad request")
        resources.Customer._api_retrieve(data["customer"])
        intent = resources.SetupIntent(customer=data["customer"])
        session_id = rid("cs_test_")
        sessions[session_id] = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "setup",
            "customer": data["customer"],
            "setup_intent": intent.id,
            "status": "open",
            "success_url": data.get("success_url"),
            "cancel_url": data.get("cancel_url"),
            "metadata": data.get("metadata") or {},
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            "created": int(time.time()),
        }
        return server.json_response(sessions[session_id])

    def get_checkout(request: web.Request) -> web.Response:
        found = sessions.get(request.match_info["id"])
        if found is None:
            raise UserError(404, "Not Found")
        return server.json_response(found)

    async def complete_checkout(request: web.Request) -> web.Response:
        found = sessions.get(request.match_info["id"])
        if found is None:
            raise UserError(404, "Not Found")
        data = await form(request)
        card = {
            "number": data.get("number", "4242424242424242"),
            "exp_month": 12,
            "exp_year": 2030,
            "cvc": "123",
        }
        method = resources.PaymentMethod(type="card", card=card)
        resources.SetupIntent._api_confirm(found["setup_intent"], payment_method=method.id)
        resources.PaymentMethod._api_attach(method.id, customer=found["customer"])
        found["status"] = "complete"
        return server.json_response(found)

    async def create_portal(request: web.Request) -> web.Response:
        data = await form(request)
        customer = resources.Customer._api_retrieve(str(data.get("customer", "")))
        session_id = rid("bps_")
        return server.json_response(
            {
                "id": session_id,
                "object": "billing_portal.session",
                "customer": customer.id,
                "return_url": data.get("return_url"),
                "url": f"https://billing.stripe.test/p/session/{session_id}",
            }
        )

    app = server.app
    for method, path, handler in (
        ("POST", "/v1/invoices/{id}/finalize", finalize),
        ("POST", "/v1/checkout/sessions", create_checkout),
        ("GET", "/v1/checkout/sessions/{id}", get_checkout),
        ("POST", "/_test/checkout/{id}/complete", complete_checkout),
        ("POST", "/v1/billing_portal/sessions", create_portal),
    ):
        app.router.add_route(method, path, handler)

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    _serve()


# Test-side helpers around a Stint app talking to localstripe ------------------------------


def stripe_env(base: str) -> dict[str, str]:
    """Settings that select Stripe billing against ``base``."""
    return {
        "STINT_STRIPE_API_KEY": API_KEY,
        "STINT_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STINT_STRIPE_API_BASE": base,
    }


def deliver(client: Any, body: bytes, *, header: str | None = None) -> Any:
    """POST one event to the app's webhook endpoint, signed now unless ``header`` is given."""
    return client.post(
        "/webhooks/stripe",
        content=body,
        headers={
            "Stripe-Signature": header if header is not None else sign(body),
            "Content-Type": "application/json",
        },
    )


def stripe_invoices_for(base: str, stint_invoice_id: str) -> list[dict[str, Any]]:
    """The Stripe invoices Stint made for one of its invoices (by their metadata)."""
    found = stripe_get(base, "/v1/invoices?limit=100")["data"]
    return [inv for inv in found if (inv.get("metadata") or {}).get("stint_invoice_id") == stint_invoice_id]


def session_id_of(url: str) -> str:
    """The Checkout Session id at the end of its hosted page's URL."""
    return url.rstrip("/").rsplit("/", 1)[-1].split("#", 1)[0]
