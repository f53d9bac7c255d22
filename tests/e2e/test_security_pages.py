"""The security pages through the app with a fixed clock (no browser needed): the tenant's
security history page and the console's view of every tenant's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from core.services.identity import create_operator
from tests.conftest import make_settings
from tests.support.api import (
    PASSWORD,
    add_user,
    api_client,
    bearer,
    current_code,
    enrolled_operator,
    run,
    signup,
    stint,
    token,
)


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


def _page_sign_in(client: TestClient[Any], email: str, password: str) -> Any:
    form = {"tenant": "pages", "email": email, "password": password, "_csrf_token": _csrf(client)}
    return client.post("/signin", data=form, follow_redirects=False)


def test_the_security_history_page_lists_page_sign_ins_and_failures_with_addresses(
    client: TestClient[Any],
) -> None:
    assert _page_sign_in(client, "tim@pages.test", "wrong password").status_code == 401
    assert _page_sign_in(client, "admin@pages.test", PASSWORD).status_code == 303

    page = client.get("/settings/audit")

    assert page.status_code == 200, page.text
    assert 'href="/settings/audit"' in page.text
    assert "signin.failed" in page.text and "tim@pages.test" in page.text
    assert "testclient" in page.text


def test_the_security_history_page_filters_by_action(client: TestClient[Any]) -> None:
    admin = bearer(token(client, "pages", "admin@pages.test"))

    page = client.get("/settings/audit", params={"action": "user"}, headers=admin)

    assert "user.added" in page.text and "<code>signin</code>" not in page.text


def test_a_team_user_has_no_security_history_page(client: TestClient[Any]) -> None:
    team = bearer(token(client, "pages", "tim@pages.test"))
    assert client.get("/settings/audit", headers=team).status_code == 403
    assert 'href="/settings/audit"' not in client.get("/time", headers=team).text


def _console_sign_in(client: TestClient[Any], email: str = "ops@vendor.test") -> Any:
    secret, _ = enrolled_operator(client, email)
    code = current_code(client, secret)
    form = {"email": email, "password": PASSWORD, "code": code, "_csrf_token": _csrf(client)}
    return client.post("/admin/signin", data=form, follow_redirects=False)


def _bare_console_sign_in(client: TestClient[Any], email: str = "new@vendor.test") -> Any:
    s = stint(client)
    run(client, create_operator, s.uow, s.hasher, s.clock, email=email, password=PASSWORD)
    form = {"email": email, "password": PASSWORD, "_csrf_token": _csrf(client)}
    return client.post("/admin/signin", data=form, follow_redirects=False)


def test_an_operator_without_a_second_factor_reaches_only_enrolment_in_the_console(
    client: TestClient[Any],
) -> None:
    assert _bare_console_sign_in(client).status_code == 303
    for path in ["/admin", "/admin/audit", "/admin/plans", "/admin/tenants/pages"]:
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers.get("location")) == (303, "/admin/second-factor"), path
    trial = {"ends_on": "2026-03-01", "_csrf_token": _csrf(client)}
    refused = client.post("/admin/tenants/pages/trial", data=trial, follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/admin/second-factor"

    started = client.post("/admin/second-factor", data={"_csrf_token": _csrf(client)})
    secret = re.search(r'class="secret" value="([A-Z2-7]+)"', started.text)
    assert started.status_code == 200 and secret, started.text
    wrong = client.post("/admin/second-factor/confirm", data={"code": "000000", "_csrf_token": _csrf(client)})
    assert wrong.status_code == 422
    confirmed = client.post(
        "/admin/second-factor/confirm",
        data={"code": current_code(client, secret.group(1)), "_csrf_token": _csrf(client)},
    )
    assert confirmed.status_code == 200 and confirmed.text.count("<li><code>") == 10
    assert client.get("/admin", follow_redirects=False).status_code == 200


def test_the_console_sign_in_asks_for_the_code_once_a_second_factor_is_set_up(
    client: TestClient[Any],
) -> None:
    _, recovery = enrolled_operator(client, "ops@vendor.test")
    base = {"email": "ops@vendor.test", "password": PASSWORD, "_csrf_token": _csrf(client)}

    without = client.post("/admin/signin", data=base, follow_redirects=False)
    wrong = client.post("/admin/signin", data={**base, "code": "000000"}, follow_redirects=False)
    recovered = client.post("/admin/signin", data={**base, "code": recovery[3]}, follow_redirects=False)
    reused = client.post("/admin/signin", data={**base, "code": recovery[3]}, follow_redirects=False)

    assert without.status_code == 401 and "authenticator app" in without.text
    assert wrong.status_code == 401
    assert recovered.status_code == 303
    assert reused.status_code == 401


def test_the_console_lists_every_tenants_security_events_naming_the_tenant(
    client: TestClient[Any],
) -> None:
    signup(client, "second")
    token(client, "second", "admin@second.test")
    _page_sign_in(client, "tim@pages.test", "wrong password")
    assert _console_sign_in(client).status_code == 303

    everything = client.get("/admin/audit", params={"action": "signin"})
    only_second = client.get("/admin/audit", params={"action": "signin", "tenant": "second"})
    installation = client.get("/admin/audit", params={"tenant": "-", "actors": "operator"})

    assert everything.status_code == 200, everything.text
    assert 'href="/admin/tenants/pages"' in everything.text
    assert 'href="/admin/tenants/second"' in everything.text
    assert "signin.failed" in everything.text and "testclient" in everything.text
    assert "tim@pages.test" not in only_second.text and "admin@second.test" in only_second.text
    assert "operator.signin" in installation.text and "<em>installation</em>" in installation.text
    assert 'href="/admin/tenants/' not in installation.text
