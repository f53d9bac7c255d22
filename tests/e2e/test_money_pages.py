"""Money made plain on the Subscription page, through the app with a fixed clock (no
browser): Buy and Confirm change ask with one sentence and make only what was confirmed,
the quote's arithmetic is folded away, invoices show their numbers and download as PDFs."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from pypdf import PdfReader

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import api_client, bearer, signup, token

from .test_pages_without_browser import confirmed

BUY = {"plan": "team", "seats": "3", "interval": "annual"}


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[TestClient[Any]]:
    clock.set(datetime(2026, 12, 6, 9, 0, tzinfo=UTC))
    with api_client(make_settings(sqlite_url, tmp_path), clock) as test_client:
        signup(test_client, "money")
        yield test_client


@pytest.fixture
def admin(client: TestClient[Any]) -> dict[str, str]:
    return {**bearer(token(client, "money", "admin@money.test")), "HX-Request": "true"}


def invoices(client: TestClient[Any], admin: dict[str, str]) -> list[dict[str, Any]]:
    return list(client.get("/api/v1/invoices", headers=admin).json()["items"])


def test_buy_now_opens_with_the_sentence_to_confirm_and_a_buy_without_it_buys_nothing(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    """Issue #21: Buy issued an invoice on one click. Now the page says what it costs in one
    sentence, asks with it, and a purchase that was not confirmed is only shown again."""
    page = client.get("/settings/subscription", headers=admin)
    # The form starts on Team annual for 1 seat: 144.00 now, and again in a year.
    assert "Pay 144.00 USD now, renews on 2027-12-06 at 144.00 USD." in page.text
    preview = client.post("/settings/subscription/purchase-preview", headers=admin, data=BUY)
    sentence = "Pay 432.00 USD now, renews on 2027-12-06 at 432.00 USD."
    assert sentence in preview.text
    assert f'hx-confirm="{sentence} Buy now?"' in preview.text
    assert "<summary>How is this computed?</summary>" in preview.text

    unconfirmed = client.post("/settings/subscription/purchase", headers=admin, data=BUY)
    assert unconfirmed.status_code == 200
    assert "Check the amount below and press Buy again to confirm." in unconfirmed.text
    assert invoices(client, admin) == []
    # Confirmed for 3 seats, then changed to 4 before Buy: the amount shown is not this one.
    stale = client.post("/settings/subscription/purchase", headers=admin,
                        data={**BUY, "seats": "4", "confirmed": confirmed(preview.text)})
    assert "Nothing was bought: the amount changed after it was shown." in stale.text
    assert "Pay 576.00 USD now" in stale.text
    assert invoices(client, admin) == []

    bought = client.post("/settings/subscription/purchase", headers=admin,
                         data={**BUY, "confirmed": confirmed(preview.text)})
    assert "Bought. Invoice STINT-2026-000001 was issued." in bought.text
    [invoice] = invoices(client, admin)
    assert invoice["number"] == "STINT-2026-000001"


def test_a_change_asks_with_one_sentence_and_folds_the_per_day_arithmetic_away(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    """Issue #21: the quote showed "old day value 4.7342" to customers. Now one sentence says
    what happens; the day values stay under "How is this computed?" for auditors."""
    preview = client.post("/settings/subscription/purchase-preview", headers=admin, data=BUY)
    client.post("/settings/subscription/purchase", headers=admin,
                data={**BUY, "confirmed": confirmed(preview.text)})
    quote = client.post("/settings/subscription/quote", headers=admin,
                        data={"seats": "5", "plan": "team", "interval": "annual"})
    sentence = "Pay 288.00 USD now, renews on 2027-12-06 at 720.00 USD."
    assert f'<p class="confirm-sentence"><strong>{sentence}</strong></p>' in quote.text
    assert f'hx-confirm="{sentence} Apply this change now?"' in quote.text
    working = quote.text.split("<summary>How is this computed?</summary>", 1)
    assert len(working) == 2 and "Old day value" not in working[0]
    assert "Old day value" in working[1] and "365 of 365" in working[1]

    unconfirmed = client.post("/settings/subscription/change", headers=admin,
                              data={"seats": "5", "plan": "team", "interval": "annual"})
    assert "Check the quote below and press Confirm change to apply it." in unconfirmed.text
    assert len(invoices(client, admin)) == 1
    changed = client.post("/settings/subscription/change", headers=admin,
                          data={"seats": "5", "plan": "team", "interval": "annual",
                                "confirmed": confirmed(quote.text)})
    assert "Changed. Invoice STINT-2026-000002 was issued." in changed.text
    # (Both made at the same fixed instant: the list's order between them is the ids'.)
    assert sorted(i["number"] for i in invoices(client, admin)) == ["STINT-2026-000001", "STINT-2026-000002"]


def test_the_invoice_list_shows_numbers_and_downloads_each_as_a_pdf_of_its_own_tenant_only(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    preview = client.post("/settings/subscription/purchase-preview", headers=admin, data=BUY)
    client.post("/settings/subscription/purchase", headers=admin,
                data={**BUY, "confirmed": confirmed(preview.text)})
    [invoice] = invoices(client, admin)
    page = client.get("/settings/subscription", headers=admin).text
    listed = page.split('class="invoices"', 1)[1]
    assert '<td class="number">STINT-2026-000001</td>' in listed
    assert invoice["id"] not in re.sub(r'href="[^"]*"', "", listed)  # the 32-character id is gone
    link = f'/settings/subscription/invoices/{invoice["id"]}/pdf'
    assert f'href="{link}"' in listed

    pdf = client.get(link, headers=admin)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert 'filename="STINT-2026-000001.pdf"' in pdf.headers["content-disposition"]
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "Invoice STINT-2026-000001" in text and "432.00 USD" in text

    signup(client, "other")
    other = bearer(token(client, "other", "admin@other.test"))
    assert client.get(link, headers=other).status_code == 404


def test_one_person_in_the_last_30_days_is_one_person_not_one_people(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    """Issue #21: "1 people used". The admin who signed up and used Stint is the one."""
    client.post("/api/v1/tracking/start", headers=admin, json={})
    page = client.get("/settings/subscription", headers=admin).text
    assert "1 people" not in page
    assert "1 person used Stint in the last 30 days." in page
