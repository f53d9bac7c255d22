"""A tenant's second factor in a real browser: enrolling on the Security page, requiring it of
everyone, the user without one sent to set it up, and the sign-in page's code step."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .conftest import PASSWORD, Api, operator_code, sign_in


def test_an_admin_enrols_requires_the_factor_and_a_user_without_one_is_sent_to_set_it_up(
    api: Api, new_page: Any
) -> None:
    admin = api.signup("guarded")
    api.add_user("guarded", "gus@guarded.test", "team")
    page = new_page()
    refusals: list[str] = []
    page.on("console", lambda m: refusals.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, "guarded", admin)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Security", exact=True).click()
    expect(page).to_have_url(re.compile(r"/settings/security$"))
    page.get_by_role("button", name="Set up a second factor").click()
    secret = page.get_by_label("Setup key").input_value()
    page.get_by_label("Code").fill(operator_code(secret))
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    recovery = page.locator(".recovery-codes li").first.inner_text().strip()

    page.goto("/settings/security")
    page.get_by_label("Require a second factor for everyone").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#require-second-factor .flash.ok")).to_have_text("Saved.")

    user = new_page()
    sign_in(user, "guarded", "gus@guarded.test")
    user.goto("/time")
    expect(user).to_have_url(re.compile(r"/settings/security\?next=%2Ftime$"))  # back there after
    expect(user.get_by_role("alert")).to_contain_text("requires a second factor for everyone")

    # Signing in again: the password first, then the code step (a recovery code here).
    again = new_page()
    sign_in(again, "guarded", admin)
    expect(again.get_by_role("alert")).to_contain_text("code")
    again.get_by_label("Password").fill(PASSWORD)
    again.get_by_label("Code").fill(recovery)
    again.get_by_role("button", name="Sign in").click()
    expect(again).to_have_url(re.compile(r"/time$"))
    assert refusals == []
