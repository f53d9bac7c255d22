"""Issue #21's stumbles that only a browser shows (the rest are HTML checks in
``test_stumbles_pages.py``): Escape in an inline edit, messages replacing each other, the
role dropdown and arrow keys, the loading indicator, and the DevOps page's radio buttons and
fields. One server and one Chromium for the module; each test its own tenant."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Api, htmx_settled, sign_in

pytestmark = pytest.mark.browser


def _bearer(api: Api, slug: str, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token(slug, email)}"}


def _role(api: Api, headers: dict[str, str], user_id: str) -> str:
    listed = api.http.get("/api/v1/users", headers=headers)
    assert listed.status_code == 200, listed.text
    return str(next(u for u in listed.json()["items"] if u["id"] == user_id)["role"])


def test_escape_cancels_an_inline_worklog_edit_and_keeps_the_worklog(api: Api, new_page: Any) -> None:
    """Escape left the editor open (only its Cancel link closed it)."""
    admin = api.signup("esc")
    headers = _bearer(api, "esc", admin)
    made = api.http.post("/api/v1/worklogs", headers=headers,
                         json={"started_at": "2026-03-03T09:00:00Z", "length_s": 5400, "comment": "kept"})
    assert made.status_code == 201, made.text
    page = new_page()
    sign_in(page, "esc", admin)
    page.goto("/time?week=2026-W10")
    row = page.locator(f"#worklog-{made.json()['id']}")
    row.get_by_role("link", name="Edit").click()
    hours = page.locator("tr.editing").get_by_label("Hours")
    expect(hours).to_be_visible()
    htmx_settled(page)
    hours.fill("7:45")
    hours.press("Escape")
    expect(page.locator("tr.editing")).to_have_count(0)
    expect(row.locator("td").nth(2)).to_have_text("1:30")
    listed = api.http.get("/api/v1/worklogs", params={"from": "2026-03-02", "to": "2026-03-09"},
                          headers=headers)
    assert [w["length_s"] for w in listed.json()["items"]] == [5400]


def test_the_role_dropdown_saves_only_on_save_and_a_new_message_replaces_the_last(
    api: Api, new_page: Any
) -> None:
    """Two ArrowDowns on the dropdown were two role changes; a red error stayed beside the
    next green message."""
    admin = api.signup("keys-role")
    uma = api.add_user("keys-role", "uma@keys-role.test", "team")
    page = new_page()
    sign_in(page, "keys-role", admin)
    page.goto("/settings/users")
    role = page.get_by_label("Role of uma@keys-role.test")
    role.focus()
    role.press("ArrowDown")
    role.press("ArrowDown")
    htmx_settled(page)
    headers = _bearer(api, "keys-role", admin)
    assert _role(api, headers, uma["id"]) == "team"

    # The last administrator cannot demote themselves: the red message, in #flash.
    me = page.locator("#users tr").filter(has_text=admin)
    me.get_by_label(f"Role of {admin}").select_option("team")
    me.get_by_role("button", name=f"Save the new role for {admin}").click()
    expect(page.locator("#flash .flash.error")).to_be_visible()

    page.get_by_label("Role of uma@keys-role.test").select_option("product")
    page.get_by_role("button", name="Save the new role for uma@keys-role.test").click()
    expect(page.locator("#users .flash.ok")).to_contain_text("Saved uma@keys-role.test")
    expect(page.locator("#flash .flash")).to_have_count(0)
    assert _role(api, headers, uma["id"]) == "product"


def test_the_loading_indicator_shows_while_a_request_runs_and_hides_after(api: Api, new_page: Any) -> None:
    admin = api.signup("busy")
    page = new_page()
    sign_in(page, "busy", admin)
    page.goto("/time?week=2026-W10")
    busy = page.locator("#busy")
    expect(busy).to_be_hidden()
    seen: list[str] = []

    def hold(route: Any) -> None:
        # While the request is out, before its answer: what the user sees.
        seen.append(page.evaluate("getComputedStyle(document.getElementById('busy')).visibility"))
        route.continue_()

    page.route("**/time/week?*", hold)
    page.get_by_role("navigation", name="Weeks").get_by_role("link", name="Next →").click()
    expect(page.locator("#week-heading")).to_have_text("Week 2026-W11")
    htmx_settled(page)
    assert seen == ["visible"]
    expect(busy).to_be_hidden()


def test_the_devops_page_puts_each_radio_beside_its_label_and_azure_fields_only_with_azure(
    api: Api, new_page: Any
) -> None:
    """The dots stood above their words, and the Azure fields showed while Standalone was
    picked."""
    admin = api.signup("dots")
    page = new_page()
    sign_in(page, "dots", admin)
    page.goto("/settings/devops")
    for name in ("Standalone", "Azure DevOps"):
        dot = page.get_by_role("radio", name=name)
        label = page.locator("label").filter(has=dot)
        dot_box, label_box = dot.bounding_box(), label.bounding_box()
        assert dot_box is not None and label_box is not None
        # Beside: the label is one line about as tall as its dot, and wider than the dot.
        assert label_box["height"] < 2 * dot_box["height"] + 4, (name, dot_box, label_box)
        assert label_box["width"] > dot_box["width"] + 20, name
    url = page.get_by_label("Organisation URL")
    expect(page.get_by_role("radio", name="Standalone")).to_be_checked()
    expect(url).to_be_hidden()
    expect(page.get_by_label("Personal access token")).to_be_hidden()
    page.get_by_role("radio", name="Azure DevOps").check()
    expect(url).to_be_visible()
    expect(page.get_by_label("Project (optional)")).to_be_visible()
    page.get_by_role("radio", name="Standalone").check()
    expect(url).to_be_hidden()
