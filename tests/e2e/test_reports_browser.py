"""The Reports page in Chromium: every widget renders (chart, table, downloads), a filter
change swaps the widgets through htmx and keeps the URL in step, and with JavaScript off
the same page renders and its filter form still works (a plain GET)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from .conftest import Api, Server, htmx_settled, sign_in

WIDGETS = ("estimates", "time-user", "time-activity-type", "time-work-item-type", "time-budget", "time-day",
           "burn", "chargeback", "expected")


def _seed(api: Api, slug: str) -> dict[str, Any]:
    """A feature on budget "Checkout" and a task on "Spare", an hour billable on each, yesterday."""
    admin = api.signup(slug)
    headers = {"Authorization": f"Bearer {api.token(slug, admin)}"}

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = api.http.post(path, json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    feature = post("/api/v1/work-items", {"title": "Checkout", "type": "Feature",
                                          "original_estimate_h": 2})["id"]
    other = post("/api/v1/work-items", {"title": "Office move", "type": "User Story"})["id"]
    checkout = post("/api/v1/budgets", {"name": "Checkout", "hours": 10})
    spare = post("/api/v1/budgets", {"name": "Spare"})
    post(f"/api/v1/budgets/{checkout['id']}/assign", {"work_items": [feature]})
    post(f"/api/v1/budgets/{spare['id']}/assign", {"work_items": [other]})
    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    for item in (feature, other):
        post("/api/v1/worklogs", {"started_at": f"{day}T09:00:00Z", "length_s": 3600,
                                  "billable_length_s": 3600, "work_item": item})
    return {"admin": admin, "checkout": checkout}


def test_every_widget_renders_a_filter_swaps_them_with_htmx_and_the_page_works_without_javascript(
    api: Api, new_page: Any, browser: Any, server: Server
) -> None:
    seeded = _seed(api, "reports-e2e")
    page = new_page()
    sign_in(page, "reports-e2e", seeded["admin"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page).to_have_url(re.compile(r"/reports/$"))
    for widget in WIDGETS:
        section = page.locator(f"#widget-{widget}")
        expect(section.locator("h2")).to_be_visible()
        expect(section.locator("table.chart-table")).to_have_count(1)
        expect(section.get_by_role("link", name=re.compile("^CSV"))).to_have_count(1)
    expect(page.locator("#widget-time-budget svg.bars[role=img]")).to_be_visible()
    expect(page.locator("#table-time-budget tbody tr")).to_have_count(2)

    page.locator(".report-filters").get_by_label("Budget").select_option(label="Checkout")
    expect(page).to_have_url(re.compile(rf"budget={seeded['checkout']['id']}"))
    expect(page.locator("#table-time-budget tbody tr")).to_have_count(1)
    expect(page.locator("#table-time-budget tbody")).to_contain_text("Checkout")
    htmx_settled(page)

    context = browser.new_context(base_url=server.base, java_script_enabled=False)
    try:
        plain = context.new_page()
        sign_in(plain, "reports-e2e", seeded["admin"])
        plain.goto("/reports/")
        for widget in WIDGETS:
            expect(plain.locator(f"#widget-{widget} h2")).to_be_visible()
        expect(plain.locator("#table-time-budget tbody tr")).to_have_count(2)
        plain.locator(".report-filters").get_by_label("Budget").select_option(label="Checkout")
        plain.locator(".report-filters").get_by_role("button", name="Show").click()
        expect(plain).to_have_url(re.compile(rf"budget={seeded['checkout']['id']}"))
        expect(plain.locator("#table-time-budget tbody tr")).to_have_count(1)
    finally:
        context.close()
