"""The Budgets pages in a real browser: the list's burn bars, the budget page's SVG burn-down
with its table, a budget created and closed through the htmx forms."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from .conftest import Api, htmx_settled, sign_in


def seed_budget(api: Api, slug: str) -> dict[str, Any]:
    """A tenant with a budget "Checkout redesign" (40 h, 4,000.00 at 95.00/h) on a feature, three
    weeks of tracked time on its tasks, and a budget without limits; returns the budget."""
    admin = api.signup(slug)
    headers = {"Authorization": f"Bearer {api.token(slug, admin)}"}

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = api.http.post(path, json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    today = datetime.now(UTC).date()
    feature = post("/api/v1/work-items", {"title": "Checkout redesign", "type": "Feature"})["id"]
    tasks = [post("/api/v1/work-items", {"title": title, "type": "Task", "parent_id": feature})["id"]
             for title in ("Card form", "Address autocomplete", "Order summary")]
    other = post("/api/v1/work-items", {"title": "Office move", "type": "Task"})["id"]
    budget = post("/api/v1/budgets", {
        "name": "Checkout redesign", "hours": 40, "amount": {"amount": 400_000, "currency": "USD"},
        "hourly_rate": {"amount": 9_500, "currency": "USD"}, "customer": "ACME-2026-17",
        "starts_on": (today - timedelta(days=20)).isoformat(),
        "ends_on": (today + timedelta(days=10)).isoformat(),
    })
    spare = post("/api/v1/budgets", {"name": "Internal tooling"})
    post(f"/api/v1/budgets/{budget['id']}/assign", {"work_items": [feature]})
    post(f"/api/v1/budgets/{spare['id']}/assign", {"work_items": [other]})
    for offset, hours, task in ((19, 3, 0), (17, 4, 0), (15, 2.5, 1), (12, 5, 1), (10, 3, 2), (8, 6, 2),
                                (5, 4, 0), (3, 3.5, 1), (1, 2, 2)):
        day: date = today - timedelta(days=offset)
        length = int(hours * 3600)
        post("/api/v1/worklogs", {"started_at": f"{day.isoformat()}T09:00:00Z", "length_s": length,
                                  "billable_length_s": length, "work_item": tasks[task]})
    post("/api/v1/worklogs", {"started_at": f"{(today - timedelta(days=2)).isoformat()}T09:00:00Z",
                              "length_s": 5400, "work_item": other})
    return {"admin": admin, "budget": budget, "spare": spare}


def test_the_budgets_page_shows_burn_bars_and_the_burn_down_chart_with_its_table(
    api: Api, new_page: Any
) -> None:
    """33 h of 40 h and 3,135.00 of 4,000.00 on the list; the budget page draws both charts."""
    seeded = seed_budget(api, "burning")
    page = new_page()
    sign_in(page, "burning", seeded["admin"])
    page.get_by_role("link", name="Budgets").click()
    expect(page).to_have_url(re.compile(r"/budgets$"))
    row = page.locator(f"#budget-{seeded['budget']['id']}")
    expect(row.locator(".burn")).to_have_count(2)
    expect(row).to_contain_text("33:00 h of 40:00 h · 82%")
    expect(row).to_contain_text("3,135.00 USD of 4,000.00 USD · 78%")
    expect(row.locator("svg.burn-bar rect.fill").first).to_have_attribute("width", "82.50")
    expect(page.locator(f"#budget-{seeded['spare']['id']}")).to_contain_text("No limit")

    row.get_by_role("link", name="Checkout redesign").click()
    chart = page.locator("#chart-hours svg.burndown")
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute("role", "img")
    expect(page.locator("#chart-hours polyline.actual")).to_have_count(1)
    expect(page.locator("#chart-hours polyline.ideal")).to_have_count(1)
    expect(page.locator("#chart-hours figcaption")).to_contain_text("Hours remaining: 7:00")
    expect(page.locator("#chart-money svg.burndown")).to_be_visible()
    page.get_by_text("Hours remaining as a table").click()
    expect(page.locator("#chart-hours table.chart-table tbody tr").first).to_contain_text("40:00")
    expect(page.locator("#by-item")).to_contain_text("Address autocomplete")
    expect(page.locator("#statement")).to_contain_text("Download")


def test_a_manager_adds_a_budget_and_closes_it_through_the_htmx_forms(api: Api, new_page: Any) -> None:
    seeded = seed_budget(api, "managing")
    page = new_page()
    sign_in(page, "managing", seeded["admin"])
    page.goto("/budgets")
    form = page.locator("#new-budget")
    form.get_by_label("Name").fill("Support retainer")
    form.get_by_label("Hour limit (hours)").fill("12.5")
    form.get_by_role("button", name="Add budget").click()
    expect(page.locator("#budgets .flash.ok")).to_contain_text("Budget 'Support retainer' added.")
    htmx_settled(page)  # the list was swapped in: wait before clicking into it
    page.get_by_role("link", name="Support retainer").click()
    expect(page.locator("#budget dl.facts")).to_contain_text("12:30 h")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Close budget").click()
    expect(page.locator("#budget .flash.ok")).to_contain_text("Budget closed")
    expect(page.locator("#budget h1 .status")).to_have_text("Closed")
