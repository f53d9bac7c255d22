"""Work item automation in a real browser (issue #16, "Done when" 5): an Administrator
connects Azure DevOps and sets "leave Remaining Work" on the settings pages, logs time on
the Time tab, and the work-item job then changes the item's Completed Work only — checked
on the local Azure DevOps server (its REST API, 7.1, over TLS).

This module runs its own ``stint serve``: the session's server may not reach a loopback
DevOps host and does not trust the local server's certificate.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.integration.azure_devops_server import PAT, FakeAzureDevOps, self_signed_certificate, serve

from .conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Api,
    Server,
    _free_port,
    base_env,
    htmx_settled,
    require_chromium,
    serve_stint,
    sign_in,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def azure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeAzureDevOps, str, str]]:
    """The local Azure DevOps over https: (the fake, its URL, its certificate file)."""
    cert, key = self_signed_certificate(tmp_path_factory.mktemp("azure"))
    fake = FakeAzureDevOps()
    server, url = serve(fake, tls=(cert, key))
    yield fake, url, cert
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def devops_server(
    tmp_path_factory: pytest.TempPathFactory, azure: tuple[FakeAzureDevOps, str, str]
) -> Iterator[Server]:
    require_chromium()
    home = tmp_path_factory.mktemp("stint-e2e-devops")
    port = _free_port()
    env = base_env(home, port, **{
        # The local Azure DevOps: a loopback host, and a certificate of its own.
        "STINT_DEVOPS_ALLOW_PRIVATE_HOSTS": "1",
        "SSL_CERT_FILE": azure[2],
        # The test runs the job itself (`stint jobs run`); the server's own runs stay out of the way.
        "STINT_JOBS_EVERY": "86400",
    })
    with serve_stint(home, port, env) as served:
        yield served


@pytest.fixture(scope="module")
def page(devops_server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = chromium.new_context(base_url=devops_server.base, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        yield context.new_page()
        context.close()
        chromium.close()


def _run_work_items_job(server: Server) -> str:
    stint = Path(sys.executable).parent / "stint"
    done = subprocess.run(
        [str(stint), "jobs", "run", "work_items"], env=server.env, cwd=server.home,
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_with_leave_remaining_work_a_worklog_from_the_time_tab_changes_completed_work_only(
    devops_server: Server, azure: tuple[FakeAzureDevOps, str, str], page: Any
) -> None:
    fake, url, _ = azure
    item = str(fake.add(title="Checkout page", remaining=10.0, project="Web Shop"))
    api = Api(devops_server)
    api.signup("leave")
    api.http.close()
    sign_in(page, "leave", "admin@leave.test")

    page.goto("/settings/devops")
    page.get_by_label("Azure DevOps", exact=True).check()
    page.get_by_label("Organisation URL").fill(url)
    page.get_by_label("Project (optional)").fill("Web Shop")
    page.get_by_label("Personal access token").fill(PAT)
    page.locator("#devops-save").click()
    expect(page.locator("#devops")).to_contain_text("Connected to Azure DevOps.")

    # Worklogs name only items of the mirror: Sync now brings the item over from Azure DevOps.
    page.get_by_role("link", name="Work items").click()
    page.locator("#sync-now").get_by_role("button", name="Sync now").click()
    expect(page.locator("#main")).to_contain_text("Sync started")
    for _ in range(50):
        page.goto("/work-items/")
        if "Checkout page" in page.content():
            break
        page.wait_for_timeout(200)
    expect(page.get_by_text("Checkout page")).to_be_visible()
    page.goto("/settings/devops")

    page.get_by_role("link", name="Work item automation").click()
    page.get_by_label("leaving it as it is").check()
    page.locator("#automation-save").click()
    expect(page.locator("#work-item-automation")).to_contain_text("from its next run")
    expect(page.get_by_label("leaving it as it is")).to_be_checked()

    page.get_by_role("link", name="Time", exact=True).click()
    htmx_settled(page)
    form = page.locator("tr.add form")
    form.get_by_label("Start").fill("00:05")
    form.get_by_label("Hours").fill("1:30")
    form.get_by_label("Work item").fill(item)
    expect(form.get_by_label("Remaining Work (h)")).to_have_count(0)  # only in per_worklog mode
    form.get_by_role("button", name="Add").click()
    expect(page.locator("#week")).to_contain_text("1:30")

    output = _run_work_items_job(devops_server)
    assert "work_items: written=1" in output, output
    assert fake.field(item, "CompletedWork") == 1.5
    assert fake.field(item, "RemainingWork") == 10.0
    assert len(fake.items[int(item)]) == 2  # one write
