"""The stripe_retry job: invoices whose push to Stripe failed reach Stripe later, once, with
Stint's lines, and are charged once however often the job runs (SPEC §10, §11)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.clock import FixedClock
from plugins.billing_stripe import StripeGateway
from plugins.jobs.registry import run_job
from tests.conftest import make_settings
from tests.integration.localstripe_support import (
    free_port,
    stripe_get,
    stripe_invoices_for,
)
from tests.integration.test_stripe_billing import add_card, purchase, stint_invoice
from tests.support.api import api_client, run, signup, stint


@contextmanager
def stripe_down(client: Any, *, only: str | None = None) -> Iterator[None]:
    """Stripe unreachable (a closed loopback port, no retries): for every call, or only ``only``."""
    billing = stint(client).billing
    dead = StripeGateway("sk_test_x", api_base=f"http://127.0.0.1:{free_port()}", retries=0)
    working = billing.gateway
    if only is None:
        billing.gateway = dead
    else:
        setattr(working, only, getattr(dead, only))
    try:
        yield
    finally:
        if only is None:
            billing.gateway = working
        else:
            delattr(working, only)
        run(client, dead.close)


def retry(client: Any) -> dict[str, int]:
    return dict(run(client, run_job, stint(client), "stripe_retry"))


def pay_attempts(client: Any, invoice_id: str) -> int:
    async def read() -> int:
        async with stint(client).uow() as work:
            found = await work.payments().remote_invoice(invoice_id)
        assert found is not None
        return found.pay_attempts

    return int(run(client, read))


def customer_items(base: str, customer: str) -> int:
    return len(stripe_get(base, f"/v1/invoiceitems?customer={customer}&limit=100")["data"])


def test_an_invoice_stripe_never_got_is_pushed_once_by_the_job_and_a_rerun_changes_nothing(
    app: Any, stripe_base: str, clock: FixedClock
) -> None:
    """Stripe down during the purchase: the invoice stays due; the job sends and charges it once."""
    signup(app, "outage")
    add_card(app, stripe_base, "outage")
    with stripe_down(app):
        invoice = purchase(app, "outage", 3)  # the purchase stands; collecting waits
    assert stripe_invoices_for(stripe_base, invoice["id"]) == []
    assert retry(app)["checked"] == 0  # younger than 5 minutes: left to the request pushing it
    clock.advance(minutes=10)

    assert retry(app) == {"checked": 1, "paid": 1, "open": 0, "failed": 0, "errors": 0}
    (remote,) = stripe_invoices_for(stripe_base, invoice["id"])
    assert [line["amount"] for line in remote["lines"]["data"]] == [3 * 14_400]
    assert remote["amount_due"] == invoice["amount_due"]["amount"] and remote["status"] == "paid"
    items = customer_items(stripe_base, remote["customer"])

    assert retry(app)["checked"] == 0  # in Stripe and charged: nothing left to do
    assert len(stripe_invoices_for(stripe_base, invoice["id"])) == 1
    assert customer_items(stripe_base, remote["customer"]) == items
    assert stint_invoice(app, "outage", invoice["id"])["status"] == "due"  # until invoice.paid arrives


def test_a_charge_whose_answer_was_lost_is_asked_again_and_paid_once(
    app: Any, stripe_base: str, clock: FixedClock
) -> None:
    """Created and finalised in Stripe, then the pay call fails: the job pays it; again: nothing."""
    signup(app, "midway")
    add_card(app, stripe_base, "midway")
    with stripe_down(app, only="pay"):
        invoice = purchase(app, "midway", 2)
    (remote,) = stripe_invoices_for(stripe_base, invoice["id"])
    assert remote["status"] == "open"
    clock.advance(minutes=10)
    while_down = {"checked": 1, "paid": 0, "open": 0, "failed": 0, "errors": 1}
    with stripe_down(app, only="pay"):
        assert retry(app) == while_down  # still down: still waiting, nothing lost
    assert retry(app)["paid"] == 1
    # One attempt, asked three times under its one key (stint-<invoice>-pay-1).
    assert pay_attempts(app, invoice["id"]) == 1
    (remote,) = stripe_invoices_for(stripe_base, invoice["id"])
    assert remote["status"] == "paid" and [line["amount"] for line in remote["lines"]["data"]] == [28_800]
    assert retry(app)["checked"] == 0


def test_a_stripe_invoice_whose_answer_was_lost_is_found_not_made_again(
    app: Any, stripe_base: str, clock: FixedClock
) -> None:
    """Stripe made and charged it, Stint never recorded it: the job adopts it; no second invoice.

    localstripe ignores idempotency keys, as Stripe does once its 24 hours are over.
    """
    from plugins.storage.billing_tables import BillingRemoteInvoice

    signup(app, "lost")
    add_card(app, stripe_base, "lost")
    invoice = purchase(app, "lost", 2)
    (remote,) = stripe_invoices_for(stripe_base, invoice["id"])
    items = customer_items(stripe_base, remote["customer"])
    # What a push whose transaction rolled back after Stripe answered leaves: nothing in Stint.
    run(app, lambda: BillingRemoteInvoice.delete().where(BillingRemoteInvoice.invoice_id == invoice["id"]))
    clock.advance(minutes=10)
    assert retry(app) == {"checked": 1, "paid": 1, "open": 0, "failed": 0, "errors": 0}
    assert [found["id"] for found in stripe_invoices_for(stripe_base, invoice["id"])] == [remote["id"]]
    assert customer_items(stripe_base, remote["customer"]) == items
    assert retry(app)["checked"] == 0


def test_under_manual_billing_the_job_does_nothing(
    sqlite_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    """No Stripe key: the job runs, finds no rail to push to, and leaves the due invoice alone."""
    with api_client(make_settings(sqlite_url, tmp_path), clock) as client:
        signup(client, "manual")
        invoice = purchase(client, "manual", 2)
        clock.advance(minutes=10)
        assert retry(client) == {"checked": 0}
        assert stint_invoice(client, "manual", invoice["id"])["status"] == "due"
