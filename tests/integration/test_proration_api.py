"""Proration, credit and invoices through the HTTP API (SPEC §4)."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from core.services.renewals import sweep_due_subscriptions
from tests.conftest import make_settings
from tests.support.api import (
    PASSWORD,
    api_client,
    bearer,
    current_code,
    enrolled_operator,
    run,
    signup,
    stint,
    token,
)


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock) -> Any:
    with api_client(make_settings(database_url, tmp_path), clock) as c:
        yield c


def on(clock: FixedClock, day: str) -> None:
    clock.set(datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC))


def admin_token(client: Any) -> str:
    return token(client, "acme", "admin@acme.test")


def bought(client: Any, clock: FixedClock, day: str, *, interval: str, seats: int) -> None:
    """A new tenant "acme" that bought Team on ``day``."""
    on(clock, day)
    signup(client, "acme")
    response = client.post(
        "/api/v1/subscription/purchase",
        json={"plan": "team", "interval": interval, "seats": seats},
        headers=bearer(admin_token(client)),
    )
    assert response.status_code == 200, response.text


def pay(client: Any, invoice_id: str) -> None:
    """An operator records the money for a manual invoice (the operator is made on first use)."""
    state = client.app.state
    if not hasattr(state, "test_operator_secret"):
        state.test_operator_secret, _ = enrolled_operator(client)
    code = current_code(client, state.test_operator_secret)
    signed_in = client.post(
        "/api/v1/operator/auth/token", json={"email": "ops@vendor.test", "password": PASSWORD, "code": code}
    )
    assert signed_in.status_code == 200, signed_in.text
    response = client.post(
        f"/api/v1/operator/tenants/acme/invoices/{invoice_id}/paid",
        headers=bearer(signed_in.json()["access_token"]),
    )
    assert response.status_code == 200, response.text


def invoices(client: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/invoices", headers=bearer(admin_token(client)))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def renew_due(client: Any) -> Any:
    s = stint(client)
    return run(client, sweep_due_subscriptions, s.uow, s.billing, s.clock, grace_days=14)


def test_the_worked_example_of_spec_section_4_to_the_cent(client: Any, clock: FixedClock) -> None:
    """Buy 10, grow to 50, shrink to 5, renew: +5,428.60, −5,361.53, 720.00 by credit, 4,641.53 left."""
    on(clock, "2026-01-01")
    signup(client, "acme")
    bought = client.post(
        "/api/v1/subscription/purchase",
        json={"plan": "team", "interval": "annual", "seats": 10},
        headers=bearer(admin_token(client)),
    )
    assert bought.json()["invoice"]["total"]["amount"] == 144000
    pay(client, bought.json()["invoice"]["id"])

    on(clock, "2026-01-22")
    grow = client.post("/api/v1/subscription/change", json={"seats": 50}, headers=bearer(admin_token(client)))
    assert grow.status_code == 200, grow.text
    pay(client, grow.json()["invoice"]["id"])
    line = grow.json()["lines"][0]
    assert (line["kind"], line["days_left"], line["period_days"]) == ("charge", 344, 365)
    assert line["amount"] == {"amount": 542860, "currency": "USD"}
    assert Fraction(line["exact_amount"]) == Fraction(40 * 14400 * 344, 365)
    assert line["description"] == "Team annual 10 → 50 seats: 40 seats × 144.00 × 344/365 days"
    assert grow.json()["invoice"]["amount_due"]["amount"] == 542860

    on(clock, "2026-03-05")
    shrink = client.post(
        "/api/v1/subscription/change", json={"seats": 5}, headers=bearer(admin_token(client))
    )
    assert shrink.json()["lines"][0]["amount"]["amount"] == -536153
    assert shrink.json()["invoice"] is None
    assert shrink.json()["subscription"]["credit_balance"]["amount"] == 536153
    # Both earlier invoices were paid: all of the credit is account credit.
    assert shrink.json()["against_invoices"]["amount"] == 0
    assert shrink.json()["to_credit_balance"]["amount"] == 536153
    assert shrink.json()["subscription"]["period_end"] == "2027-01-01"

    on(clock, "2027-01-01")
    report = renew_due(client)
    assert report.renewed == 1
    subscription = client.get("/api/v1/subscription", headers=bearer(admin_token(client))).json()
    assert subscription["credit_balance"]["amount"] == 464153
    assert (subscription["period_start"], subscription["period_end"]) == ("2027-01-01", "2028-01-01")
    renewal = client.get("/api/v1/invoices", headers=bearer(admin_token(client))).json()["items"][0]
    assert renewal["total"]["amount"] == 72000
    assert renewal["credit_applied"]["amount"] == 72000
    assert (renewal["amount_due"]["amount"], renewal["status"]) == (0, "paid")


def test_a_quote_returns_exactly_the_lines_the_change_then_makes(client: Any, clock: FixedClock) -> None:
    """Quote on a given day, then change on that day: the same numbers."""
    bought(client, clock, "2026-01-01", interval="monthly", seats=3)
    quote = client.post(
        "/api/v1/subscription/quote",
        json={"seats": 7, "on": "2026-01-20"},
        headers=bearer(admin_token(client)),
    ).json()
    on(clock, "2026-01-20")
    change = client.post(
        "/api/v1/subscription/change", json={"seats": 7}, headers=bearer(admin_token(client))
    )
    assert change.json()["lines"] == quote["lines"]
    assert quote["lines"][0]["days_left"] == 12 and quote["lines"][0]["period_days"] == 31


def test_a_seat_change_never_moves_the_expiry_date(client: Any, clock: FixedClock) -> None:
    """Up and down within a period: the period end stays 2026-02-01."""
    bought(client, clock, "2026-01-01", interval="monthly", seats=3)
    on(clock, "2026-01-15")
    for seats in (10, 4, 6):
        response = client.post(
            "/api/v1/subscription/change", json={"seats": seats}, headers=bearer(admin_token(client))
        )
        assert response.status_code == 200, response.text
        assert response.json()["subscription"]["period_end"] == "2026-02-01"


def test_a_quote_outside_the_running_period_is_refused_naming_the_day(client: Any, clock: FixedClock) -> None:
    """``on`` must lie in the running period: 422 with field ``on``."""
    bought(client, clock, "2026-01-01", interval="monthly", seats=3)
    response = client.post(
        "/api/v1/subscription/quote",
        json={"seats": 4, "on": "2026-02-01"},
        headers=bearer(admin_token(client)),
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "on"


def test_a_change_during_a_trial_asks_to_buy_first(client: Any, clock: FixedClock) -> None:
    """There is no paid period to prorate during a trial."""
    on(clock, "2026-01-01")
    signup(client, "acme")
    response = client.post(
        "/api/v1/subscription/quote", json={"seats": 4}, headers=bearer(admin_token(client))
    )
    assert response.status_code == 422 and "buy a plan first" in response.json()["detail"]


def test_team_to_ultimate_mid_period_charges_the_price_difference_per_day(
    client: Any, clock: FixedClock
) -> None:
    """20 seats Team annual → Ultimate annual on day 101 of 365: 20 × (192.00 − 144.00) × 265/365."""
    bought(client, clock, "2026-01-01", interval="annual", seats=20)
    on(clock, "2026-04-11")
    body = client.post(
        "/api/v1/subscription/change", json={"plan": "ultimate"}, headers=bearer(admin_token(client))
    ).json()
    assert body["lines"][0]["days_left"] == 265
    assert body["lines"][0]["amount"]["amount"] == round(20 * 4800 * 265 / 365)
    assert body["subscription"]["plan"] == "ultimate" and body["subscription"]["scope"] == "enterprise"


def test_a_change_to_free_is_scheduled_for_the_period_end_without_credit(
    client: Any, clock: FixedClock
) -> None:
    """No line now; the plan becomes Free at the renewal, with no invoice."""
    bought(client, clock, "2026-01-01", interval="monthly", seats=3)
    on(clock, "2026-01-10")
    body = client.post(
        "/api/v1/subscription/change", json={"plan": "free"}, headers=bearer(admin_token(client))
    ).json()
    assert body["lines"] == [] and body["scheduled_for"] == "2026-02-01"
    assert (
        body["subscription"]["scheduled_plan"] == "free"
        and body["subscription"]["credit_balance"]["amount"] == 0
    )
    on(clock, "2026-02-01")
    renew_due(client)
    after = client.get("/api/v1/subscription", headers=bearer(admin_token(client))).json()
    assert after["plan"] == "free"
    assert len(client.get("/api/v1/invoices", headers=bearer(admin_token(client))).json()["items"]) == 1


def test_renewing_twice_on_the_same_day_makes_one_invoice(client: Any, clock: FixedClock) -> None:
    """The renewal sweep is idempotent: a second run finds nothing due."""
    bought(client, clock, "2026-01-31", interval="monthly", seats=2)
    on(clock, "2026-02-28")
    assert renew_due(client).renewed == 1
    assert renew_due(client).renewed == 0
    sub = client.get("/api/v1/subscription", headers=bearer(admin_token(client))).json()
    assert (sub["period_start"], sub["period_end"]) == ("2026-02-28", "2026-03-31")
    assert len(client.get("/api/v1/invoices", headers=bearer(admin_token(client))).json()["items"]) == 2


def test_a_cursor_that_no_page_gave_out_is_a_422_not_a_500(client: Any, clock: FixedClock) -> None:
    """Invoices paginate by an opaque cursor; a forged or garbled one is bad input."""
    on(clock, "2026-01-01")
    signup(client, "acme")
    for bad in ("0", "not-a-date|x", "2026-01-01T00:00:00|", "2026-01-01T00:00:00|abc"):
        response = client.get("/api/v1/invoices", params={"cursor": bad}, headers=bearer(admin_token(client)))
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["errors"][0]["field"] == "cursor"


def test_a_payout_is_refused_by_the_credit_ledger_with_the_balance_it_keeps(
    client: Any, clock: FixedClock
) -> None:
    """The route answers with the ledger's own refusal: 409, and the credit it keeps for the next invoices."""
    bought(client, clock, "2026-01-01", interval="annual", seats=10)
    pay(client, invoices(client)[0]["id"])
    on(clock, "2026-03-05")
    shrink = client.post(
        "/api/v1/subscription/change", json={"seats": 5}, headers=bearer(admin_token(client))
    )
    credit = shrink.json()["subscription"]["credit_balance"]
    assert credit["amount"] > 0
    refused = client.post("/api/v1/subscription/credit/payout", headers=bearer(admin_token(client)))
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "payout_refused"
    assert body["detail"] == "Credit is never paid out; it is applied to your next invoices."
    assert (body["balance"], body["currency"]) == (credit["amount"], credit["currency"])
    after = client.get("/api/v1/subscription", headers=bearer(admin_token(client))).json()
    assert after["credit_balance"] == credit


def test_invoice_cursors_are_url_safe_tokens_that_walk_every_invoice_once(
    client: Any, clock: FixedClock
) -> None:
    """The cursor is base64url without padding (no ``+`` or ``|`` for naive clients to mangle),
    pages of one visit both invoices, and old-style or forged cursors are 422 naming the cursor."""
    bought(client, clock, "2026-01-01", interval="monthly", seats=2)
    headers = bearer(admin_token(client))
    assert client.post("/api/v1/subscription/change", json={"seats": 4}, headers=headers).status_code == 200
    first = client.get("/api/v1/invoices", params={"limit": 1}, headers=headers).json()
    cursor = first["next_cursor"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor), cursor
    # Sent unencoded, as a naive client would: nothing in it changes on the way.
    second = client.get(f"/api/v1/invoices?limit=1&cursor={cursor}", headers=headers).json()
    assert second["next_cursor"] is None
    assert {first["items"][0]["id"], second["items"][0]["id"]} == {
        i["id"] for i in client.get("/api/v1/invoices", headers=headers).json()["items"]
    }
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    forged = base64.urlsafe_b64encode(b"0001-01-01T00:00:00+14:00|x").decode().rstrip("=")
    for bad in (raw, forged):
        response = client.get("/api/v1/invoices", params={"cursor": bad}, headers=headers)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["errors"][0]["field"] == "cursor"


def test_cutting_unpaid_seats_lowers_their_invoice_and_grants_no_credit_until_paid(
    client: Any, clock: FixedClock
) -> None:
    """Issue #15: 10 seats bought (1,440.00 due), cut to 5 that day → that invoice is due 720.00 and the
    balance stays 0.00; once it is paid, a later cut is account credit."""
    on(clock, "2026-01-01")
    signup(client, "acme")
    headers = bearer(admin_token(client))
    bought = client.post(
        "/api/v1/subscription/purchase",
        json={"plan": "team", "interval": "annual", "seats": 10},
        headers=headers,
    ).json()["invoice"]
    assert bought["amount_due"]["amount"] == 144000 and bought["credit_notes"] == []

    quote = client.post("/api/v1/subscription/quote", json={"seats": 5}, headers=headers).json()
    assert quote["total"]["amount"] == -72000
    assert quote["against_invoices"]["amount"] == 72000 and quote["to_credit_balance"]["amount"] == 0
    assert quote["credited_invoices"] == [
        {"invoice_id": bought["id"], "amount": {"amount": 72000, "currency": "USD"}}
    ]
    assert invoices(client)[0]["amount_due"]["amount"] == 144000  # a quote changes nothing

    cut = client.post("/api/v1/subscription/change", json={"seats": 5}, headers=headers)
    assert cut.status_code == 200, cut.text
    body = cut.json()
    assert body["lines"][0]["amount"]["amount"] == -72000  # the per-day arithmetic is unchanged
    assert body["invoice"] is None
    assert body["subscription"]["credit_balance"]["amount"] == 0
    assert (body["against_invoices"]["amount"], body["to_credit_balance"]["amount"]) == (72000, 0)
    [listed] = invoices(client)
    assert listed["id"] == bought["id"] and body["credited_invoices"] == [listed]
    assert (listed["total"]["amount"], listed["amount_due"]["amount"]) == (144000, 72000)
    assert listed["status"] == "due"
    assert listed["lines"] == bought["lines"]
    [note] = listed["credit_notes"]
    assert note["amount"] == {"amount": 72000, "currency": "USD"}
    assert (note["reason"], note["issued_on"]) == ("proration_credit", "2026-01-01")
    assert (note["days_left"], note["period_days"]) == (365, 365)
    assert note["description"] == body["lines"][0]["description"]
    assert Fraction(note["exact_amount"]) == -72000  # the line's own exact amount

    pay(client, bought["id"])
    [paid] = invoices(client)
    assert (paid["status"], paid["amount_due"]["amount"]) == ("paid", 72000)

    on(clock, "2026-07-02")
    later = client.post(
        "/api/v1/subscription/change", json={"seats": 4}, headers=bearer(admin_token(client))
    ).json()
    credit = -later["lines"][0]["amount"]["amount"]
    assert credit == round(14400 * 183 / 365)
    assert (later["against_invoices"]["amount"], later["to_credit_balance"]["amount"]) == (0, credit)
    assert later["subscription"]["credit_balance"]["amount"] == credit
    assert invoices(client)[0]["credit_notes"] == [note]


def test_a_cut_larger_than_the_unpaid_invoice_settles_it_and_credits_the_rest(
    client: Any, clock: FixedClock
) -> None:
    """10 seats bought and paid, grown to 12 (unpaid), cut to 4: the growth's invoice is settled by a
    credit note, the other 6 seats' days become credit."""
    bought(client, clock, "2026-01-01", interval="annual", seats=10)
    headers = bearer(admin_token(client))
    pay(client, invoices(client)[0]["id"])
    on(clock, "2026-03-01")
    headers = bearer(admin_token(client))
    grow = client.post("/api/v1/subscription/change", json={"seats": 12}, headers=headers).json()
    charged = grow["invoice"]["amount_due"]["amount"]
    cut = client.post("/api/v1/subscription/change", json={"seats": 4}, headers=headers).json()
    credit = -cut["lines"][0]["amount"]["amount"]
    assert cut["against_invoices"]["amount"] == charged
    assert cut["to_credit_balance"]["amount"] == credit - charged
    assert cut["subscription"]["credit_balance"]["amount"] == credit - charged
    growth = next(i for i in invoices(client) if i["id"] == grow["invoice"]["id"])
    assert (growth["amount_due"]["amount"], growth["status"]) == (0, "paid")
    assert [n["amount"]["amount"] for n in growth["credit_notes"]] == [charged]
