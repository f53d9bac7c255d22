"""The Reports page through the app without a browser (plain GET, no JavaScript), on both
engines: every widget's figures against a hand computation, each chart's SVG carrying its
title and values, the table beside it, the CSV download equal to the table, Team scoped to
their own time, and a ``reporting:read`` token opening the page for a wall screen."""

from __future__ import annotations

import csv
import html as markup
import io
import re
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import add_user, api_client, bearer, page_sign_in, run, signup, stint, token

RANGE = "from=2025-11-01&to=2025-12-31"


class Site:
    def __init__(self, client: TestClient[Any]) -> None:
        self.client = client
        self.admin = bearer(token(client, "shop", "admin@shop.test"))

    def sign_in(self, email: str) -> None:
        page_sign_in(self.client, "shop", email)

    def api(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        response = self.client.request(method, path, json=body, headers=headers or self.admin)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def item(self, title: str, kind: str, **more: Any) -> int:
        return int(self.api("POST", "/api/v1/work-items", {"title": title, "type": kind, **more})["id"])

    def log(self, item: int | None, at: str, length_s: int, billable_s: int, who: dict[str, str]) -> None:
        body = {"started_at": at, "length_s": length_s, "billable_length_s": billable_s, "work_item": item}
        self.api("POST", "/api/v1/worklogs", body, who)


@pytest.fixture
def site(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Site]:
    # The clock is 2026-01-01 09:00 UTC (the tenant's zone): the work is in November and December.
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        signup(client, "shop")
        admin = token(client, "shop", "admin@shop.test")
        add_user(client, admin, "tia@shop.test", role="team")
        add_user(client, admin, "pat@shop.test", role="product")
        yield Site(client)


async def _completed(site: Site, item_id: int, hours: str) -> None:
    """Completed Work as the sync (or work item automation) writes it: the API does not take it."""
    async with stint(site.client).uow(write=True) as work:
        tenant = await work.directory.tenant_by_slug("shop")
        repo = work.tenant(tenant.id).work_items()
        item = await repo.get(item_id)
        await repo.save(replace(item, completed_h=Decimal(hours)))
        await work.commit()


def _seed(site: Site) -> dict[str, Any]:
    """Feature "Checkout" (OE 10 h) with tasks A (OE 4 h, done 3 h) and B (OE 2 h, done 1.5 h),
    on budget "Checkout" (10 h, 1,000.00 at 100.00/h, from 2025-11-20, customer ACME-7); story
    "Office move" (OE 1 h) on "Spare" (no limits, no rate). Worklogs (hours, billable):
    admin A 12-29 3/3, admin no item 12-31 1/0, tia B 12-30 2/1, tia story 12-30 1.5/0,
    pat A 11-28 4/4. Tia works 4 h a weekday with 2025-12-24 off."""
    feature = site.item("Checkout", "Feature", original_estimate_h=10)
    a = site.item("Card form", "Task", parent_id=feature, original_estimate_h=4)
    b = site.item("Address", "Task", parent_id=feature, original_estimate_h=2)
    run(site.client, _completed, site, a, "3")
    run(site.client, _completed, site, b, "1.5")
    story = site.item("Office move", "User Story", original_estimate_h=1)
    budget = site.api("POST", "/api/v1/budgets", {
        "name": "Checkout", "hours": 10, "amount": {"amount": 100_000, "currency": "USD"},
        "hourly_rate": {"amount": 10_000, "currency": "USD"}, "starts_on": "2025-11-20", "customer": "ACME-7",
    })
    spare = site.api("POST", "/api/v1/budgets", {"name": "Spare"})
    site.api("POST", f"/api/v1/budgets/{budget['id']}/assign", {"work_items": [feature]})
    site.api("POST", f"/api/v1/budgets/{spare['id']}/assign", {"work_items": [story]})
    tia = bearer(token(site.client, "shop", "tia@shop.test"))
    pat = bearer(token(site.client, "shop", "pat@shop.test"))
    site.log(a, "2025-12-29T10:00:00Z", 3 * 3600, 3 * 3600, site.admin)
    site.log(None, "2025-12-31T08:00:00Z", 3600, 0, site.admin)
    site.log(b, "2025-12-30T10:00:00Z", 2 * 3600, 3600, tia)
    site.log(story, "2025-12-30T14:00:00Z", 5400, 0, tia)
    site.log(a, "2025-11-28T10:00:00Z", 4 * 3600, 4 * 3600, pat)
    site.api("PUT", "/api/v1/me/working-hours", {
        "hours": {"monday": 4, "tuesday": 4, "wednesday": 4, "thursday": 4, "friday": 4, "saturday": 0,
                  "sunday": 0}, "days_off": ["2025-12-24"]}, tia)
    return {"feature": feature, "story": story, "budget": budget, "spare": spare}


def _table(page: str, widget: str) -> list[list[str]]:
    """The widget's table as text rows (the header first)."""
    found = re.search(rf'<table class="chart-table" id="table-{widget}">(.*?)</table>', page, re.S)
    assert found is not None, widget
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", found[1], re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([markup.unescape(re.sub(r"<[^>]+>|[↓↑]", "", c)).strip() for c in cells])
    return rows


def _svg(page: str, widget: str) -> str:
    section = page[page.index(f'id="widget-{widget}"'):]
    return section[:section.index("</section>")]


def _csv(site: Site, widget: str, query: str) -> list[list[str]]:
    response = site.client.get(f"/reports/{widget}/download?format=csv&{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_every_widget_equals_the_hand_computation_and_its_chart_table_and_csv_agree(site: Site) -> None:
    seeded = _seed(site)
    site.sign_in("pat@shop.test")  # Product: everyone's time
    page = site.client.get(f"/reports/?{RANGE}")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/reports/" aria-current="page">Reports</a>' in html

    expected_tables = {
        # Users by name; billable, non-billable, total hours.
        "time-user": [["User", "Billable hours", "Non-billable hours", "Total hours"],
                      ["Admin", "3.00", "1.00", "4.00"], ["pat", "4.00", "0.00", "4.00"],
                      ["tia", "1.00", "2.50", "3.50"]],
        "time-activity-type": [["Activity type", "Billable hours", "Non-billable hours", "Total hours"],
                               ["(none)", "8.00", "3.50", "11.50"]],
        # Tasks A (3 + 4) and B (2); the story 1.5; the worklog without an item 1.
        "time-work-item-type": [["Work item type", "Billable hours", "Non-billable hours", "Total hours"],
                                ["Task", "8.00", "1.00", "9.00"], ["User Story", "0.00", "1.50", "1.50"],
                                ["(none)", "0.00", "1.00", "1.00"]],
        "time-budget": [["Budget", "Billable hours", "Non-billable hours", "Total hours"],
                        ["Checkout", "8.00", "1.00", "9.00"], ["Spare", "0.00", "1.50", "1.50"],
                        ["(none)", "0.00", "1.00", "1.00"]],
        "time-day": [["Day", "Billable hours", "Non-billable hours", "Total hours"],
                     ["2025-11-28", "4.00", "0.00", "4.00"], ["2025-12-29", "3.00", "0.00", "3.00"],
                     ["2025-12-30", "1.00", "2.50", "3.50"], ["2025-12-31", "0.00", "1.00", "1.00"]],
        # The feature rolls up its tasks: OE 10 + 4 + 2, done 3 + 1.5, tracked 3 + 4 + 2 = 9 h.
        # The story is 0.5 h over, the feature 7 h under: furthest over first.
        "estimates": [["Work item", "Type", "Original estimate", "Completed work", "Tracked hours",
                       "Over estimate"],
                      [f"#{seeded['story']} Office move", "User Story", "1.00", "0.00", "1.50", "0.50"],
                      [f"#{seeded['feature']} Checkout", "Feature", "16.00", "4.50", "9.00", "-7.00"]],
        # 9 h of 10 h since 2025-11-20 (43 days to 2026-01-01): 1 h more at 9/43 h a day is
        # ceil(43/9) = 5 days → 01-06; 800.00 of 1,000.00: ceil(200 × 43 / 800) = 11 days → 01-12.
        "burn": [["Budget", "Hours used", "Hour limit", "Amount used", "Amount limit", "Currency",
                  "Projected end"],
                 ["Checkout", "9.00", "10.00", "800.00", "1000.00", "USD", "2026-01-06"],
                 ["Spare", "1.50", "", "0.00", "", "USD", ""]],
        # Billable × 100.00/h per month; Spare has no rate and nothing billable: no line.
        "chargeback": [["Budget", "Customer", "Month", "Billable hours", "Amount", "Currency"],
                       ["Checkout", "ACME-7", "2025-11", "4.00", "400.00", "USD"],
                       ["Checkout", "ACME-7", "2025-12", "4.00", "400.00", "USD"]],
        # 43 weekdays from 1 Nov to 31 Dec 2025: 8 h each (the default) → 344 h; tia 4 h on
        # 42 of them (24 Dec off) → 168 h.
        "expected": [["User", "Expected hours", "Tracked hours", "Difference"],
                     ["Admin", "344.00", "4.00", "-340.00"], ["pat", "344.00", "4.00", "-340.00"],
                     ["tia", "168.00", "3.50", "-164.50"]],
    }
    for widget, rows in expected_tables.items():
        assert _table(html, widget) == rows, widget
        assert _csv(site, widget, RANGE) == rows, widget
    # The charts: role img, their title, and each drawn value in words.
    time_user = _svg(html, "time-user")
    assert '<title id="chart-time-user-title">Time by user</title>' in time_user
    assert "<title>tia · Non-billable: 2.50</title>" in time_user and ">3.50</text>" in time_user
    estimates = _svg(html, "estimates")
    assert f"<title>#{seeded['feature']} Checkout · Original estimate: 16.00</title>" in estimates
    assert f"<title>#{seeded['feature']} Checkout · Tracked: 9.00</title>" in estimates
    assert "<title>Checkout 2025-12 · Amount: 400.00</title>" in _svg(html, "chargeback")
    assert "<title>tia · Expected: 168.00</title>" in _svg(html, "expected")
    burn = _svg(html, "burn")
    assert "Hours: 9.00 h of 10.00 h used (90%)" in burn
    assert "Money: 800.00 USD of 1000.00 USD used (80%)" in burn
    # Chargeback equals the budget's own monthly statements.
    for month in ("2025-11", "2025-12"):
        statement = site.api("GET", f"/api/v1/budgets/{seeded['budget']['id']}/statement?month={month}")
        totals = statement["totals"]
        assert (totals["billable_s"], totals["amount"]["amount"]) == (4 * 3600, 40_000)
    xlsx = site.client.get(f"/reports/chargeback/download?format=xlsx&{RANGE}")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_filters_narrow_every_widget_and_sorting_by_a_column_reorders_the_estimates(site: Site) -> None:
    seeded = _seed(site)
    site.sign_in("admin@shop.test")
    html = site.client.get(f"/reports/?{RANGE}&budget={seeded['budget']['id']}").text
    assert _table(html, "time-budget")[1:] == [["Checkout", "8.00", "1.00", "9.00"]]
    assert [r[0] for r in _table(html, "burn")[1:]] == ["Checkout"]
    sorted_html = site.client.get(f"/reports/?{RANGE}&sort=estimate&dir=desc").text
    assert [r[1] for r in _table(sorted_html, "estimates")[1:]] == ["Feature", "User Story"]
    one_day = site.client.get("/reports/?from=2025-12-30&to=2025-12-30").text
    assert _table(one_day, "time-user")[1:] == [["tia", "1.00", "2.50", "3.50"]]
    for bad in ("from=2025-13-01", "from=2026-01-02&to=2026-01-01", "sort=nonsense", "iteration=x",
                "from=2024-01-01&to=2025-12-31"):
        assert site.client.get(f"/reports/?{bad}").status_code == 422, bad


def test_a_team_user_sees_only_their_own_time_whatever_the_filter_names(site: Site) -> None:
    _seed(site)
    site.sign_in("tia@shop.test")
    pat_id = site.api("GET", "/api/v1/users")["items"]
    others = "&".join(f"user={u['id']}" for u in pat_id)
    html = site.client.get(f"/reports/?{RANGE}&{others}").text
    assert _table(html, "time-user")[1:] == [["tia", "1.00", "2.50", "3.50"]]
    assert _table(html, "expected")[1:] == [["tia", "168.00", "3.50", "-164.50"]]
    # The budgets tia's work hits, without the limits (they would reveal everyone's time).
    assert _table(html, "burn")[1:] == [["Checkout", "2.00", "", "100.00", "", "USD", ""],
                                        ["Spare", "1.50", "", "0.00", "", "USD", ""]]
    assert _csv(site, "time-day", RANGE)[1:] == [["2025-12-30", "1.00", "2.50", "3.50"]]


def test_a_reporting_token_opens_the_page_and_a_token_for_other_scopes_does_not(site: Site) -> None:
    _seed(site)
    reading = site.api("POST", "/api/v1/me/tokens", {"name": "wall", "expires_in_days": 30,
                                                      "scopes": ["reporting:read"]})["token"]
    tracking = site.api("POST", "/api/v1/me/tokens", {"name": "timer", "expires_in_days": 30,
                                                       "scopes": ["tracking"]})["token"]
    site.client.cookies.clear()
    wall = site.client.get(f"/reports/?{RANGE}", headers=bearer(reading))
    assert wall.status_code == 200 and 'id="table-time-user"' in wall.text
    assert site.client.get(f"/reports/?{RANGE}", headers=bearer(tracking)).status_code == 403
    # The token opens this page only: other pages still need a sign-in.
    assert site.client.get("/budgets", headers=bearer(reading)).status_code == 403


def test_another_tenant_s_budget_named_in_the_url_shows_nothing_of_it(site: Site) -> None:
    _seed(site)
    signup(site.client, "rival")
    rival = bearer(token(site.client, "rival", "admin@rival.test"))
    theirs = site.api("POST", "/api/v1/budgets", {"name": "Rival secret", "customer": "RIVAL-1"}, rival)
    site.sign_in("admin@shop.test")
    html = site.client.get(f"/reports/?{RANGE}&budget={theirs['id']}").text
    assert "Rival secret" not in html and "RIVAL-1" not in html
    # Resolved in this tenant, the id matches nothing: every sum and the burn are empty.
    for widget in ("time-budget", "time-user", "time-day", "estimates", "burn", "chargeback"):
        assert "Nothing in this range." in _svg(html, widget), widget
