"""Screenshots for the README (docs/screenshots/*.png), taken from a real ``stint serve``: the
demo's (``stint demo``: weeks of worklogs, an approval waiting) for the Time tab, the Times
Explorer and Approvals, at 1366 px and on a phone (390 px); pages the demo does not reach
(the trial banner, a quote, the console) from tenants seeded through the API.

Not part of ``make test`` (the file name does not start with ``test_``). Run it by hand:

    .venv/bin/pytest tests/e2e/screenshots.py -p no:cacheprovider
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import (
    PASSWORD,
    Api,
    Server,
    _free_port,
    base_env,
    htmx_settled,
    operator_code,
    serve_stint,
    sign_in,
)
from .test_budget_pages import seed_budget

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


#: The demo's password (plugins/demo.py); the logins are printed by ``stint demo``.
DEMO_PASSWORD = "stint-demo-2026"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _shot(page: Any, name: str, *, full_page: bool = True) -> None:
    """A PNG under docs/screenshots; ``full_page`` False keeps to the window (long pages
    would make files of megabytes: each PNG stays under 300 KB)."""
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page)


def _shot_from(page: Any, name: str, locator: Any, height: int) -> None:
    """A window-wide PNG from just above ``locator`` down ``height`` pixels (the part of a long
    page the picture is about, at the window's width)."""
    box = locator.bounding_box()
    assert box is not None, name
    top = max(0, int(box["y"] + page.evaluate("window.scrollY")) - 12)
    width = page.viewport_size["width"]
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True,
                    clip={"x": 0, "y": top, "width": width, "height": height})


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``stint demo`` loaded into a fresh home, then ``stint serve`` on it."""
    home = tmp_path_factory.mktemp("stint-demo")
    port = _free_port()
    env = base_env(home, port)
    stint = Path(sys.executable).parent / "stint"
    subprocess.run([str(stint), "demo"], check=True, env=env, cwd=home, capture_output=True, text=True)
    with serve_stint(home, port, env) as served:
        yield served


def _demo_page(browser: Any, demo: Server, email: str, viewport: dict[str, int]) -> Any:
    context = browser.new_context(base_url=demo.base, viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, "demo-cloud", email, DEMO_PASSWORD)
    return page


def test_take_the_demo_screenshots(browser: Any, demo: Server) -> None:
    """The Time tab with the demo's week (desktop and phone), the Times Explorer grouped by
    user, and Approvals with last week waiting (desktop and phone)."""
    dana = _demo_page(browser, demo, "dev@demo.test", DESKTOP)
    expect(dana.locator("#week table.worklogs tbody tr").first).to_be_visible()
    dana.goto("/time?week=" + _last_week())
    expect(dana.locator("#week td.comment").first).to_be_visible()
    _shot(dana, "time-tab", full_page=False)

    phone = _demo_page(browser, demo, "dev@demo.test", PHONE)
    phone.goto("/time?week=" + _last_week())
    expect(phone.locator("#week td.comment").first).to_be_visible()
    _shot_from(phone, "time-tab-phone", phone.locator("#week"), 844)

    ada = _demo_page(browser, demo, "admin@demo.test", DESKTOP)
    ada.goto("/explorer/")
    results = ada.locator("table.groups, table.explorer").first
    expect(results).to_be_visible()
    _shot_from(ada, "explorer", results, 700)
    ada.goto("/approvals")
    expect(ada.locator("main")).to_contain_text("Dana Developer")
    _shot(ada, "approvals", full_page=False)

    ada_phone = _demo_page(browser, demo, "admin@demo.test", PHONE)
    ada_phone.goto("/approvals")
    expect(ada_phone.locator("main")).to_contain_text("Dana Developer")
    _shot(ada_phone, "approvals-phone", full_page=False)
    for page in (dana, phone, ada, ada_phone):
        page.context.close()


def _last_week() -> str:
    """Last week's id: the demo's week waiting for approval, full of worklogs."""
    year, week, _ = (datetime.now(UTC).date() - timedelta(days=7)).isocalendar()
    return f"{year}-W{week:02d}"


def test_take_the_readme_screenshots(api: Api, new_page: Any) -> None:
    """Trial banner, Subscription with a quote, User Management and the console, as PNGs (the
    Time tab is the demo's, above)."""
    admin = api.signup("northwind")
    for email, role in (("ana@northwind.test", "team"), ("ben@northwind.test", "product"),
                        ("cy@northwind.test", "none")):
        api.add_user("northwind", email, role, name=email.split("@")[0].title() + " Example")


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
