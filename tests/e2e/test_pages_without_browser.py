"""Page rules checked through the app with a fixed clock (no browser needed): the session
(renewal, concurrent renewals, sign-out, bearer tokens, no open redirect), CSRF, the
activity-check prompt, and durations as typed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from core.errors import ValidationFailed
from tests.conftest import make_settings
from tests.support.api import PASSWORD, add_user, api_client, bearer, signup, token
from web.pages.session import ACCESS_COOKIE, REFRESH_COOKIE
from web.pages.time import parse_duration


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[TestClient[Any]]:
    with api_client(make_settings(sqlite_url, tmp_path), clock) as test_client:
        signup(test_client, "pages")
        add_user(test_client, token(test_client, "pages", "admin@pages.test"), "tim@pages.test")
        yield test_client


def confirmed(html: str) -> str:
    """The confirmation the page's Buy or Confirm change sends: the terms and amount shown."""
    found = re.search(r'name="confirmed" value="([^"]*)"', html)
    assert found, "no confirmation on the page"
    return found.group(1)


def _csrf(client: TestClient[Any]) -> str:
    if "csrftoken" not in client.cookies:
        client.get("/")
    return str(client.cookies["csrftoken"])


def _use(client: TestClient[Any], cookies: dict[str, str]) -> None:
    """Replace the client's cookie jar, as another tab holding an older copy of the session."""
    client.cookies.clear()
    for name, value in cookies.items():
        client.cookies.set(name, value, domain="testserver.local")


def _sign_in(client: TestClient[Any], next_path: str = "") -> Any:
    return client.post(
        "/signin",
        data={
            "tenant": "pages",
            "email": "tim@pages.test",
            "password": PASSWORD,
            "next": next_path,
            "_csrf_token": _csrf(client),
        },
        follow_redirects=False,
    )


def test_signing_in_sets_the_token_pair_and_opens_the_time_tab(client: TestClient[Any]) -> None:
    """Sign-in answers 303 to / (which sends a user with the Time tab on to it) with HttpOnly
    access and refresh cookies."""
    response = _sign_in(client)
    assert response.status_code == 303 and response.headers["location"] == "/"
    landing = client.get("/", follow_redirects=False)
    assert landing.status_code == 303 and landing.headers["location"] == "/time"
    cookies = response.headers.get_list("set-cookie")
    assert any(c.startswith(f"{ACCESS_COOKIE}=") and "HttpOnly" in c for c in cookies)
    assert any(c.startswith(f"{REFRESH_COOKIE}=") and "HttpOnly" in c for c in cookies)
    assert client.get("/time").status_code == 200


def test_a_wrong_password_shows_the_form_again_with_one_message(client: TestClient[Any]) -> None:
    """A bad sign-in is 401 with the API's message and no session cookie."""
    response = client.post(
        "/signin",
        data={
            "tenant": "pages",
            "email": "tim@pages.test",
            "password": "wrong password",
            "_csrf_token": _csrf(client),
        },
    )
    assert response.status_code == 401
    assert "The tenant, e-mail or password is not right." in response.text
    assert ACCESS_COOKIE not in client.cookies


def test_an_expired_access_cookie_is_renewed_from_the_refresh_cookie(
    client: TestClient[Any], clock: FixedClock
) -> None:
    """After the access token expires, the next page rotates the refresh token and stays signed in."""
    _sign_in(client)
    old_refresh = client.cookies[REFRESH_COOKIE]
    clock.advance(minutes=20)
    response = client.get("/time")
    assert response.status_code == 200
    assert client.cookies[REFRESH_COOKIE] != old_refresh
    renewed = client.post("/api/v1/auth/refresh", json={"refresh_token": old_refresh})
    assert renewed.status_code == 401  # the old one is spent


def test_two_tabs_renewing_the_same_session_at_once_both_stay_signed_in(
    client: TestClient[Any], clock: FixedClock
) -> None:
    """Two requests presenting the same expired pair get the same successor; the sign-in survives."""
    _sign_in(client)
    stale = {ACCESS_COOKIE: client.cookies[ACCESS_COOKIE], REFRESH_COOKIE: client.cookies[REFRESH_COOKIE]}
    clock.advance(minutes=20)
    _use(client, stale)
    first = client.get("/time/timer", headers={"HX-Request": "true"})
    first_refresh = client.cookies[REFRESH_COOKIE]
    _use(client, stale)
    second = client.get("/time/timer", headers={"HX-Request": "true"})
    assert first.status_code == second.status_code == 200
    assert "HX-Redirect" not in second.headers
    successor = client.cookies[REFRESH_COOKIE]
    assert first_refresh == successor != stale[REFRESH_COOKIE]
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": successor}).status_code == 200


def test_signing_out_ends_the_sign_in_for_its_refresh_token_too(
    client: TestClient[Any], clock: FixedClock
) -> None:
    """After sign-out the old refresh cookie no longer renews anything."""
    _sign_in(client)
    stale = {ACCESS_COOKIE: client.cookies[ACCESS_COOKIE], REFRESH_COOKIE: client.cookies[REFRESH_COOKIE]}
    response = client.post("/signout", data={"_csrf_token": _csrf(client)}, follow_redirects=False)
    assert response.status_code == 303
    clock.advance(minutes=20)
    _use(client, stale)
    again = client.get("/time", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/?next=/time"


def test_pages_take_a_bearer_token_and_need_no_csrf_token_with_it(client: TestClient[Any]) -> None:
    """An extension frame's bearer token opens pages and posts forms; a browser never sends it by itself."""
    headers = bearer(token(client, "pages", "tim@pages.test"))
    client.cookies.clear()
    assert client.get("/time", headers=headers).status_code == 200
    started = client.post("/time/start", data={"comment": "from the frame"}, headers=headers)
    assert started.status_code == 200 and 'data-running="true"' in started.text
    assert client.post("/time/start", data={"comment": "no token"}).status_code in (303, 403)


def test_a_cookie_session_post_without_the_csrf_token_is_refused(client: TestClient[Any]) -> None:
    """The session cookie alone does not make a form post: 403 and nothing starts."""
    _sign_in(client)
    refused = client.post("/time/start", data={"comment": "forged"})
    assert refused.status_code == 403
    assert 'data-running="false"' in client.get("/time").text
    accepted = client.post("/time/start", data={"comment": "mine", "_csrf_token": _csrf(client)})
    assert accepted.status_code == 200 and 'data-running="true"' in accepted.text


def test_the_api_is_not_under_the_page_csrf_check(client: TestClient[Any]) -> None:
    """/api/v1 bearer calls work without any CSRF token, as before the pages existed."""
    headers = bearer(token(client, "pages", "tim@pages.test"))
    assert client.post("/api/v1/tracking/start", json={}, headers=headers).status_code == 201


def test_sign_in_only_ever_continues_to_a_page_on_this_site(client: TestClient[Any]) -> None:
    """A ``next`` that leaves the site (//host, a scheme) is replaced by /time."""
    assert _sign_in(client, "//evil.example/x").headers["location"] == "/time"
    assert _sign_in(client, "https://evil.example/").headers["location"] == "/time"
    assert _sign_in(client, "/settings/users").headers["location"] == "/settings/users"


def test_timesheet_durations_read_as_people_type_them() -> None:
    """1:30 and 1.5 are ninety minutes; nothing, zero and more than a day are refused."""
    assert parse_duration("1:30") == parse_duration("1.5") == parse_duration("1,5") == 5400
    for bad in ("", "0", "abc", "25:00", "1:75"):
        with pytest.raises(ValidationFailed):
            parse_duration(bad)


def test_the_activity_check_prompt_appears_when_due_and_a_deferral_puts_it_off(
    client: TestClient[Any], clock: FixedClock
) -> None:
    """After 60 minutes the timer asks 'Are you still working?'; 'Ask again in an hour' hides it."""
    _sign_in(client)
    csrf = {"_csrf_token": _csrf(client)}
    client.post("/time/start", data={"comment": "deep work", **csrf})
    htmx = {"HX-Request": "true"}
    assert "Are you still working?" not in client.get("/time/timer", headers=htmx).text
    clock.advance(minutes=61)
    due = client.get("/time/timer", headers=htmx)
    assert "Are you still working?" in due.text and 'data-running="true"' in due.text
    deferred = client.post("/time/activity-check", data={"defer": "one_hour", **csrf}, headers=htmx)
    assert deferred.status_code == 200
    assert "Are you still working?" not in deferred.text and 'data-running="true"' in deferred.text


def test_a_worklog_is_edited_inline_and_the_week_then_submitted(
    client: TestClient[Any], clock: FixedClock
) -> None:
    """Add, open the inline editor, save a new length, submit the week: the grid and status follow."""
    _sign_in(client)
    csrf = {"_csrf_token": _csrf(client)}
    htmx = {"HX-Request": "true"}
    added = client.post(
        "/time/worklogs",
        headers=htmx,
        data={"day": "2026-01-01", "start": "10:00", "hours": "1:00", "comment": "first", **csrf},
    )
    assert added.status_code == 200 and added.text.startswith('<section id="week"')
    worklog_id = re.search(r'id="worklog-(\w+)"', added.text)
    assert worklog_id is not None
    editor = client.get(f"/time/worklogs/{worklog_id[1]}/edit", headers=htmx)
    assert 'value="1:00"' in editor.text and editor.text.lstrip().startswith("<tr")
    saved = client.post(
        f"/time/worklogs/{worklog_id[1]}",
        headers=htmx,
        data={"day": "2026-01-01", "start": "10:00", "hours": "2.5", "comment": "first", **csrf},
    )
    assert "2:30" in saved.text
    submitted = client.post("/time/weeks/2026-W01/submit", headers=htmx, data=csrf)
    assert '<strong class="week-status">submitted</strong>' in submitted.text


def test_an_administrator_connects_azure_devops_on_the_settings_page_and_the_token_is_not_shown(
    client: TestClient[Any],
) -> None:
    """The page does what PUT /api/v1/settings/devops does: the token is kept, never shown."""
    admin = bearer(token(client, "pages", "admin@pages.test"))
    page = client.get("/settings/devops", headers=admin)
    assert page.status_code == 200 and "Standalone (work items kept in Stint)" in page.text
    assert 'href="/settings/devops"' in page.text

    secret = "pat-" + "x" * 40
    form = {"kind": "azure_devops", "organization_url": "https://dev.azure.com/pages", "project": "Web"}
    saved = client.post("/settings/devops", headers=admin, data={**form, "pat": secret})
    assert saved.status_code == 200, saved.text
    assert "Connected to Azure DevOps." in saved.text and "saved (never shown again)" in saved.text
    assert secret not in saved.text and secret not in client.get("/settings/devops", headers=admin).text
    api = client.get("/api/v1/settings/devops", headers=admin).json()
    assert (api["kind"], api["organization_url"], api["project"], api["pat_set"]) == (
        "azure_devops", "https://dev.azure.com/pages", "Web", True,
    )


def test_the_devops_page_refuses_bad_or_private_urls_with_a_message_and_keeps_the_connection(
    client: TestClient[Any],
) -> None:
    admin = bearer(token(client, "pages", "admin@pages.test"))
    bad = (("http://dev.azure.com/pages", "https://"), ("https://10.0.0.7/tfs", "private address"))
    for url, message in bad:
        refused = client.post("/settings/devops", headers=admin,
                              data={"kind": "azure_devops", "organization_url": url, "pat": "p" * 20})
        assert refused.status_code == 422 and message in refused.text, refused.text
    assert client.get("/api/v1/settings/devops", headers=admin).json()["kind"] == "standalone"


def test_only_administrators_have_the_devops_page(client: TestClient[Any]) -> None:
    team = bearer(token(client, "pages", "tim@pages.test"))
    assert client.get("/settings/devops", headers=team).status_code == 403
    assert 'href="/settings/devops"' not in client.get("/time", headers=team).text


def test_a_worklog_editor_opened_in_a_new_tab_is_the_whole_time_page_with_that_row_open(
    client: TestClient[Any],
) -> None:
    """Without HX-Request (a plain link, a new tab, no JavaScript) the edit link answers the
    Time tab for the worklog's week, the timer included, with the editor in the row's place."""
    headers = bearer(token(client, "pages", "tim@pages.test"))
    added = client.post(
        "/api/v1/worklogs", headers=headers,
        json={"started_at": "2026-01-14T10:00:00Z", "length_s": 5400, "comment": "review"},
    )
    worklog_id = added.json()["id"]
    page = client.get(f"/time/worklogs/{worklog_id}/edit", headers=headers)
    assert page.status_code == 200, page.text
    assert page.text.lstrip().startswith("<!doctype html>")
    assert 'id="timer"' in page.text and "Week 2026-W03" in page.text
    assert f'<tr id="worklog-{worklog_id}" class="editing">' in page.text and 'value="1:30"' in page.text


def test_every_partial_route_answers_a_plain_request_with_a_whole_page(client: TestClient[Any]) -> None:
    """The routes that answer htmx with a fragment answer anyone else with the page around it."""
    admin = bearer(token(client, "pages", "admin@pages.test"))
    buy = {"plan": "team", "seats": "3", "interval": "annual"}
    plain = [
        ("GET", "/time/timer", None),
        ("GET", "/time/week", None),
        ("GET", "/time/month", None),
        ("GET", "/settings/users", None),
        ("GET", "/settings/devops", None),
        ("GET", "/settings/subscription", None),
        ("POST", "/settings/subscription/purchase-preview", buy),
    ]
    for method, path, form in plain:
        response = client.request(method, path, headers=admin, data=form)
        assert response.status_code == 200, (path, response.text)
        assert response.text.lstrip().startswith("<!doctype html>"), path
    preview = client.post("/settings/subscription/purchase-preview", headers=admin, data=buy)
    assert 'id="buy-form"' in preview.text and "432.00 USD" in preview.text
    client.post("/settings/subscription/purchase", headers=admin,
                data={**buy, "confirmed": confirmed(preview.text)})
    quote = client.post("/settings/subscription/quote", headers=admin, data={"seats": "5"})
    assert quote.status_code == 200, quote.text
    assert 'id="change-form"' in quote.text and '<div id="quote" class="quote"' in quote.text


def test_the_subscription_page_shows_a_cut_of_unpaid_seats_as_a_credit_note_not_as_credit(
    client: TestClient[Any],
) -> None:
    """Issue #15 on the page: the quote says the credit lowers the unpaid invoice, which lists the note."""
    admin = bearer(token(client, "pages", "admin@pages.test"))
    buy = {"plan": "team", "seats": "10", "interval": "annual", "confirmed": "team|annual|10|144000"}
    assert client.post("/settings/subscription/purchase", headers=admin, data=buy).status_code == 200
    htmx = {**admin, "HX-Request": "true"}
    quote = client.post("/settings/subscription/quote", headers=htmx, data={"seats": "5"})
    assert quote.status_code == 200, quote.text
    assert "credited: 720.00 USD off your unpaid invoices of this period" in quote.text
    assert "added to your credit balance" not in quote.text
    assert "Nothing to pay now: 720.00 USD comes off your unpaid invoices" in quote.text
    changed = client.post("/settings/subscription/change", headers=htmx,
                          data={"seats": "5", "confirmed": confirmed(quote.text)})
    assert changed.status_code == 200, changed.text
    assert 'class="credit-note"' in changed.text and "−720.00 USD" in changed.text


def test_the_time_pages_refuse_dates_outside_1970_to_2999_with_a_message_not_a_500(
    client: TestClient[Any],
) -> None:
    """Weeks and months at the calendar's edges, and a form day there, answer 422 with the range."""
    headers = bearer(token(client, "pages", "tim@pages.test"))
    for path in ("/time?week=9999-W52", "/time/week?week=0001-W01", "/time/month?month=9999-12"):
        response = client.get(path, headers=headers)
        assert response.status_code == 422, (path, response.text)
        assert "dates must lie between 1970-01-01 and 2999-12-31" in response.text
    for day, start, hours in (("0001-01-01", "00:00", "1"), ("2999-12-31", "23:00", "2")):
        added = client.post("/time/worklogs", headers={**headers, "HX-Request": "true"},
                            data={"day": day, "start": start, "hours": hours})
        assert added.status_code == 422, (day, added.text)
        assert "dates must lie between 1970-01-01 and 2999-12-31" in added.text


def test_the_users_page_refuses_to_demote_the_last_administrator_with_a_message(
    client: TestClient[Any],
) -> None:
    """The page calls the API's use case: 409 with the reason in #flash, and nothing changes."""
    admin = bearer(token(client, "pages", "admin@pages.test"))
    me = client.get("/api/v1/me", headers=admin).json()["id"]
    refused = client.post(f"/settings/users/user/{me}", headers={**admin, "HX-Request": "true"},
                          data={"role": "none", "collection_admin": "off"})
    assert refused.status_code == 409, refused.text
    assert refused.headers["HX-Retarget"] == "#flash"
    assert "without a collection admin who is an Administrator" in refused.text
    assert client.get("/settings/users", headers=admin).status_code == 200


def test_every_page_names_its_icon_and_the_icon_answers(client: TestClient[Any]) -> None:
    """Without one a browser asks for /favicon.ico on every first visit and logs a 404 in the
    console of each new tab."""
    for path in ("/", "/admin"):  # the tenant's sign-in page, the operator console's
        page = client.get(path)
        assert page.status_code == 200, path
        icon = re.search(r'<link rel="icon" href="([^"]+)"', page.text)
        assert icon, f"{path} names no icon"
        answer = client.get(icon.group(1))
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/svg+xml")
