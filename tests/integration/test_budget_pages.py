"""The Budgets pages through the app without a browser (no JavaScript, plain forms), on both
engines: who sees the tab and what, the burn bars and the SVG burn-down with their text
alternatives, the manager's forms, the statement downloads, another tenant's budget, and bad
input refused with nothing stored."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import add_user, api_client, bearer, page_sign_in, signup, token

BUDGETS = "/api/v1/budgets"


class Site:
    def __init__(self, client: TestClient[Any]) -> None:
        self.client = client
        self.admin = bearer(token(client, "shop", "admin@shop.test"))

    def sign_in(self, email: str) -> None:
        page_sign_in(self.client, "shop", email)

    def form(self, path: str, data: dict[str, str], **kwargs: Any) -> Any:
        token = self.client.cookies["csrftoken"]
        return self.client.post(path, data={**data, "_csrf_token": token}, **kwargs)

    def api(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        response = self.client.request(method, path, json=body, headers=headers or self.admin)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def item(self, title: str, **more: Any) -> int:
        return int(self.api("POST", "/api/v1/work-items", {"title": title, "type": "Task", **more})["id"])

    def log(self, item: int, at: str, length_s: int, billable_s: int = 0,
            headers: dict[str, str] | None = None) -> str:
        body = {"started_at": at, "length_s": length_s, "billable_length_s": billable_s, "work_item": item}
        return str(self.api("POST", "/api/v1/worklogs", body, headers)["id"])


@pytest.fixture
def site(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Site]:
    # The clock is 2026-01-01 09:00 UTC: the work below is in the last days of December.
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        signup(client, "shop")
        admin = token(client, "shop", "admin@shop.test")
        add_user(client, admin, "tia@shop.test", role="team")
        add_user(client, admin, "pat@shop.test", role="product")
        yield Site(client)


def _seed(site: Site) -> dict[str, Any]:
    """Budget "Checkout" (10 h, 500.00 at 100.00/h) on item A, overrun; "Spare" with no limit."""
    a, b = site.item("Card form"), site.item("Office move")
    tia = bearer(token(site.client, "shop", "tia@shop.test"))
    budget = site.api("POST", BUDGETS, {
        "name": "Checkout", "hours": 10, "amount": {"amount": 50_000, "currency": "USD"},
        "hourly_rate": {"amount": 10_000, "currency": "USD"}, "starts_on": "2025-12-20",
        "ends_on": "2026-01-10", "customer": "ACME-7",
    })
    spare = site.api("POST", BUDGETS, {"name": "Spare"})
    site.api("POST", f"{BUDGETS}/{budget['id']}/assign", {"work_items": [a]})
    site.api("POST", f"{BUDGETS}/{spare['id']}/assign", {"work_items": [b]})
    site.log(a, "2025-12-22T09:00:00Z", 4 * 3600, 4 * 3600)
    site.log(a, "2025-12-29T09:00:00Z", 7 * 3600, 2 * 3600, headers=tia)
    site.log(b, "2025-12-30T09:00:00Z", 1800)
    return {"budget": budget, "spare": spare, "a": a, "b": b}


def test_the_list_shows_burn_bars_that_say_over_the_limit_in_words_and_no_bar_without_a_limit(
    site: Site,
) -> None:
    seeded = _seed(site)
    site.sign_in("admin@shop.test")
    page = site.client.get("/budgets")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/budgets" aria-current="page">Budgets</a>' in html
    first, second = (f'id="budget-{seeded[key]["id"]}"' for key in ("budget", "spare"))
    row = html[html.index(first):html.index(second)]
    # 11 h tracked of 10 h: 110 %, over by 1:00; 6 billable hours × 100.00 = 600.00 of 500.00.
    assert "11:00 h of 10:00 h · 110%" in row
    assert "Over the limit by 1:00 h" in row
    assert "600.00 USD of 500.00 USD · 120%" in row and "Over the limit by 100.00 USD" in row
    assert 'role="img"' in row and 'width="100.00"' in row
    spare = html[html.index(f'id="budget-{seeded["spare"]["id"]}"'):]
    assert "No limit" in spare.split("</tr>")[0] and "0:30 h" in spare.split("</tr>")[0]


def test_the_budget_page_draws_the_burn_down_with_an_ideal_line_and_a_table_beside_it(site: Site) -> None:
    seeded = _seed(site)
    site.sign_in("pat@shop.test")  # Product reads every budget
    html = site.client.get(f"/budgets/{seeded['budget']['id']}").text
    assert html.count('<svg class="burndown"') == 2  # hours and money remaining
    chart = html[html.index('id="chart-hours"'):html.index('id="chart-money"')]
    labelled = r'aria-labelledby="chart-hours-title chart-hours-desc"'
    assert re.search(r'<svg class="burndown"[^>]*role="img"[^>]*' + labelled, chart)
    assert "<title id=\"chart-hours-title\">Hours remaining, 2025-12-20 to 2026-01-10</title>" in chart
    assert 'class="ideal"' in chart and 'class="actual"' in chart
    # The table alternative: the first day, each change, the last day (today, 1 January).
    rows = re.findall(r"<tr><td>(\S+)</td><td class=\"num\">([^<]+)</td></tr>", chart)
    assert rows == [("2025-12-20", "10:00"), ("2025-12-22", "6:00"), ("2025-12-29", "-1:00"),
                    ("2026-01-01", "-1:00")]
    # 13 days of a 21-day axis drawn; the line ends at x = 72 + 12/21 × 552 = 387.43 (rounded once).
    points = re.search(r'<polyline class="actual" points="([^"]+)"', chart)
    assert points is not None and len(points[1].split()) == 13
    assert points[1].split()[-1].startswith("387.43,")
    for caption in ("By user", "By activity type", "By work item"):
        assert f"<caption>{caption}</caption>" in html
    assert f"{seeded['a']} Card form" in html
    assert "Manage" not in html  # Product reads; the Budget role and Administrators manage


def test_a_german_reader_sees_the_burn_down_charts_named_in_german(site: Site) -> None:
    """The charts' names ("Hours remaining", "Money remaining (USD)") were English on the German
    page: in the caption, the chart's title and "… als Tabelle"."""
    seeded = _seed(site)
    pat = bearer(token(site.client, "shop", "pat@shop.test"))
    site.api("PUT", "/api/v1/me/profile", {"locale": "de"}, headers=pat)
    site.sign_in("pat@shop.test")
    html = site.client.get(f"/budgets/{seeded['budget']['id']}").text
    assert "<summary>Verbleibende Stunden als Tabelle</summary>" in html
    assert "<summary>Verbleibendes Geld (USD) als Tabelle</summary>" in html
    assert "Hours remaining" not in html and "Money remaining" not in html


def test_a_team_user_sees_only_the_budget_their_work_hits_and_only_their_own_time(site: Site) -> None:
    seeded = _seed(site)
    site.sign_in("tia@shop.test")
    html = site.client.get("/budgets").text
    assert ">Checkout</a>" in html and ">Spare</a>" not in html
    assert "Over the limit" not in html  # the left figures would reveal everyone's time
    page = site.client.get(f"/budgets/{seeded['budget']['id']}").text
    assert "Your hours on this budget" in page and "7:00 h" in page and "Hours left" not in page
    assert site.client.get(f"/budgets/{seeded['spare']['id']}").status_code == 404
    refused = site.form("/budgets", {"name": "Mine"})
    assert refused.status_code == 403


def test_a_manager_creates_edits_assigns_and_closes_a_budget_with_plain_forms(site: Site) -> None:
    seeded = _seed(site)
    site.sign_in("admin@shop.test")
    created = site.form("/budgets", {"name": "Support", "hours": "2.5", "amount": "1,200.50",
                                     "currency": "USD", "starts_on": "2025-12-01", "ends_on": "",
                                     "customer": "", "hourly_rate": ""},
                        follow_redirects=False)
    assert created.status_code == 303
    path = created.headers["location"]
    budget_id = path.rsplit("/", 1)[1]
    got = site.api("GET", f"{BUDGETS}/{budget_id}")
    assert (got["hours"], got["amount"], got["starts_on"]) == (2.5, {"amount": 120_050, "currency": "USD"},
                                                               "2025-12-01")
    page = site.client.get(path).text
    assert 'name="hours" inputmode="decimal" placeholder="no limit" value="2.5"' in page
    assert 'name="amount" inputmode="decimal" placeholder="no limit" value="1200.50"' in page

    edited = site.form(path, {"name": "Support desk", "hours": "3", "amount": "", "currency": "USD",
                              "customer": "INT-4"})
    assert edited.status_code == 200 and "Budget &#39;Support desk&#39; saved." in edited.text
    got = site.api("GET", f"{BUDGETS}/{budget_id}")
    assert (got["name"], got["hours"], got["amount"], got["customer"]) == ("Support desk", 3.0, None, "INT-4")

    assigned = site.form(f"{path}/assign", {"action": "assign", "work_items": f"{seeded['b']}"})
    assert assigned.status_code == 200 and "Assigned." in assigned.text
    usage = site.api("GET", f"{BUDGETS}/{budget_id}/usage")
    assert usage["tracked_s"] == 1800
    removed = site.form(f"{path}/assign", {"action": "unassign", "work_items": f"{seeded['b']}"})
    assert "1 assignment removed." in removed.text

    closed = site.form(f"{path}/open", {"open": "0"})
    assert "Budget closed" in closed.text and "Reopen budget" in closed.text
    assert site.api("GET", f"{BUDGETS}/{budget_id}")["open"] is False
    refused = site.form(f"{path}/assign", {"action": "assign", "work_items": f"{seeded['b']}"})
    assert refused.status_code == 409


def test_bad_form_input_is_a_clear_4xx_and_stores_nothing(site: Site) -> None:
    _seed(site)
    site.sign_in("admin@shop.test")
    before = site.api("GET", BUDGETS)
    for data, field in (
        ({"name": "X", "hours": "1.234"}, "two decimal places"),
        ({"name": "X", "amount": "12.345"}, "at most two decimal places"),
        ({"name": "X", "amount": "lots"}, "amount such as"),
        ({"name": "X", "starts_on": "tomorrow"}, "is a date"),
        ({"name": "X", "starts_on": "2026-02-01", "ends_on": "2026-01-01"}, "ends on or after"),
        ({"name": "X", "currency": "E1"}, "three-letter"),
        ({"name": "   "}, "blank"),
    ):
        response = site.form("/budgets", data)
        assert response.status_code == 422, (data, response.status_code)
        assert field in response.text, (data, response.text[-500:])
    budget_id = before["items"][0]["id"]
    response = site.form(f"/budgets/{budget_id}/assign", {"work_items": "12, abc"})
    assert response.status_code == 422
    assert site.form(f"/budgets/{budget_id}/assign", {"work_items": "99999"}).status_code == 422
    assert site.api("GET", BUDGETS) == before
    assert site.client.get(f"/budgets/{budget_id}?month=2026-13").status_code == 422
    assert site.client.get("/budgets/nope").status_code == 404


def test_the_statement_month_picker_shows_the_month_and_downloads_it_as_csv_and_xlsx(site: Site) -> None:
    seeded = _seed(site)
    site.sign_in("admin@shop.test")
    path = f"/budgets/{seeded['budget']['id']}"
    page = site.client.get(f"{path}?month=2025-12").text
    assert "2 billable lines · 6:00 h · <strong>600.00 USD</strong>" in page
    partial = site.client.get(f"{path}?month=2025-12", headers={"HX-Request": "true"}).text
    assert partial.lstrip().startswith('<section class="card" id="statement"')
    csv_file = site.client.get(f"{path}/statement?month=2025-12&format=csv")
    assert csv_file.status_code == 200 and csv_file.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_file.content.decode("utf-8-sig"))))
    assert [(r["Date"], r["Amount"]) for r in rows] == [("2025-12-22", "400.00"), ("2025-12-29", "200.00"),
                                                        ("Total", "600.00")]
    xlsx = site.client.get(f"{path}/statement?month=2025-12&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert site.client.get(f"{path}/statement?month=2025-12&format=pdf").status_code == 422


def test_another_tenants_budget_is_not_found_on_any_page_or_form(site: Site) -> None:
    seeded = _seed(site)
    signup(site.client, "rival")
    rival = bearer(token(site.client, "rival", "admin@rival.test"))
    theirs = site.api("POST", BUDGETS, {"name": "Rival budget", "hours": 5}, headers=rival)
    site.sign_in("admin@shop.test")
    path = f"/budgets/{theirs['id']}"
    assert site.client.get(path).status_code == 404
    assert site.client.get(f"{path}/statement?month=2025-12").status_code == 404
    assert site.form(path, {"name": "Taken"}).status_code == 404
    assert site.form(f"{path}/open", {"open": "0"}).status_code == 404
    assert site.form(f"{path}/assign", {"work_items": str(seeded["a"])}).status_code == 404
    assert "Rival budget" not in site.client.get("/budgets").text
    untouched = site.api("GET", f"{BUDGETS}/{theirs['id']}", headers=rival)
    assert (untouched["name"], untouched["open"]) == ("Rival budget", True)
