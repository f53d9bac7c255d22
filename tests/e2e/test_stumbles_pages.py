"""Issue #21's stumbles that show in the HTML, through the app with a fixed clock (no
browser): each test failed before its fix (docs/pages.md, "Stumbles of issue #21", names the
commit). The ones only a browser shows are in ``test_stumbles_browser.py``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import PASSWORD, add_user, api_client, bearer, signup, token

HTMX = {"HX-Request": "true"}
#: A browser's navigation asks for HTML first.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[TestClient[Any]]:
    # Wednesday of 2026-W50: that week has begun, the next has not.
    clock.set(datetime(2026, 12, 9, 10, 0, tzinfo=UTC))
    with api_client(make_settings(sqlite_url, tmp_path), clock) as test_client:
        signup(test_client, "trip")
        yield test_client


@pytest.fixture
def admin(client: TestClient[Any]) -> dict[str, str]:
    return bearer(token(client, "trip", "admin@trip.test"))


def _csrf(client: TestClient[Any]) -> str:
    if "csrftoken" not in client.cookies:
        client.get("/")
    return str(client.cookies["csrftoken"])


def _sign_in(client: TestClient[Any], slug: str, email: str) -> Any:
    form = {"tenant": slug, "email": email, "password": PASSWORD, "_csrf_token": _csrf(client)}
    return client.post("/signin", data=form, follow_redirects=False)


# --- Dead ends ------------------------------------------------------------------------------

def test_an_unknown_url_in_a_browser_is_the_html_not_found_page_and_api_clients_keep_problem_json(
    client: TestClient[Any],
) -> None:
    page = client.get("/no/such/page", headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in page.text and '<html lang="en">' in page.text

    for accept in ("application/json", "*/*", ""):
        answer = client.get("/no/such/page", headers={"Accept": accept} if accept else {})
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("application/problem+json"), accept
    # Under the API a browser gets the API's answer too: it is the API's URL space.
    api = client.get("/api/v1/no-such-thing", headers={"Accept": BROWSER_ACCEPT})
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/problem+json")


def test_a_cloud_user_with_role_none_signs_in_to_a_page_saying_why_and_naming_the_administrators(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    """It was a bare "Not found. Nothing is here." (the Time tab does not exist for them)."""
    add_user(client, token(client, "trip", "admin@trip.test"), "nora@trip.test", role="none")
    signed_in = _sign_in(client, "trip", "nora@trip.test")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
    landing = client.get("/")
    assert landing.status_code == 200
    assert "You are signed in to Trip, but your role is None" in landing.text
    assert "Nothing is here." not in landing.text
    assert 'href="mailto:admin@trip.test"' in landing.text
    # The Time tab itself still does not exist for them (SPEC: hidden in the cloud).
    assert client.get("/time").status_code == 404


def test_the_locked_door_says_who_to_ask(client: TestClient[Any]) -> None:
    """On-premises role None meets the locked door: it now names the administrators."""
    signup(client, "plant", deployment="onprem")
    add_user(client, token(client, "plant", "admin@plant.test"), "otto@plant.test", role="none")
    otto = bearer(token(client, "plant", "otto@plant.test"))
    door = client.get("/time", headers=otto)
    assert door.status_code == 403 and "This door is locked" in door.text
    assert "Ask one of your administrators:" in door.text
    assert 'href="mailto:admin@plant.test"' in door.text


# --- Feedback -------------------------------------------------------------------------------

def test_submit_is_not_offered_on_a_week_that_has_not_begun(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    this_week = client.get("/time?week=2026-W50", headers=admin).text
    assert "/time/weeks/2026-W50/submit" in this_week
    next_week = client.get("/time?week=2026-W51", headers=admin).text
    assert "/time/weeks/2026-W51/submit" not in next_week
    month = client.get("/time/month?month=2026-12", headers=admin).text
    assert "/time/weeks/2026-W49/submit" in month and "/time/weeks/2026-W50/submit" in month
    assert "/time/weeks/2026-W51/submit" not in month and "/time/weeks/2026-W52/submit" not in month


def test_a_submitted_week_offers_no_add_edit_or_delete_until_the_submission_is_revoked(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    body = {"started_at": "2026-12-08T09:00:00Z", "length_s": 3600}
    worklog = client.post("/api/v1/worklogs", json=body, headers=admin).json()
    open_week = client.get("/time?week=2026-W50", headers=admin).text
    assert f"/time/worklogs/{worklog['id']}/edit" in open_week and 'hx-post="/time/worklogs"' in open_week

    submitted = client.post("/time/weeks/2026-W50/submit", headers={**admin, **HTMX}).text
    assert '<strong class="week-status">submitted</strong>' in submitted
    for offered in (f"/time/worklogs/{worklog['id']}/edit", f"/time/worklogs/{worklog['id']}/delete",
                    'hx-post="/time/worklogs"'):
        assert offered not in submitted, offered
    assert "revoke the submission to change its worklogs" in submitted
    assert "Revoke submission" in submitted


def test_a_role_is_saved_by_its_save_button_not_on_every_change_of_the_dropdown(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    """Two ArrowDowns on the dropdown were two role changes (it posted on ``change``)."""
    tim = add_user(client, token(client, "trip", "admin@trip.test"), "tim@trip.test")
    page = client.get("/settings/users", headers=admin).text
    row = page.split(f'id="user-{tim["id"]}"', 1)[1].split("</tr>", 1)[0]
    role_form = row.split('<form class="role-form"', 1)[1].split("</form>", 1)[0]
    assert "hx-trigger" not in role_form  # htmx's trigger for a form: its submit
    assert 'aria-label="Save the new role for tim@trip.test">Save</button>' in role_form
    assert "<noscript>" not in role_form


def test_every_page_carries_the_loading_indicator_htmx_shows_while_a_request_runs(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    for path in ("/time", "/settings/subscription", "/settings/users"):
        page = client.get(path, headers=admin).text
        assert 'hx-indicator="#busy"' in page.split("<body", 1)[1].split(">", 1)[0], path
        assert '<p id="busy" class="htmx-indicator" role="status">Working…</p>' in page, path
    css = client.get("/static/stint.css").text
    assert ".htmx-indicator.htmx-request" in css and ".htmx-indicator { visibility: hidden; }" in css


def test_seats_0_replaces_the_purchase_preview_with_the_reason_instead_of_leaving_the_old_one(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    headers = {**admin, **HTMX}
    form = {"plan": "team", "interval": "annual"}
    preview = "/settings/subscription/purchase-preview"
    good = client.post(preview, headers=headers, data={**form, "seats": "3"})
    assert 'id="buy-confirm"' in good.text
    refused = client.post(preview, headers=headers, data={**form, "seats": "0"})
    assert refused.status_code == 422
    assert "HX-Retarget" not in refused.headers  # it replaces the preview, not only #flash
    assert refused.text.lstrip().startswith('<div id="purchase-preview"')
    assert "No preview: seats must be between 1 and 1,000,000." in refused.text
    assert "buy-confirm" not in refused.text and "Pay " not in refused.text


# --- A track under a minute: one rule on every path (docs/tracking.md) ----------------------

def _lengths(client: TestClient[Any], admin: dict[str, str]) -> list[int]:
    items = client.get("/api/v1/worklogs?from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z", headers=admin)
    assert items.status_code == 200, items.text
    return sorted(w["length_s"] for w in items.json()["items"])


def test_a_4_second_timer_is_kept_with_its_seconds_and_shown_as_0_00_04(
    client: TestClient[Any], admin: dict[str, str], clock: FixedClock
) -> None:
    """It was stored as 4 seconds and shown as 0:00, while the page refused 0 by hand."""
    assert client.post("/api/v1/tracking/start", headers=admin, json={}).status_code in (200, 201)
    clock.advance(seconds=4)
    stopped = client.post("/api/v1/tracking/stop", headers=admin)
    assert stopped.status_code == 200, stopped.text
    assert _lengths(client, admin) == [4]
    week = client.get("/time?week=2026-W50", headers=admin).text
    assert "<td>0:00:04</td>" in week and "<td>0:00</td>" not in week


def test_a_track_under_a_minute_is_added_by_hand_through_the_api_and_by_import_and_zero_nowhere(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    headers = {**admin, **HTMX}
    by_hand = {"day": "2026-12-08", "start": "09:00", "comment": "short"}
    added = client.post("/time/worklogs", headers=headers, data={**by_hand, "hours": "4s"})
    assert added.status_code == 200 and "0:00:04" in added.text, added.text
    for typed in ("0:00", "0s", "0"):
        refused = client.post("/time/worklogs", headers=headers, data={**by_hand, "hours": typed})
        assert refused.status_code == 422 and "at least a second" in refused.text, typed

    api = client.post("/api/v1/worklogs", headers=admin,
                      json={"started_at": "2026-12-08T10:00:00Z", "length_s": 4})
    assert api.status_code == 201, api.text
    assert client.post("/api/v1/worklogs", json={"started_at": "2026-12-08T11:00:00Z", "length_s": 0},
                       headers=admin).status_code == 422

    header = "User,Timestamp,Duration (hours),Billable duration,Activity type,Comment,Work item\r\n"
    imported = client.post("/api/v1/worklogs/import", headers={**admin, "Content-Type": "text/csv"},
                           content=(header + "admin@trip.test,2026-12-08T12:00:00Z,0.001,,,,\r\n").encode())
    assert imported.status_code == 201, imported.text  # 3.6 seconds, kept as 4
    zero = client.post("/api/v1/worklogs/import", headers={**admin, "Content-Type": "text/csv"},
                       content=(header + "admin@trip.test,2026-12-08T13:00:00Z,0.0001,,,,\r\n").encode())
    assert zero.status_code == 422 and zero.json()["errors"][0]["line"] == 2
    assert _lengths(client, admin) == [4, 4, 4]


def test_a_typed_duration_reads_seconds_too() -> None:
    from core.errors import ValidationFailed
    from core.tracking.cells import parse_duration

    assert [parse_duration(t) for t in ("45s", "45 sec", "0:00:45", "1:30", "1:30:15")] == [
        45, 45, 45, 5400, 5415,
    ]
    with pytest.raises(ValidationFailed, match="45s"):
        parse_duration("soon")
