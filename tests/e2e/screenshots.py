"""Screenshots for the README (docs/screenshots/*.png), taken from a real ``stint serve``.

Not part of ``make test`` (the file name does not start with ``test_``). Run it by hand:

    .venv/bin/pytest tests/e2e/screenshots.py -p no:cacheprovider
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from .conftest import PASSWORD, Api, htmx_settled, operator_code, sign_in
from .test_budget_pages import seed_budget

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _shot(page: Any, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def test_take_the_readme_screenshots(api: Api, new_page: Any) -> None:
    """Time tab, trial banner, Subscription with a quote, User Management and the console, as PNGs."""
    admin = api.signup("northwind")
    for email, role in (("ana@northwind.test", "team"), ("ben@northwind.test", "product"),
                        ("cy@northwind.test", "none")):
        api.add_user("northwind", email, role, name=email.split("@")[0].title() + " Example")

    planning, review, build = (api.work_item("northwind", title) for title in (
        "Sprint planning", "Import review", "Flaky build"))
    page = new_page()
    sign_in(page, "northwind", "ana@northwind.test")
    add = page.locator("tr.add form")
    for start, hours, item, comment in (("09:00", "2:15", str(planning), "Sprint planning"),
                                        ("11:30", "1:30", str(review), "Review of the import")):
        add = page.locator("tr.add form")
        add.get_by_label("Start").fill(start)
        add.get_by_label("Hours").fill(hours)
        add.get_by_label("Work item").fill(item)
        add.get_by_label("Comment").fill(comment)
        add.get_by_role("button", name="Add").click()
        expect(page.locator("#week td.comment", has_text=comment)).to_be_visible()
    start_form = page.locator("form.start")
    start_form.get_by_label("Work item").fill(str(build))
    start_form.get_by_label("Comment").fill("Fixing the flaky build")
    page.locator("#start").click()
    expect(page.locator("#timer")).to_have_attribute("data-running", "true")
    page.wait_for_timeout(2500)
    _shot(page, "time-tab")

    owner = new_page()
    sign_in(owner, "northwind", admin)
    owner.get_by_text("Why am I seeing this?").click()
    _shot(owner, "trial-banner")

    owner.goto("/settings/subscription")
    owner.locator("#buy-form").get_by_label("Seats").fill("10")
    expect(owner.locator("#purchase-preview")).to_contain_text("Pay 1,440.00 USD now")
    htmx_settled(owner)
    owner.once("dialog", lambda dialog: dialog.accept())  # Buy asks with the amount first
    owner.locator("#buy-confirm").click()
    expect(owner.locator("#subscription .status")).to_have_text("active")
    htmx_settled(owner)
    owner.locator("#change-form").get_by_label("Seats").fill("14")
    expect(owner.locator("#quote")).to_contain_text("USD")
    owner.locator("#quote").scroll_into_view_if_needed()
    _shot(owner, "subscription-quote")

    owner.goto("/settings/users")
    _shot(owner, "user-management")

    secret = api.operator("support@stint.test")
    console = new_page()
    console.goto("/admin")
    console.get_by_label("E-mail").fill("support@stint.test")
    console.get_by_label("Password").fill(PASSWORD)
    console.get_by_label("Code").fill(operator_code(secret))
    console.get_by_role("button", name="Sign in").click()
    expect(console.locator("#tenants")).to_contain_text("northwind")
    _shot(console, "operator-console")
    console.get_by_role("link", name="northwind").click()
    ends = (datetime.now(UTC) + timedelta(days=40)).date().isoformat()
    expect(console.locator("#tenant")).to_contain_text("Invoices")
    console.get_by_label("Trial ends on", exact=False).fill(ends)
    _shot(console, "operator-console-tenant")


def test_take_the_budgets_screenshot(api: Api, new_page: Any) -> None:
    """A budget's page: its burn bars, the hours and money burn-down charts and the breakdowns."""
    seeded = seed_budget(api, "contoso")
    page = new_page()
    sign_in(page, "contoso", seeded["admin"])
    page.goto("/budgets")
    page.get_by_role("link", name="Checkout redesign").click()
    expect(page.locator("#chart-money svg.burndown")).to_be_visible()
    _shot(page, "budgets")


def test_take_the_reporting_screenshot(api: Api, new_page: Any) -> None:
    """Settings · Reporting: the feed URL, a read-only token just made (shown once), the list, the steps."""
    api.signup("fabrikam")
    api.add_user("fabrikam", "pia@fabrikam.test", "product", name="Pia Example")
    page = new_page()
    sign_in(page, "fabrikam", "pia@fabrikam.test")
    page.goto("/settings/reporting")
    page.get_by_label("Expires after").select_option("90")
    page.get_by_role("button", name="Create a read-only token").click()
    expect(page.locator("#new-token-value")).to_be_visible()
    htmx_settled(page)
    _shot(page, "reporting-settings")


def test_take_the_reports_screenshot(api: Api, new_page: Any) -> None:
    """The Reports page over the Budgets screenshot's data: three weeks on a feature's tasks."""
    seeded = seed_budget(api, "reports-shot")
    page = new_page()
    sign_in(page, "reports-shot", seeded["admin"])
    page.goto("/reports/")
    expect(page.locator("#widget-time-day svg.bars")).to_be_visible()
    _shot(page, "reports")
