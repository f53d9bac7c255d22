"""The tenant pages in a real browser: banner and Buy Now, the live timer, role None,
CSRF and escaping."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .conftest import PASSWORD, Api, htmx_settled, operator_code, sign_in

FIVE_SECONDS = 5_000


def test_a_trial_admin_sees_the_countdown_buys_with_a_preview_and_the_banner_goes(
    api: Api, new_page: Any
) -> None:
    """A trialing tenant's collection admin sees 'Free Trial: 28 days left', then Buy Now, preview, buy."""
    admin = api.signup("trial-buyer")
    page = new_page()
    sign_in(page, "trial-buyer", admin)
    banner = page.locator("#trial-banner")
    expect(banner).to_contain_text("Free Trial: 28 days left")
    page.get_by_text("Why am I seeing this?").click()
    expect(banner).to_contain_text("Only project collection administrators see the free-trial countdown")
    banner.get_by_role("link", name="Buy Now").click()
    expect(page).to_have_url(re.compile(r"/settings/subscription"))
    form = page.locator("#buy-form")
    form.get_by_label("Plan").select_option("team")
    form.get_by_label("Interval").select_option("annual")
    form.get_by_label("Seats").fill("3")
    page.locator("#preview-purchase").click()
    # 3 seats × 12 × 12.00 = 432.00, the first invoice (SPEC §3), said in one sentence.
    preview = page.locator("#purchase-preview")
    expect(preview.locator(".confirm-sentence")).to_have_text(
        re.compile(r"^Pay 432\.00 USD now, renews on \d{4}-\d\d-\d\d at 432\.00 USD\.$")
    )
    htmx_settled(page)
    # Buy asks first, with that sentence (issue #21: it used to buy on one click).
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    page.locator("#buy-confirm").click()
    expect(page.locator("#subscription .status")).to_have_text("active")
    assert len(asked) == 1 and re.fullmatch(
        r"Pay 432\.00 USD now, renews on \d{4}-\d\d-\d\d at 432\.00 USD\. Buy now\?", asked[0]
    ), asked
    expect(page.locator("#subscription table.invoices .number")).to_have_text(
        re.compile(r"^STINT-\d{4}-000001$")
    )
    expect(banner).to_be_empty()
    page.reload()
    expect(page.locator("#trial-banner")).to_be_empty()
    expect(page.get_by_text("Free Trial")).to_have_count(0)


def test_a_seat_change_shows_its_per_day_quote_before_it_is_confirmed(api: Api, new_page: Any) -> None:
    """After buying, raising seats previews the proration line with L, the day values and the amount."""
    admin = api.signup("quoted")
    page = new_page()
    sign_in(page, "quoted", admin)
    page.goto("/settings/subscription")
    page.locator("#buy-form").get_by_label("Seats").fill("3")
    expect(page.locator("#purchase-preview .confirm-sentence")).to_contain_text("Pay 432.00 USD now")
    htmx_settled(page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#buy-confirm").click()
    expect(page.locator("#subscription .status")).to_have_text("active")
    htmx_settled(page)  # the change form came in with that swap: typing before it is wired is lost
    change = page.locator("#change-form")
    change.get_by_label("Seats").fill("5")
    quote = page.locator("#quote")
    # One sentence first; the per-day arithmetic is folded away until asked for.
    sentence = quote.locator(".confirm-sentence")
    expect(sentence).to_have_text(
        re.compile(r"^Pay 288\.00 USD now, renews on \d{4}-\d\d-\d\d at 720\.00 USD\.$")
    )
    table = quote.locator("table")
    expect(table).to_be_hidden()
    htmx_settled(page)
    quote.get_by_text("How is this computed?").click()
    expect(table).to_be_visible()
    # Changed on the period's first day: L is the whole period, 2 seats × 144.00 = 288.00 charged.
    expect(quote).to_contain_text("3 → 5 seats")
    expect(quote.locator("tbody tr").first).to_contain_text(re.compile(r"36[56] of 36[56]"))
    expect(quote.locator("tbody tr").first).to_contain_text("288.00 USD")
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    page.locator("#change-confirm").click()
    expect(page.locator("#subscription .seats")).to_contain_text("5")
    assert len(asked) == 1 and asked[0].startswith("Pay 288.00 USD now, renews on "), asked
    assert asked[0].endswith(" at 720.00 USD. Apply this change now?"), asked
    expect(page.locator("#subscription table.invoices .number").first).to_have_text(
        re.compile(r"^STINT-\d{4}-000002$")
    )


def test_a_regular_user_sees_no_banner_and_cannot_open_the_subscription_page(api: Api, new_page: Any) -> None:
    """A Team user of a trialing tenant sees no banner, no Subscription link, and is refused the page."""
    api.signup("regulars")
    api.add_user("regulars", "rex@regulars.test", "team")
    page = new_page()
    sign_in(page, "regulars", "rex@regulars.test")
    expect(page).to_have_url(re.compile(r"/time$"))
    expect(page.locator("#trial-banner")).to_be_empty()
    expect(page.get_by_role("link", name="Subscription")).to_have_count(0)
    response = page.goto("/settings/subscription")
    assert response is not None and response.status == 403
    expect(page.get_by_text("Free Trial")).to_have_count(0)


def test_a_timer_started_in_one_browser_shows_running_in_another_and_stops_from_there(
    api: Api, new_page: Any
) -> None:
    """Two devices of one user: a start on one shows on the other within 5 s; a stop there stops both."""
    api.signup("live-timer")
    api.add_user("live-timer", "tess@live-timer.test", "team")
    build = api.work_item("live-timer", "Fix the build")
    first, second = new_page(), new_page()
    sign_in(first, "live-timer", "tess@live-timer.test")
    sign_in(second, "live-timer", "tess@live-timer.test")
    expect(second.locator("#timer")).to_have_attribute("data-running", "false")
    start = first.locator("form.start")
    start.get_by_label("Work item").fill(str(build))
    start.get_by_label("Comment").fill("fixing the build")
    first.locator("#start").click()
    expect(first.locator("#timer")).to_have_attribute("data-running", "true")
    expect(second.locator("#timer")).to_have_attribute("data-running", "true", timeout=FIVE_SECONDS)
    expect(second.locator("#timer")).to_contain_text("fixing the build")
    expect(second.locator("#timer")).to_contain_text("Fix the build")  # the item's title
    second.locator("#stop").click()
    expect(second.locator("#timer")).to_have_attribute("data-running", "false")
    expect(first.locator("#timer")).to_have_attribute("data-running", "false", timeout=FIVE_SECONDS)


def test_role_none_on_premises_sees_the_locked_door_on_every_time_page(api: Api, new_page: Any) -> None:
    """On-premises, role None keeps the Time tab and every Time page says 'This door is locked'."""
    api.signup("server-room", deployment="onprem")
    api.add_user("server-room", "nora@server-room.test", "none")
    page = new_page()
    sign_in(page, "server-room", "nora@server-room.test")
    for path in ("/time", "/time/month", "/time/week", "/time/timer"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("heading", name="This door is locked")).to_be_visible()
        expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Time")).to_be_visible()


def test_role_none_in_the_cloud_has_no_time_tab_and_its_address_is_not_found(api: Api, new_page: Any) -> None:
    """In the cloud, role None sees no Time tab anywhere and /time answers 404."""
    api.signup("cloud-none")
    api.add_user("cloud-none", "nils@cloud-none.test", "none")
    page = new_page()
    sign_in(page, "cloud-none", "nils@cloud-none.test")
    expect(page.get_by_role("link", name="Time")).to_have_count(0)
    for path in ("/time", "/time/month"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        expect(page.get_by_role("link", name="Time")).to_have_count(0)
        expect(page.get_by_text("This door is locked")).to_have_count(0)


def test_a_form_posted_without_its_csrf_token_is_refused(api: Api, new_page: Any) -> None:
    """The start form with its token (field and htmx header) removed is refused and starts nothing."""
    api.signup("forged")
    api.add_user("forged", "fay@forged.test", "team")
    page = new_page()
    sign_in(page, "forged", "fay@forged.test")
    page.evaluate("""() => {
        document.body.removeAttribute('hx-headers');
        document.querySelectorAll('input[name=_csrf_token]').forEach(e => e.remove());
    }""")
    page.locator("#start").click()
    expect(page.locator("#flash")).to_contain_text("did not come from Stint")
    page.reload()
    expect(page.locator("#timer")).to_have_attribute("data-running", "false")
    # Without JavaScript in the way: a plain cross-site style POST with the session cookie only.
    response = page.request.post("/time/start", form={"comment": "forged"})
    assert response.status == 403
    page.reload()
    expect(page.locator("#timer")).to_have_attribute("data-running", "false")


def test_a_comment_with_a_script_tag_is_shown_as_text(api: Api, new_page: Any) -> None:
    """A worklog comment '<script>alert(1)</script>' is rendered as text and never runs."""
    api.signup("escaped")
    api.add_user("escaped", "eve@escaped.test", "team")
    page = new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, "escaped", "eve@escaped.test")
    add = page.locator("tr.add form")
    add.get_by_label("Hours").fill("1:30")
    add.get_by_label("Comment").fill("<script>alert(1)</script>")
    add.get_by_role("button", name="Add").click()
    cell = page.locator("#week td.comment").first
    expect(cell).to_have_text("<script>alert(1)</script>")
    page.reload()
    expect(page.locator("#week td.comment").first).to_have_text("<script>alert(1)</script>")
    assert dialogs == []
    expect(page.locator("#week tfoot")).to_contain_text("1:30")


def test_the_pages_work_under_the_strict_content_security_policy(api: Api, new_page: Any) -> None:
    """Under script-src 'self' with a nonce the Time tab starts a timer and empties its form,
    the error page's Go back works, the console signs in, and Chromium reports no violation."""
    api.signup("strict-csp")
    api.add_user("strict-csp", "cora@strict-csp.test", "team")
    secret = api.operator("csp-ops@vendor.test")
    page = new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    sign_in(page, "strict-csp", "cora@strict-csp.test")
    start = page.locator("form.start")
    start.get_by_label("Comment").fill("under the policy")
    page.locator("#start").click()
    expect(page.locator("#timer")).to_have_attribute("data-running", "true")
    expect(start.get_by_label("Comment")).to_have_value("")  # stint.js reset it
    response = page.goto("/time?week=9999-W52")
    assert response is not None and response.status == 422
    page.get_by_role("link", name="Go back").click()
    expect(page).to_have_url(re.compile(r"/time$"))
    page.goto("/admin")
    page.get_by_label("E-mail").fill("csp-ops@vendor.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code").fill(operator_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Console")).to_be_visible()
    page.goto("/docs")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stint API")
    assert violations == []
