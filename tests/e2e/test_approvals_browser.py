"""Approval end to end in a real browser (issue #17, "Done when" 3): the user submits, the
approver gets a mail (aiosmtpd), rejects with a note, the user reads the note, fixes the
week, resubmits, revokes, resubmits, the approver approves; the week is then locked (423 on
an edit through the API). Then bulk approve with its confirmation naming the count.

This module runs its own ``stint serve`` with an SMTP server: the session's server sends no mail.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from core.tracking import week_of
from tests.support.mail import Inbox, smtp_inbox

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

SLUG = "approvals-e2e"


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with smtp_inbox() as (handler, port):
        handler.port = port  # type: ignore[attr-defined]
        yield handler


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory: pytest.TempPathFactory, inbox: Inbox) -> Iterator[Server]:
    require_chromium()
    home = tmp_path_factory.mktemp("stint-e2e-approvals")
    port = _free_port()
    env = base_env(home, port, **{
        "STINT_SMTP_URL": f"smtp://127.0.0.1:{inbox.port}",  # type: ignore[attr-defined]
        "STINT_SMTP_FROM": "time@stint.test",
    })
    with serve_stint(home, port, env) as served:
        yield served


@pytest.fixture(scope="module")
def chromium(mail_server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def seeded(mail_server: Server) -> Iterator[dict[str, Any]]:
    """The tenant: its admin (a global approval manager), Ann and Bob (Team) whose approver is Pam."""
    api = Api(mail_server)
    api.signup(SLUG)
    ann = api.add_user(SLUG, f"ann@{SLUG}.test", "team", "Ann Owner")
    bob = api.add_user(SLUG, f"bob@{SLUG}.test", "team", "Bob Owner")
    pam = api.add_user(SLUG, f"pam@{SLUG}.test", "team", "Pam Approver")
    admin = {"Authorization": f"Bearer {api.token(SLUG, f'admin@{SLUG}.test')}"}
    for owner in (ann, bob):
        response = api.http.put(f"/api/v1/users/{owner['id']}/approvers",
                                json={"approver_ids": [pam["id"]]}, headers=admin)
        assert response.status_code == 200, response.text
    yield {"api": api, "ann": ann, "bob": bob, "pam": pam}
    api.http.close()


def _page(browser: Any, server: Server) -> Any:
    context = browser.new_context(base_url=server.base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    return context.new_page()


def _wait_for_mail(inbox: Inbox, address: str, count: int) -> list[str]:
    # Mail is sent after the step's commit, while the page is already answering: poll for it.
    deadline = time.monotonic() + 10
    while len(inbox.to(address)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return inbox.to(address)


def _log(api: Api, headers: dict[str, str], started_at: datetime, comment: str) -> httpx.Response:
    body = {"started_at": started_at.isoformat(), "length_s": 1800, "comment": comment}
    return api.http.post("/api/v1/worklogs", json=body, headers=headers)


def _in_one_week(started: datetime) -> datetime:
    """``started``, or later on the same day, so that the worklogs the test puts up to an hour
    before it lie in its ISO week (UTC, the tenant's zone) too. Run early on a Monday,
    ``now − 2 h − 40 min`` fell in the week before, and the week's total showed one worklog."""
    monday = datetime.combine(started.date() - timedelta(days=started.weekday()), dt_time(), UTC)
    return max(started, monday + timedelta(hours=1))


def test_a_week_goes_from_submission_through_rejection_and_revocation_to_approval(
    chromium: Any, mail_server: Server, seeded: dict[str, Any], inbox: Inbox
) -> None:
    api: Api = seeded["api"]
    ann_email, pam_email = seeded["ann"]["email"], seeded["pam"]["email"]
    ann_api = {"Authorization": f"Bearer {api.token(SLUG, ann_email)}"}
    started = _in_one_week(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2))
    week = str(week_of(started.date()))
    assert _log(api, ann_api, started, "first draft").status_code == 201

    ann = _page(chromium, mail_server)
    sign_in(ann, SLUG, ann_email)
    ann.goto(f"/time?week={week}")
    ann.get_by_role("button", name="Submit week").click()
    htmx_settled(ann)
    expect(ann.locator(".week-status")).to_have_text("submitted")
    assert _wait_for_mail(inbox, pam_email, 1) == [f"Stint: Ann Owner submitted {week}"]

    pam = _page(chromium, mail_server)
    sign_in(pam, SLUG, pam_email)
    pam.get_by_role("link", name="Approvals").click()
    row = pam.locator(f"tr[data-user='{seeded['ann']['id']}'][data-week='{week}']")
    expect(row).to_be_visible()
    row.get_by_placeholder("What to fix").fill("Tuesday's stand-up is missing")
    row.get_by_role("button", name="Reject").click()
    htmx_settled(pam)
    expect(pam.locator("#queue .flash.ok")).to_contain_text(f"Rejected {week}")
    assert _wait_for_mail(inbox, ann_email, 1) == [f"Stint: your week {week} was rejected"]

    ann.goto(f"/time?week={week}")
    expect(ann.locator(".rejection-note")).to_have_text("Rejected: Tuesday's stand-up is missing")
    assert _log(api, ann_api, started - timedelta(minutes=40), "stand-up").status_code == 201
    ann.get_by_role("button", name="Submit week").click()
    htmx_settled(ann)
    expect(ann.locator(".week-status")).to_have_text("submitted")
    ann.goto(f"/time?week={week}")
    ann.get_by_role("button", name="Revoke submission").click()
    ann.wait_for_load_state("domcontentloaded")
    expect(ann.locator(".week-status")).to_have_text("open")
    ann.get_by_role("button", name="Submit week").click()
    htmx_settled(ann)
    expect(ann.locator(".week-status")).to_have_text("submitted")

    pam.goto("/approvals")
    row = pam.locator(f"tr[data-user='{seeded['ann']['id']}'][data-week='{week}']")
    expect(row.locator(".tracked")).to_have_text("1:00")  # both worklogs: 2 × 30 minutes
    row.get_by_role("button", name="Approve").click()
    htmx_settled(pam)
    expect(pam.locator("#queue .flash.ok")).to_contain_text(f"Approved {week}")
    assert _wait_for_mail(inbox, ann_email, 2)[-1] == f"Stint: your week {week} was approved"

    ann.goto(f"/time?week={week}")
    expect(ann.locator(".week-status")).to_have_text("approved")
    assert _log(api, ann_api, started - timedelta(hours=1), "too late").status_code == 423


def test_the_approver_approves_several_weeks_at_once_after_confirming_the_count(
    chromium: Any, mail_server: Server, seeded: dict[str, Any]
) -> None:
    api: Api = seeded["api"]
    bob_api = {"Authorization": f"Bearer {api.token(SLUG, seeded['bob']['email'])}"}
    now = datetime.now(UTC).replace(microsecond=0)
    weeks = []
    for back in (1, 2):
        started = now - timedelta(weeks=back)
        assert _log(api, bob_api, started, "bulk").status_code == 201
        week = str(week_of(started.date()))
        weeks.append(week)
        assert api.http.post(f"/api/v1/weeks/{week}/submit", headers=bob_api).status_code == 200

    pam = _page(chromium, mail_server)
    sign_in(pam, SLUG, seeded["pam"]["email"])
    pam.goto("/approvals")
    for week in weeks:
        pam.get_by_label(f"Select Bob Owner {week}").check()
    asked: list[str] = []

    def confirm(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    pam.on("dialog", confirm)
    pam.get_by_role("button", name="Approve selected").click()
    htmx_settled(pam)
    expect(pam.locator("#queue .flash.ok")).to_have_text("Approved 2 week(s).")
    assert asked == ["Approve 2 week(s)?"]
    done = api.http.get("/api/v1/approvals?state=approved", headers={
        "Authorization": f"Bearer {api.token(SLUG, seeded['pam']['email'])}"}).json()["items"]
    assert {i["week"] for i in done} >= set(weeks)
