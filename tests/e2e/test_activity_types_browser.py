"""The Activity types page in a real browser (htmx swaps under the strict content security
policy), and the Time tab's activity select offering what the page keeps."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .conftest import Api, htmx_settled, sign_in


def test_an_administrator_keeps_the_catalogue_and_a_team_user_tracks_on_it(api: Api, new_page: Any) -> None:
    admin = api.signup("catalogue")
    api.add_user("catalogue", "tess@catalogue.test", "team")
    page = new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    sign_in(page, "catalogue", admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity types").click()
    expect(page).to_have_url(re.compile(r"/settings/activity-types$"))
    expect(page.locator("#activity-types")).to_contain_text("Project management")

    add = page.locator("#add-type")
    add.get_by_label("Name").fill("Code review")
    add.get_by_label("Billable by default").check()
    add.get_by_label("Hourly rate").fill("95.50")
    add.get_by_label("Currency").fill("EUR")
    add.get_by_role("button", name="Add").click()
    expect(page.locator("#activity-types .flash.ok")).to_contain_text("Added Code review.")
    htmx_settled(page)

    page.get_by_label("Name of Code review").fill("Peer review")
    page.get_by_role("button", name="Save Code review").click()
    expect(page.locator("#activity-types .flash.ok")).to_contain_text("Saved Peer review.")
    htmx_settled(page)
    page.get_by_role("button", name="Deactivate: Meeting").click()
    expect(page.locator("#activity-types .flash.ok")).to_contain_text("Meeting is inactive")
    page.reload()
    expect(page.get_by_label("Hourly rate of Peer review")).to_have_value("95.50")

    team = new_page()
    sign_in(team, "catalogue", "tess@catalogue.test")
    select = team.locator("form.start").get_by_label("Activity")
    expect(select.locator("option", has_text="Peer review")).to_have_count(1)
    expect(select.locator("option", has_text="Meeting")).to_have_count(0)
    select.select_option(label="Peer review")
    team.locator("#start").click()
    expect(team.locator("#timer .activity")).to_have_text("Peer review")
    assert violations == []
