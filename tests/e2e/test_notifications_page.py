"""The Notifications settings page through the app (no browser): a user's own checkboxes,
the Administrators' defaults, and the nav entry (issue #19)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import PASSWORD, add_user, api_client, bearer, signup, token


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[TestClient[Any]]:
    with api_client(make_settings(sqlite_url, tmp_path), clock) as test_client:
        signup(test_client, "pages")
        add_user(test_client, token(test_client, "pages", "admin@pages.test"), "tim@pages.test")
        yield test_client


def _csrf(client: TestClient[Any]) -> str:
    if "csrftoken" not in client.cookies:
        client.get("/")
    return str(client.cookies["csrftoken"])


def _sign_in(client: TestClient[Any], email: str) -> None:
    signed = client.post("/signin", data={"tenant": "pages", "email": email, "password": PASSWORD,
                                          "next": "", "_csrf_token": _csrf(client)})
    assert signed.status_code in (200, 303), signed.text


def _kinds(client: TestClient[Any], email: str, path: str = "/api/v1/me/notifications") -> dict[str, bool]:
    headers = bearer(token(client, "pages", email))
    return dict(client.get(path, headers=headers).json()["kinds"])


def test_a_team_user_turns_a_kind_off_and_sees_no_tenant_defaults(client: TestClient[Any]) -> None:
    _sign_in(client, "tim@pages.test")
    page = client.get("/settings/notifications")
    assert page.status_code == 200
    assert 'href="/settings/notifications" aria-current="page"' in page.text
    assert "Defaults for everyone" not in page.text
    # Everything ticked but the timer mails.
    ticked = {"missing_time": "on", "seat_requests": "on", "trial_ending": "on", "payment_failed": "on",
              "invoice_issued": "on", "approvals": "on", "_csrf_token": _csrf(client)}
    saved = client.post("/settings/notifications/mine", data=ticked)
    assert saved.status_code == 200 and "Saved." in saved.text
    kinds = _kinds(client, "tim@pages.test")
    assert kinds["timer_running"] is False and kinds["missing_time"] is True
    refused = client.post("/settings/notifications/defaults", data={"_csrf_token": _csrf(client)})
    assert refused.status_code in (403, 404)
    assert all(_kinds(client, "admin@pages.test", "/api/v1/settings/notifications").values())


def test_an_administrator_sets_the_tenant_defaults_on_the_same_page(client: TestClient[Any]) -> None:
    _sign_in(client, "admin@pages.test")
    assert "Defaults for everyone" in client.get("/settings/notifications").text
    form = {"approvals": "on", "_csrf_token": _csrf(client)}
    saved = client.post("/settings/notifications/defaults", data=form)
    assert saved.status_code == 200, saved.text
    defaults = _kinds(client, "admin@pages.test", "/api/v1/settings/notifications")
    assert defaults["approvals"] is True and defaults["missing_time"] is False
    # Tim never chose: the defaults are his settings now.
    assert _kinds(client, "tim@pages.test")["missing_time"] is False


def test_a_form_without_the_csrf_token_is_refused(client: TestClient[Any]) -> None:
    _sign_in(client, "tim@pages.test")
    assert client.post("/settings/notifications/mine", data={"approvals": "on"}).status_code == 403
