"""The Reporting settings page in Chromium: on a phone's width, by keyboard, and its copy button."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import expect

from .conftest import Api, Server, htmx_settled, sign_in

PHONE = {"width": 390, "height": 844}


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px screen"


def test_on_a_phone_a_read_only_token_is_made_copied_and_revoked_by_keyboard(
    api: Api, browser: Any, server: Server
) -> None:
    api.signup("reporting-phone")
    api.add_user("reporting-phone", "pia@reporting-phone.test", "product")
    context = browser.new_context(base_url=server.base, viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    # The copy button writes to the clipboard; the test reads it back to see what was copied.
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base)
    try:
        page = context.new_page()
        sign_in(page, "reporting-phone", "pia@reporting-phone.test")
        # A phone folds the menu behind its button.
        page.get_by_role("button", name="Menu").click()
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Reporting").click()
        expect(page.get_by_role("heading", name="Settings · Reporting")).to_be_visible()
        feed = page.get_by_label("OData feed URL")
        expect(feed).to_have_value(f"{server.base}/api/odata/v1/")
        _no_sideways_scroll(page)

        page.get_by_label("Expires after").select_option("30")
        create = page.get_by_role("button", name="Create a read-only token")
        create.focus()
        page.keyboard.press("Enter")
        secret_field = page.get_by_label("Token (Reporting (Excel/Power BI)", exact=False)
        expect(secret_field).to_be_visible()
        htmx_settled(page)
        secret = secret_field.input_value()
        assert secret.startswith("stint_pat_")
        _no_sideways_scroll(page)

        # Revoke is on the screen beside its token, not off to the side of a wide table.
        revoke_box = page.get_by_role("button", name="Revoke the token created", exact=False).bounding_box()
        assert revoke_box is not None and revoke_box["x"] + revoke_box["width"] <= PHONE["width"]
        page.locator("#new-token button[data-copy]").click()
        expect(page.locator("#new-token-copied")).to_have_text("Copied.")
        assert page.evaluate("() => navigator.clipboard.readText()") == secret

        # The token reads reports and nothing else, straight away.
        tool = {"Authorization": f"Bearer {secret}"}
        assert httpx.get(f"{server.base}/api/v1/user-rates", headers=tool).status_code == 200
        assert httpx.get(f"{server.base}/api/v1/worklogs", headers=tool).status_code == 403

        revoke = page.get_by_role("button", name="Revoke the token created", exact=False)
        revoke.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_text("Revoked.")).to_be_visible()
        expect(page.get_by_text("You have no read-only reporting tokens.")).to_be_visible()
        assert httpx.get(f"{server.base}/api/v1/user-rates", headers=tool).status_code == 401
    finally:
        context.close()
