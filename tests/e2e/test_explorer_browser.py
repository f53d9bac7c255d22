"""The Times Explorer in a real browser (htmx under the strict content security policy):
filter, group, list, select two rows and set them billable after the confirmation, then
the API shows the change; on a phone the page does not grow wider than the screen."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .conftest import Api, htmx_settled, sign_in


def _log(api: Api, token: str, at: str, length_s: int, comment: str) -> str:
    response = api.http.post("/api/v1/worklogs", headers={"Authorization": f"Bearer {token}"},
                             json={"started_at": at, "length_s": length_s, "comment": comment})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_a_manager_filters_groups_selects_two_rows_and_sets_them_billable(api: Api, new_page: Any) -> None:
    admin = api.signup("explorer-e2e")
    token = api.token("explorer-e2e", admin)
    alpha = _log(api, token, "2026-01-05T09:00:00Z", 3600, "alpha")
    beta = _log(api, token, "2026-01-06T09:00:00Z", 1800, "beta")
    gamma = _log(api, token, "2026-02-03T09:00:00Z", 600, "gamma")
    page = new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    sign_in(page, "explorer-e2e", admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Times Explorer").click()
    expect(page).to_have_url(re.compile(r"/explorer/$"))

    filters = page.locator("#explorer-filters")
    filters.get_by_label("From", exact=True).fill("2026-01-01")
    filters.get_by_label("To", exact=True).fill("2026-01-31")
    filters.get_by_label("Group by").select_option("user")
    filters.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"group_by=user"))
    expect(page.locator("#groups tbody")).to_contain_text("Ada Admin")
    expect(page.locator("#groups tfoot")).to_contain_text("1:30")

    page.locator("#explorer-filters").get_by_label("Group by").select_option("")
    page.locator("#explorer-filters").get_by_role("button", name="Show").click()
    rows = page.locator("#worklog-rows tr[id^=worklog-]")
    expect(rows).to_have_count(2)
    page.locator(f"#worklog-{alpha} input[name=ids]").check()
    page.locator(f"#worklog-{beta} input[name=ids]").check()
    page.get_by_label("With the selected").select_option("billable")
    page.get_by_role("button", name="Apply…").click()
    expect(page.locator("#confirm-text")).to_have_text("Set billable (the whole length) 2 worklogs?")
    htmx_settled(page)
    page.get_by_role("button", name="Change 2").click()
    expect(page.locator("#done")).to_have_text("2 worklogs changed.")
    expect(page).to_have_url(re.compile(r"from=2026-01-01"))

    listed = api.http.get("/api/v1/worklogs/all", headers={"Authorization": f"Bearer {token}"}).json()
    billable = {w["id"]: w["billable_length_s"] for w in listed["items"]}
    assert billable == {alpha: 3600, beta: 1800, gamma: 0}

    # Select all on this page ticks every row's box (a script, allowed by the policy).
    page.locator("#select-all").check()
    expect(page.locator("#worklog-rows input[name=ids]:checked")).to_have_count(2)
    assert violations == []


def test_on_a_phone_the_explorer_scrolls_its_table_not_the_page(api: Api, browser: Any, server: Any) -> None:
    admin = api.signup("explorer-phone")
    token = api.token("explorer-phone", admin)
    _log(api, token, "2026-01-05T09:00:00Z", 3600, "a comment long enough to make the table wide " * 3)
    context = browser.new_context(base_url=server.base, viewport={"width": 375, "height": 740})
    try:
        page = context.new_page()
        sign_in(page, "explorer-phone", admin)
        page.goto("/explorer/?columns=date&columns=user&columns=work_item&columns=comment&columns=amount"
                  "&columns=created&columns=edited&columns=approval")
        expect(page.locator("#worklogs")).to_be_visible()
        table_wider = page.evaluate(
            "() => document.querySelector('#worklogs').scrollWidth > window.innerWidth")
        page_wider = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1")
        assert table_wider
        assert not page_wider
    finally:
        context.close()
