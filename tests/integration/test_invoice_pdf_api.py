"""Invoices carry their human number, and ``GET /api/v1/invoices/{id}/pdf`` answers the
invoice as a PDF whose text has the number, each line's amount and, for a prorated line,
its per-day computation (SPEC §4's worked example, read back with pypdf)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from core.clock import FixedClock
from core.money import format_minor
from core.services.renewals import sweep_due_subscriptions
from tests.conftest import make_settings
from tests.support.api import add_user, api_client, bearer, run, signup, stint, token


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock) -> Any:
    settings = make_settings(
        database_url, tmp_path, STINT_SELLER_NAME="Stint Software GmbH",
        STINT_SELLER_ADDRESS="Hauptstraße 1|10115 Berlin", STINT_SELLER_TAX_ID="DE123456789",
    )
    with api_client(settings, clock) as c:
        yield c


def on(clock: FixedClock, day: str) -> None:
    clock.set(datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC))


def headers(client: Any, slug: str = "acme") -> dict[str, str]:
    return bearer(token(client, slug, f"admin@{slug}.test"))


def pdf_text(client: Any, invoice_id: str, slug: str = "acme") -> str:
    response = client.get(f"/api/v1/invoices/{invoice_id}/pdf", headers=headers(client, slug))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    # pypdf may break a long sentence anywhere a line wraps: compare on single spaces.
    return re.sub(r"\s+", " ", text)


def test_the_worked_example_reads_back_from_its_pdfs_number_lines_and_per_day_work(
    client: Any, clock: FixedClock
) -> None:
    on(clock, "2026-01-01")
    signup(client, "acme")
    terms = {"plan": "team", "interval": "annual", "seats": 10}
    bought = client.post("/api/v1/subscription/purchase", json=terms, headers=headers(client))
    assert bought.json()["invoice"]["number"] == "STINT-2026-000001"

    on(clock, "2026-01-22")
    grow = client.post("/api/v1/subscription/change", json={"seats": 50}, headers=headers(client)).json()
    assert grow["invoice"]["number"] == "STINT-2026-000002"
    text = pdf_text(client, grow["invoice"]["id"])
    assert "Invoice STINT-2026-000002" in text
    assert "Stint Software GmbH" in text and "Hauptstraße 1" in text and "Tax ID: DE123456789" in text
    assert "Acme" in text and "Tenant: acme" in text
    assert "Team annual 10 -> 50 seats: 40 seats × 144.00 × 344/365 days" in text
    assert "5,428.60 USD" in text
    # The per-day work: L, both day values and the formula, in words.
    assert "L = 344 days left of the 365-day period" in text
    assert "Day value before: 10 seats × 144.00 / 365 days = 1,440.00/365 = 3.9452 USD" in text
    assert "Day value after: 50 seats × 144.00 / 365 days = 7,200.00/365 = 19.7260 USD" in text
    assert "Amount = L × (day value after - day value before)" in text
    assert "= 344 × (7,200.00/365 - 1,440.00/365) = 5,428.6027 USD" in text
    assert "rounded once, half to even, to the cent: 5,428.60 USD" in text
    assert "Amount due 5,428.60 USD" in text

    on(clock, "2026-03-05")
    shrink = client.post("/api/v1/subscription/change", json={"seats": 5}, headers=headers(client))
    shrink = shrink.json()
    # Both invoices unpaid: the credit lowers them with credit notes, newest first.
    assert shrink["invoice"] is None and shrink["credited_invoices"]

    on(clock, "2027-01-01")
    s = stint(client)
    assert run(client, sweep_due_subscriptions, s.uow, s.billing, s.clock, grace_days=14).renewed == 1
    listed = client.get("/api/v1/invoices", headers=headers(client)).json()["items"]
    numbers = [item["number"] for item in listed]
    assert numbers == ["STINT-2027-000003", "STINT-2026-000002", "STINT-2026-000001"]
    renewal = pdf_text(client, listed[0]["id"])
    assert "Invoice STINT-2027-000003" in renewal and "Renewal" in renewal
    assert "Team annual: 5 seats × 144.00 720.00 USD" in renewal
    assert "L = " not in renewal  # a whole period has no per-day work

    first = pdf_text(client, listed[2]["id"])
    assert "1,440.00 USD" in first
    # The decrease's credit note is on the purchase invoice it lowered, with the amount left due.
    notes = [note for item in listed for note in item["credit_notes"]]
    for item in listed:
        for note in item["credit_notes"]:
            credited = pdf_text(client, item["id"])
            assert f"Credit note of 2026-03-05: {note['description'].replace('→', '->')}" in credited
            assert f"-{format_minor(note['amount']['amount'])} USD" in credited
    assert notes


def test_another_tenants_invoice_pdf_is_not_found_and_a_team_user_is_refused(
    client: Any, clock: FixedClock
) -> None:
    on(clock, "2026-01-01")
    signup(client, "acme")
    signup(client, "other")
    terms = {"plan": "team", "interval": "annual", "seats": 3}
    bought = client.post("/api/v1/subscription/purchase", json=terms, headers=headers(client)).json()
    invoice_id = bought["invoice"]["id"]
    theirs = client.get(f"/api/v1/invoices/{invoice_id}/pdf", headers=headers(client, "other"))
    assert theirs.status_code == 404
    assert theirs.headers["content-type"].startswith("application/problem+json")
    assert theirs.json()["code"] == "not_found"
    assert client.get("/api/v1/invoices/nope/pdf", headers=headers(client)).status_code == 404
    # Like the invoice list: Administrators and collection admins only.
    add_user(client, token(client, "acme", "admin@acme.test"), "tess@acme.test", role="team")
    tess = bearer(token(client, "acme", "tess@acme.test"))
    assert client.get(f"/api/v1/invoices/{invoice_id}/pdf", headers=tess).status_code == 403
    listing = client.get("/api/v1/invoices", headers=tess)
    assert listing.status_code == 403
