"""POST /webhooks/stripe: only genuine, fresh events count, and each counts once whatever
the number or order of deliveries (SPEC §10)."""

from __future__ import annotations

import time
from typing import Any

from plugins.billing_stripe import StripeGateway
from plugins.storage.billing_tables import BillingEvent
from plugins.storage.tables import AuditEvent
from tests.integration.localstripe_support import (
    deliver,
    event,
    free_port,
    sign,
    stripe_get,
    stripe_invoices_for,
    stripe_post,
)
from tests.integration.test_stripe_billing import DECLINED_CARD, add_card, admin, purchase, stint_invoice
from tests.support.api import run, signup, stint


def snapshot(client: Any, slug: str, invoice_id: str) -> dict[str, Any]:
    """Everything a payment can change for a tenant: subscription, invoice and the events kept."""
    view = client.get("/api/v1/subscription", headers=admin(client, slug)).json()

    async def counts() -> tuple[int, int]:
        paid = await AuditEvent.count().where(
            (AuditEvent.action == "invoice.paid") & (AuditEvent.subject == invoice_id)
        )
        failed = await AuditEvent.count().where(
            (AuditEvent.action == "invoice.payment_failed") & (AuditEvent.subject == invoice_id)
        )
        return int(paid), int(failed)

    paid, failed = run(client, counts)
    return {
        "status": view["status"],
        "seats": view["seats"],
        "period": (view["period_start"], view["period_end"]),
        "credit": view["credit_balance"]["amount"],
        "invoice": stint_invoice(client, slug, invoice_id)["status"],
        "paid_effects": paid,
        "failed_effects": failed,
    }


def declined_then_paid(client: Any, base: str, slug: str) -> tuple[str, list[bytes]]:
    """A purchase whose first charge is declined, then paid with a new card in Stripe:
    the three events Stripe sends about it, in the order it sends them."""
    signup(client, slug)
    add_card(client, base, slug, DECLINED_CARD)
    invoice = purchase(client, slug, 4)
    (remote,) = stripe_invoices_for(base, invoice["id"])
    failed = event(f"evt_{slug}_failed", "invoice.payment_failed", remote)
    method = stripe_post(
        base,
        "/v1/payment_methods",
        {
            "type": "card",
            "card[number]": "4242424242424242",
            "card[exp_month]": "12",
            "card[exp_year]": "2030",
            "card[cvc]": "123",
        },
    )
    stripe_post(base, f"/v1/payment_methods/{method['id']}/attach", {"customer": remote["customer"]})
    customer = stripe_post(
        base,
        f"/v1/customers/{remote['customer']}",
        {"invoice_settings[default_payment_method]": method["id"]},
    )
    updated = event(f"evt_{slug}_customer", "customer.updated", customer)
    paid_now = stripe_post(base, f"/v1/invoices/{remote['id']}/pay")  # Stripe's own retry
    assert paid_now["status"] == "paid"
    paid = event(f"evt_{slug}_paid", "invoice.paid", paid_now)
    return invoice["id"], [failed, updated, paid]


def test_five_deliveries_in_reverse_order_leave_the_state_of_one_in_order(app: Any, stripe_base: str) -> None:
    """Tenant A gets each event once in order; tenant B each five times, newest first: same end state."""
    first, in_order = declined_then_paid(app, stripe_base, "inorder")
    second, events = declined_then_paid(app, stripe_base, "reverse")
    for body in in_order:
        assert deliver(app, body).status_code == 200
    answers = [deliver(app, body).json()["outcome"] for body in reversed(events) for _ in range(5)]
    assert answers.count("duplicate") == 12
    assert (
        snapshot(app, "inorder", first)
        == snapshot(app, "reverse", second)
        == {
            "status": "active",
            "seats": 4,
            "period": ("2026-01-01", "2027-01-01"),
            "credit": 0,
            "invoice": "paid",
            "paid_effects": 1,
            "failed_effects": 0,
        }
    )
    kept = run(app, lambda: BillingEvent.count())
    assert kept == 2 * 3 + 2  # three events per tenant, and each tenant's checkout event


def test_a_failure_delivered_before_its_invoice_is_paid_then_paid_counts_each_once(
    app: Any, stripe_base: str
) -> None:
    """In Stripe's order the failure makes the subscription past due and invoice.paid restores it."""
    signup(app, "late")
    add_card(app, stripe_base, "late", DECLINED_CARD)
    invoice = purchase(app, "late", 2)
    (remote,) = stripe_invoices_for(stripe_base, invoice["id"])
    failure = event("evt_late_failed", "invoice.payment_failed", remote)
    for _ in range(3):
        deliver(app, failure)
    assert snapshot(app, "late", invoice["id"])["status"] == "past_due"
    add_card(app, stripe_base, "late")  # a working card: Stint charges the open invoice with it
    paid = event("evt_late_paid", "invoice.paid", stripe_get(stripe_base, f"/v1/invoices/{remote['id']}"))
    for _ in range(3):
        deliver(app, paid)
    assert snapshot(app, "late", invoice["id"]) | {"period": None} == {
        "status": "active",
        "seats": 2,
        "period": None,
        "credit": 0,
        "invoice": "paid",
        "paid_effects": 1,
        "failed_effects": 1,
    }


def remote_state(client: Any, invoice_id: str) -> str | None:
    """How far Stint's record says the invoice got in Stripe."""

    async def read() -> str | None:
        async with stint(client).uow() as work:
            found = await work.payments().remote_invoice(invoice_id)
        return found.state if found else None

    return run(client, read)


def test_a_payment_stripe_made_on_its_own_moves_stints_record_of_the_stripe_invoice_for_good(
    app: Any, stripe_base: str
) -> None:
    """Stripe's own retry pays a declined invoice: invoice.paid moves the record to paid, for good."""
    invoice_id, (failed, _, paid) = declined_then_paid(app, stripe_base, "ownretry")
    assert remote_state(app, invoice_id) == "failed"  # the charge Stint asked for was declined
    assert deliver(app, paid).json()["outcome"] == "paid"
    assert remote_state(app, invoice_id) == "paid"
    assert deliver(app, paid).json()["outcome"] == "duplicate"
    assert deliver(app, failed).json()["outcome"] == "no_change"  # an earlier attempt, delivered late
    assert remote_state(app, invoice_id) == "paid"
    assert snapshot(app, "ownretry", invoice_id)["paid_effects"] == 1


def test_bad_signature_stale_future_or_unknown_events_change_nothing(app: Any, stripe_base: str) -> None:
    """400 for a bad signature, a stale or a far-future timestamp; 200 and ignored for an unknown type."""
    signup(app, "guard")
    add_card(app, stripe_base, "guard")
    invoice = purchase(app, "guard", 1)
    (remote,) = stripe_invoices_for(stripe_base, invoice["id"])
    body = event("evt_guard_paid", "invoice.paid", stripe_get(stripe_base, f"/v1/invoices/{remote['id']}"))
    now = int(time.time())
    refused = {
        "bad signature": sign(body, secret="whsec_someone_else"),
        "tampered": sign(body.replace(b"invoice.paid", b"invoice.paid ")),
        "stale": sign(body, timestamp=now - 301),
        "future": sign(body, timestamp=now + 3600),
        "no header": "",
    }
    for why, header in refused.items():
        answer = deliver(app, body, header=header)
        assert answer.status_code == 400, why
        assert answer.json()["code"] == "invalid_webhook", why
    unknown = deliver(app, event("evt_guard_other", "charge.refunded", {"id": "ch_1"}))
    assert unknown.status_code == 200 and unknown.json()["outcome"] == "ignored"
    assert stint_invoice(app, "guard", invoice["id"])["status"] == "due"
    assert (
        run(
            app,
            lambda: BillingEvent.count().where(BillingEvent.id.is_in(["evt_guard_paid", "evt_guard_other"])),
        )
        == 0
    )
    assert deliver(app, body).json()["outcome"] == "paid"  # the same event, genuinely signed


def test_an_invoice_stint_did_not_send_is_recorded_and_ignored(app: Any, stripe_base: str) -> None:
    """A Stripe invoice carrying a copied stint_invoice_id cannot pay a Stint invoice."""
    signup(app, "copy")
    invoice = purchase(app, "copy", 1)
    forged = {
        "id": "in_not_ours",
        "object": "invoice",
        "status": "paid",
        "metadata": {"stint_invoice_id": invoice["id"]},
    }
    assert deliver(app, event("evt_copy", "invoice.paid", forged)).json()["outcome"] == "unknown_invoice"
    assert stint_invoice(app, "copy", invoice["id"])["status"] == "due"


def test_stripe_unreachable_while_re_reading_answers_503_and_changes_nothing(
    app: Any, stripe_base: str
) -> None:
    """A failure needs Stripe's current invoice; Stripe down: 503 (Stripe retries), nothing is stored."""
    signup(app, "outage")
    add_card(app, stripe_base, "outage", DECLINED_CARD)
    invoice = purchase(app, "outage", 1)
    (remote,) = stripe_invoices_for(stripe_base, invoice["id"])
    failure = event("evt_outage_failed", "invoice.payment_failed", remote)
    billing = stint(app).billing
    working, billing.gateway = (
        billing.gateway,
        StripeGateway("sk_test_x", api_base=f"http://127.0.0.1:{free_port()}", retries=0),
    )
    try:
        answer = deliver(app, failure)
    finally:
        run(app, billing.gateway.close)
        billing.gateway = working
    assert answer.status_code == 503 and answer.json()["code"] == "payment_provider_unavailable"
    assert snapshot(app, "outage", invoice["id"])["status"] == "active"
    assert run(app, lambda: BillingEvent.count().where(BillingEvent.id == "evt_outage_failed")) == 0
    assert deliver(app, failure).json()["outcome"] == "failed"  # Stripe's retry, once it is back


def stored_card(client: Any, customer_id: str) -> str | None:
    async def read() -> str | None:
        async with stint(client).uow() as work:
            found = await work.payments().customer_by_remote(customer_id)
        return found.payment_method_id if found else None

    return run(client, read)


def new_default_card(base: str, customer_id: str) -> dict[str, Any]:
    """A second card attached in Stripe and made the default (as the portal does); the customer after."""
    method = stripe_post(
        base,
        "/v1/payment_methods",
        {
            "type": "card",
            "card[number]": "4242424242424242",
            "card[exp_month]": "12",
            "card[exp_year]": "2031",
            "card[cvc]": "123",
        },
    )
    stripe_post(base, f"/v1/payment_methods/{method['id']}/attach", {"customer": customer_id})
    return stripe_post(
        base, f"/v1/customers/{customer_id}", {"invoice_settings[default_payment_method]": method["id"]}
    )


def test_a_customer_update_stint_already_has_is_recorded_without_reading_stripe(
    app: Any, stripe_base: str
) -> None:
    """Stripe down: a customer.updated saying what Stint stores is kept (200); one with a new card is 503."""
    signup(app, "same")
    add_card(app, stripe_base, "same")
    invoice = purchase(app, "same", 1)
    (remote,) = stripe_invoices_for(stripe_base, invoice["id"])
    customer = stripe_get(stripe_base, f"/v1/customers/{remote['customer']}")
    unchanged = event("evt_same_customer", "customer.updated", customer)
    changed = event("evt_same_new_card", "customer.updated", new_default_card(stripe_base, customer["id"]))
    billing = stint(app).billing
    working, billing.gateway = (
        billing.gateway,
        StripeGateway("sk_test_x", api_base=f"http://127.0.0.1:{free_port()}", retries=0),
    )
    try:
        first = deliver(app, unchanged)
        again = deliver(app, unchanged)
        differs = deliver(app, changed)
    finally:
        run(app, billing.gateway.close)
        billing.gateway = working
    assert (first.status_code, first.json()["outcome"]) == (200, "no_change")
    assert again.json()["outcome"] == "duplicate"
    assert differs.status_code == 503  # a new card is read from Stripe, never taken from the event
    assert stored_card(app, customer["id"]) == customer["invoice_settings"]["default_payment_method"]
    assert run(app, lambda: BillingEvent.count().where(BillingEvent.id == "evt_same_new_card")) == 0


def test_an_older_customer_update_delivered_last_does_not_bring_back_the_old_card(
    app: Any, stripe_base: str
) -> None:
    """Newest first: the stale event differs from what Stint has, is re-read, and the new card stays."""
    signup(app, "stale")
    add_card(app, stripe_base, "stale")
    invoice = purchase(app, "stale", 1)
    (remote,) = stripe_invoices_for(stripe_base, invoice["id"])
    old = stripe_get(stripe_base, f"/v1/customers/{remote['customer']}")
    new = new_default_card(stripe_base, old["id"])
    newer = new["invoice_settings"]["default_payment_method"]
    assert newer != old["invoice_settings"]["default_payment_method"]
    assert deliver(app, event("evt_stale_2", "customer.updated", new)).json()["outcome"] == "customer"
    assert deliver(app, event("evt_stale_1", "customer.updated", old)).json()["outcome"] == "customer"
    assert stored_card(app, old["id"]) == newer
