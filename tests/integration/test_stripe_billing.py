"""Stripe as the payment rail, against localstripe: Stint's lines and amounts reach Stripe
exactly, credit stays in Stint, and payments move the subscription (SPEC §3, §4, §10)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from core.services.renewals import sweep_due_subscriptions
from tests.conftest import make_settings
from tests.integration.localstripe_support import (
    deliver,
    event,
    session_id_of,
    stripe_env,
    stripe_get,
    stripe_invoices_for,
    stripe_post,
)
from tests.support.api import api_client, bearer, run, signup, stint, token

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"  # attaches, then every charge is declined


@pytest.fixture
def app(stripe_base: str, sqlite_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Any]:
    """On SQLite only (the webhook and retry tests, with the shared fixture, run both engines)."""
    with api_client(make_settings(sqlite_url, tmp_path, **stripe_env(stripe_base)), clock) as client:
        yield client


def admin(client: Any, slug: str) -> dict[str, str]:
    return bearer(token(client, slug, f"admin@{slug}.test"))


def add_card(client: Any, base: str, slug: str, card: str = GOOD_CARD) -> None:
    """Buy Now's hosted checkout, as the customer completes it, and Stripe's event about it."""
    answer = client.post("/api/v1/subscription/checkout", headers=admin(client, slug))
    assert answer.status_code == 200, answer.text
    session = stripe_post(
        base, f"/_test/checkout/{session_id_of(answer.json()['url'])}/complete", {"number": card}
    )
    delivered = deliver(client, event(f"evt_cs_{session['id']}", "checkout.session.completed", session))
    assert delivered.status_code == 200, delivered.text


def purchase(client: Any, slug: str, seats: int) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/subscription/purchase",
        json={"plan": "team", "interval": "annual", "seats": seats},
        headers=admin(client, slug),
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["invoice"])


def lines_of(stripe_invoice: dict[str, Any]) -> list[int]:
    return [line["amount"] for line in stripe_invoice["lines"]["data"]]


def paid_event(base: str, stripe_invoice_id: str) -> bytes:
    found = stripe_get(base, f"/v1/invoices/{stripe_invoice_id}")
    return event(f"evt_paid_{stripe_invoice_id}", "invoice.paid", found)


def stint_invoice(client: Any, slug: str, invoice_id: str) -> dict[str, Any]:
    items = client.get("/api/v1/invoices", headers=admin(client, slug)).json()["items"]
    return next(item for item in items if item["id"] == invoice_id)


def test_a_purchase_becomes_a_paid_stripe_invoice_with_stints_exact_lines(app: Any, stripe_base: str) -> None:
    """Buy Now: Stripe's invoice has Stint's line and amount, is charged, and invoice.paid pays Stint's."""
    signup(app, "acme")
    add_card(app, stripe_base, "acme")
    invoice = purchase(app, "acme", 10)
    assert invoice["amount_due"]["amount"] == 144_000
    (remote,) = stripe_invoices_for(stripe_base, invoice["id"])
    assert lines_of(remote) == [144_000]
    assert remote["amount_due"] == 144_000 and remote["status"] == "paid"
    # The customer matches Stripe's invoice to Stint's PDF by its number.
    assert remote["metadata"]["stint_invoice_number"] == invoice["number"] == "STINT-2026-000001"
    assert stint_invoice(app, "acme", invoice["id"])["status"] == "due"  # until Stripe says so
    assert deliver(app, paid_event(stripe_base, remote["id"])).json()["outcome"] == "paid"
    assert stint_invoice(app, "acme", invoice["id"])["status"] == "paid"
    view = app.get("/api/v1/subscription", headers=admin(app, "acme")).json()
    assert view["status"] == "active"


def test_an_invoice_waits_for_the_card_buy_now_collects_then_is_charged(app: Any, stripe_base: str) -> None:
    """Bought before the hosted checkout finished: the Stripe invoice stays open, the card then pays it."""
    signup(app, "later")
    invoice = purchase(app, "later", 3)
    (remote,) = stripe_invoices_for(stripe_base, invoice["id"])
    assert remote["status"] == "open" and remote["amount_due"] == 3 * 14_400
    add_card(app, stripe_base, "later")
    (remote,) = stripe_invoices_for(stripe_base, invoice["id"])
    assert remote["status"] == "paid"


def test_seat_changes_charge_the_quote_credit_stays_in_stint_and_reduces_the_renewal(
    app: Any, stripe_base: str, clock: FixedClock
) -> None:
    """+40 seats is charged as quoted; −1 seat is Stint credit only; Stripe's renewal is reduced by it."""
    signup(app, "grow")
    add_card(app, stripe_base, "grow")
    purchase(app, "grow", 10)
    clock.set(datetime(2026, 1, 22, 9, tzinfo=UTC))
    quote = app.post("/api/v1/subscription/quote", json={"seats": 50}, headers=admin(app, "grow")).json()
    change = app.post("/api/v1/subscription/change", json={"seats": 50}, headers=admin(app, "grow")).json()
    assert quote["total"]["amount"] == change["invoice"]["amount_due"]["amount"] == 542_860
    (remote,) = stripe_invoices_for(stripe_base, change["invoice"]["id"])
    assert lines_of(remote) == [542_860] and remote["status"] == "paid"

    before = len(stripe_get(stripe_base, "/v1/invoices?limit=100")["data"])
    clock.set(datetime(2026, 12, 1, 9, tzinfo=UTC))
    down = app.post("/api/v1/subscription/change", json={"seats": 49}, headers=admin(app, "grow")).json()
    assert down["invoice"] is None and down["total"]["amount"] == -1_223  # 1 × 144.00 × 31/365
    assert down["subscription"]["credit_balance"]["amount"] == 1_223
    assert len(stripe_get(stripe_base, "/v1/invoices?limit=100")["data"]) == before
    assert stripe_get(stripe_base, "/v1/refunds")["data"] == []

    clock.set(datetime(2027, 1, 1, 9, tzinfo=UTC))
    s = stint(app)
    report = run(app, sweep_due_subscriptions, s.uow, s.billing, s.clock, grace_days=14)
    (renewal,) = report.invoices
    assert (renewal.total, renewal.credit_applied, renewal.amount_due) == (705_600, 1_223, 704_377)
    (remote,) = stripe_invoices_for(stripe_base, renewal.id)
    assert lines_of(remote) == [705_600, -1_223]
    assert remote["amount_due"] == 704_377 and remote["status"] == "paid"


def test_an_invoice_paid_entirely_by_credit_is_never_sent_to_stripe(
    app: Any, stripe_base: str, clock: FixedClock
) -> None:
    """SPEC §4's example: the renewal is paid by credit, so Stripe sees no invoice for it."""
    signup(app, "worked")
    add_card(app, stripe_base, "worked")
    purchase(app, "worked", 10)
    clock.set(datetime(2026, 1, 22, 9, tzinfo=UTC))
    app.post("/api/v1/subscription/change", json={"seats": 50}, headers=admin(app, "worked"))
    clock.set(datetime(2026, 3, 5, 9, tzinfo=UTC))
    down = app.post("/api/v1/subscription/change", json={"seats": 5}, headers=admin(app, "worked")).json()
    assert down["subscription"]["credit_balance"]["amount"] == 536_153
    clock.set(datetime(2027, 1, 1, 9, tzinfo=UTC))
    s = stint(app)
    (renewal,) = run(app, sweep_due_subscriptions, s.uow, s.billing, s.clock, grace_days=14).invoices
    assert (renewal.total, renewal.amount_due, renewal.status) == (72_000, 0, "paid")
    assert stripe_invoices_for(stripe_base, renewal.id) == []


def test_a_failed_payment_is_past_due_with_access_then_expires_then_paid_reactivates(
    app: Any, stripe_base: str, clock: FixedClock
) -> None:
    """payment_failed → past_due (access kept); grace over → expired; invoice.paid → active at once."""
    signup(app, "broke")
    add_card(app, stripe_base, "broke", DECLINED_CARD)
    invoice = purchase(app, "broke", 2)
    (remote,) = stripe_invoices_for(stripe_base, invoice["id"])
    assert remote["status"] == "open"  # the charge was declined
    failed = event("evt_failed_1", "invoice.payment_failed", remote)
    assert deliver(app, failed).json()["outcome"] == "failed"
    view = app.get("/api/v1/subscription", headers=admin(app, "broke")).json()
    assert view["status"] == "past_due"
    assert app.get("/api/v1/me/access", headers=admin(app, "broke")).json()["allowed"] is True

    clock.set(datetime(2026, 1, 15, 9, tzinfo=UTC))  # 14 days of grace are over
    s = stint(app)
    assert run(app, sweep_due_subscriptions, s.uow, s.billing, s.clock, grace_days=14).expired == 1
    assert app.get("/api/v1/me/access", headers=admin(app, "broke")).json()["allowed"] is False

    add_card(app, stripe_base, "broke", GOOD_CARD)  # the portal's new card; Stint charges it
    (remote,) = stripe_invoices_for(stripe_base, invoice["id"])
    assert remote["status"] == "paid"
    assert deliver(app, paid_event(stripe_base, remote["id"])).json()["outcome"] == "paid"
    view = app.get("/api/v1/subscription", headers=admin(app, "broke")).json()
    assert view["status"] == "active"
    assert app.get("/api/v1/me/access", headers=admin(app, "broke")).json()["allowed"] is True


def test_checkout_and_portal_need_stripe_and_the_right_role(app: Any, stripe_base: str) -> None:
    """The portal link exists once a customer does; without Stripe both pages answer 409."""
    signup(app, "cards")
    assert app.get("/api/v1/subscription/portal", headers=admin(app, "cards")).status_code == 409
    add_card(app, stripe_base, "cards")
    portal = app.get("/api/v1/subscription/portal", headers=admin(app, "cards"))
    assert portal.status_code == 200 and portal.json()["url"].startswith("https://")


def test_without_a_stripe_key_invoicing_stays_manual(
    sqlite_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    """No STINT_STRIPE_API_KEY: the manual rail, no checkout, and the webhook endpoint is not there."""
    with api_client(make_settings(sqlite_url, tmp_path), clock) as client:
        signup(client, "manual")
        assert type(stint(client).billing).__name__ == "ManualBilling"
        answer = client.post("/api/v1/subscription/checkout", headers=admin(client, "manual"))
        assert answer.status_code == 409 and answer.json()["code"] == "payment_provider_not_configured"
        assert deliver(client, event("evt_x", "invoice.paid", {"id": "in_x"})).status_code == 404


def customer_of(base: str, stint_invoice_id: str) -> str:
    (remote,) = stripe_invoices_for(base, stint_invoice_id)
    return str(remote["customer"])


def test_items_left_by_another_interrupted_invoice_are_not_charged_on_this_one(
    app: Any, stripe_base: str, clock: FixedClock
) -> None:
    """A pending item Stint wrote for another invoice is removed before this invoice takes its items."""
    signup(app, "tidy")
    add_card(app, stripe_base, "tidy")
    customer = customer_of(stripe_base, purchase(app, "tidy", 2)["id"])
    left = stripe_post(
        stripe_base,
        "/v1/invoiceitems",
        {
            "customer": customer,
            "amount": "999",
            "currency": "usd",
            "description": "half-pushed",
            "metadata[stint_invoice_id]": "another",
            "metadata[stint_line]": "0",
        },
    )
    clock.set(datetime(2026, 6, 1, 9, tzinfo=UTC))
    change = app.post("/api/v1/subscription/change", json={"seats": 3}, headers=admin(app, "tidy")).json()
    (remote,) = stripe_invoices_for(stripe_base, change["invoice"]["id"])
    assert lines_of(remote) == [change["invoice"]["amount_due"]["amount"]]
    assert left["id"] not in {line.get("invoice_item") for line in remote["lines"]["data"]}


def test_pending_items_stint_did_not_write_stop_the_push_and_the_invoice_stays_due(
    app: Any, stripe_base: str, clock: FixedClock
) -> None:
    """An item someone added in Stripe by hand would be charged with Stint's lines: nothing is sent."""
    signup(app, "hands")
    add_card(app, stripe_base, "hands")
    customer = customer_of(stripe_base, purchase(app, "hands", 2)["id"])
    stripe_post(
        stripe_base,
        "/v1/invoiceitems",
        {"customer": customer, "amount": "500", "currency": "usd", "description": "by hand"},
    )
    clock.set(datetime(2026, 6, 1, 9, tzinfo=UTC))
    change = app.post("/api/v1/subscription/change", json={"seats": 3}, headers=admin(app, "hands"))
    assert change.status_code == 200  # the change itself stands; collecting waits
    invoice_id = change.json()["invoice"]["id"]
    assert stripe_invoices_for(stripe_base, invoice_id) == []
    assert stint_invoice(app, "hands", invoice_id)["status"] == "due"


def test_an_operators_manual_payment_has_the_same_effect_as_invoice_paid(
    sqlite_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    """Manual invoicing: a past-due tenant whose invoice an operator marks paid is active at once."""
    from core.services.payments import record_failed_payment
    from tests.support.api import operator_token

    with api_client(make_settings(sqlite_url, tmp_path), clock) as client:
        signup(client, "cash")
        invoice = purchase(client, "cash", 2)
        s = stint(client)

        async def failed() -> None:
            async with s.uow(write=True) as work:
                tenant = await work.directory.tenant_by_slug("cash")
                await record_failed_payment(
                    work.tenant(tenant.id), invoice["id"], today=clock.now().date(), now=clock.now()
                )
                await work.commit()

        run(client, failed)
        assert (
            client.get("/api/v1/subscription", headers=admin(client, "cash")).json()["status"] == "past_due"
        )
        ops = bearer(operator_token(client))
        path = f"/api/v1/operator/tenants/cash/invoices/{invoice['id']}/paid"
        for _ in range(2):  # marking it twice is harmless
            answer = client.post(path, headers=ops)
            assert answer.status_code == 200 and answer.json()["status"] == "active"
        assert stint_invoice(client, "cash", invoice["id"])["status"] == "paid"


def test_a_cut_before_the_invoice_reaches_stripe_is_built_into_it_as_a_credit_note_item(
    app: Any, stripe_base: str
) -> None:
    """The purchase could not be sent (a stray item), the seats were cut that day: Stripe's invoice,
    once built, carries the credit note as a negative item and asks exactly Stint's 720.00."""
    signup(app, "notyet")
    add_card(app, stripe_base, "notyet")
    customers = stripe_get(stripe_base, "/v1/customers?limit=100")["data"]
    [customer] = [c for c in customers if c["email"] == "admin@notyet.test"]
    stray = stripe_post(
        stripe_base,
        "/v1/invoiceitems",
        {"customer": customer["id"], "amount": "500", "currency": "usd", "description": "by hand"},
    )
    invoice = purchase(app, "notyet", 10)
    assert stripe_invoices_for(stripe_base, invoice["id"]) == []
    cut = app.post("/api/v1/subscription/change", json={"seats": 5}, headers=admin(app, "notyet")).json()
    assert cut["against_invoices"]["amount"] == 72_000 and cut["to_credit_balance"]["amount"] == 0
    assert stint_invoice(app, "notyet", invoice["id"])["amount_due"]["amount"] == 72_000

    s = stint(app)
    run(app, s.billing.gateway.delete_item, stray["id"])
    sub_id = client_subscription_id(app, "notyet")
    [pushed] = run(app, s.billing.resume_account, sub_id)
    assert pushed.state == "paid"
    (remote,) = stripe_invoices_for(stripe_base, invoice["id"])
    assert lines_of(remote) == [144_000, -72_000]
    assert remote["amount_due"] == 72_000 and remote["status"] == "paid"


def test_stripe_never_charges_more_than_stints_lowered_amount_due(app: Any, stripe_base: str) -> None:
    """Open in Stripe at 1,440.00 when the cut lowered it to 720.00: Stint asks Stripe for a credit note.

    localstripe has no credit notes (``/v1/credit_notes`` is not served), so here Stripe keeps asking
    1,440.00: the card that arrives next must not be charged that, and the push says why."""
    signup(app, "open")
    invoice = purchase(app, "open", 10)
    (remote,) = stripe_invoices_for(stripe_base, invoice["id"])
    assert (remote["status"], remote["amount_due"]) == ("open", 144_000)
    cut = app.post("/api/v1/subscription/change", json={"seats": 5}, headers=admin(app, "open")).json()
    assert cut["against_invoices"]["amount"] == 72_000
    assert stint_invoice(app, "open", invoice["id"])["amount_due"]["amount"] == 72_000

    add_card(app, stripe_base, "open")
    (remote,) = stripe_invoices_for(stripe_base, invoice["id"])
    assert (remote["status"], remote["amount_due"]) == ("open", 144_000)  # not charged
    s = stint(app)

    async def record() -> Any:
        async with s.uow() as work:
            return await work.payments().remote_invoice(invoice["id"])

    kept = run(app, record)
    assert kept.state == "open"
    assert "asks 144000" in kept.last_error and "due 72000: not charged" in kept.last_error
    assert stint_invoice(app, "open", invoice["id"])["status"] == "due"


def client_subscription_id(client: Any, slug: str) -> str:
    return str(client.get("/api/v1/subscription", headers=admin(client, slug)).json()["id"])
