"""User Management and the operator console in a real browser, and a tenant blocked by an
ended trial."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from .conftest import PASSWORD, Api, operator_code, sign_in


def test_user_management_changes_a_role_inline_and_licences_move_the_seat_count(
    api: Api, new_page: Any
) -> None:
    """An admin changes a role from its select and unlicenses a user; the seat count follows."""
    admin = api.signup("people")
    user = api.add_user("people", "uma@people.test", "team")
    worker = new_page()
    sign_in(worker, "people", "uma@people.test")  # first use takes a seat
    page = new_page()
    sign_in(page, "people", admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="User Management").click()
    expect(page).to_have_url(re.compile(r"/settings/users$"))
    row = page.locator(f"#user-{user['id']}")
    expect(page.locator(".seatcount")).to_contain_text("2 licensed")
    row.get_by_label("Role of uma@people.test").select_option("product")
    # An explicit Save (issue #21: the dropdown saved on every change).
    row.get_by_role("button", name="Save the new role for uma@people.test").click()
    expect(page.locator("#users .flash.ok")).to_contain_text("Saved uma@people.test")
    expect(page.locator(f"#user-{user['id']}").get_by_label("Role of uma@people.test")).to_have_value(
        "product"
    )
    page.locator(f"#user-{user['id']}").get_by_role("button", name="Unlicense: uma@people.test").click()
    expect(page.locator(".seatcount")).to_contain_text("1 licensed")
    page.reload()
    expect(page.locator(f"#user-{user['id']}").get_by_label("Role of uma@people.test")).to_have_value(
        "product"
    )


def test_the_operator_console_ends_a_trial_and_the_tenant_is_blocked_except_the_way_to_buy(
    api: Api, new_page: Any
) -> None:
    """An operator ends a trial in the console; users then see the blocked page, admins the way to buy."""
    admin = api.signup("ending-soon")
    api.add_user("ending-soon", "bo@ending-soon.test", "team")
    secret = api.operator("ops@stint.test")
    console = new_page()
    console.goto("/admin")
    console.get_by_label("E-mail").fill("ops@stint.test")
    console.get_by_label("Password").fill(PASSWORD)
    console.get_by_label("Code").fill(operator_code(secret))
    console.get_by_role("button", name="Sign in").click()
    console.get_by_label("Search by slug").fill("ending")
    expect(console.locator("#tenants tbody tr")).to_have_count(1)
    console.get_by_role("link", name="ending-soon").click()
    console.get_by_label(re.compile("Trial ends on")).fill(datetime.now(UTC).date().isoformat())
    console.get_by_role("button", name="Set trial end").click()
    expect(console.locator("#tenant .state")).to_have_text("expired")
    console.get_by_role("link", name="Audit log").click()
    expect(console.locator("#audit")).to_contain_text("trial.changed")
    # The operator's session is no tenant session.
    console.goto("/time")
    expect(console).to_have_url(re.compile(r"/\?next=/time$"))

    user = new_page()
    sign_in(user, "ending-soon", "bo@ending-soon.test")
    response = user.goto("/time")
    assert response is not None and response.status == 402
    expect(user.get_by_role("heading", name="The free trial has ended")).to_be_visible()
    expect(user.get_by_role("link", name="Buy Now")).to_have_count(0)

    owner = new_page()
    sign_in(owner, "ending-soon", admin)
    owner.goto("/time")
    owner.locator("main").get_by_role("link", name="Buy Now").click()
    expect(owner).to_have_url(re.compile(r"/settings/subscription"))
    expect(owner.locator("#subscription .status")).to_have_text("expired")
    expect(owner.locator("#buy-form")).to_be_visible()


def test_an_operator_issues_an_activation_file_that_the_on_premises_admin_installs(
    api: Api, new_page: Any, tmp_path: Any
) -> None:
    """The console's file for this server is uploaded on the Subscription page and activates it offline."""
    admin = api.signup("basement", deployment="onprem")
    secret = api.operator("files@stint.test")
    owner = new_page()
    sign_in(owner, "basement", admin)
    owner.goto("/settings/subscription")
    expect(owner.locator(".activation-mode")).to_have_text("not yet")
    server_id = owner.locator(".server-id").inner_text()

    console = new_page()
    console.goto("/admin")
    console.get_by_label("E-mail").fill("files@stint.test")
    console.get_by_label("Password").fill(PASSWORD)
    console.get_by_label("Code").fill(operator_code(secret))
    console.get_by_role("button", name="Sign in").click()
    console.get_by_role("link", name="Activation files").click()
    console.get_by_label("Tenant (slug)").fill("basement")
    console.get_by_label("Server ID").fill(server_id)
    console.get_by_label("Plan").select_option("team")
    console.get_by_label("Seats").fill("5")
    expires = datetime.now(UTC).date() + timedelta(days=365)
    console.get_by_label("Expires on").fill(expires.isoformat())
    with console.expect_download() as download:
        console.get_by_role("button", name="Issue and download").click()
    saved = tmp_path / "activation.txt"
    download.value.save_as(saved)

    owner.get_by_label(re.compile("Activation file")).set_input_files(str(saved))
    owner.get_by_role("button", name="Install file").click()
    expect(owner.locator("#subscription .flash.ok")).to_contain_text("Activation file installed")
    expect(owner.locator(".activation-mode")).to_have_text("offline, by activation file")
    expect(owner.locator("#trial-banner")).to_be_empty()
    # The licence now comes from the file: no Buy, change or cancel here, and where to make them.
    expect(owner.locator(".status")).to_contain_text("licensed by activation")
    expect(owner.locator(".managed")).to_contain_text("install the new activation file")
    expect(owner.locator("#buy, #change, form[action$='/cancel']")).to_have_count(0)
