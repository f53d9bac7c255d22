"""The security pages through the app with a fixed clock (no browser needed): the tenant's
security history page and the console's view of every tenant's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from core.services.identity import create_operator
from tests.conftest import make_settings
from tests.support.api import PASSWORD, add_user, api_client, bearer, run, signup, stint, token


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
    s = stint(client)
    run(client, create_operator, s.uow, s.hasher, s.clock, email=email, password=PASSWORD)
    form = {"email": email, "password": PASSWORD, "_csrf_token": _csrf(client)}
    return client.post("/admin/signin", data=form, follow_redirects=False)


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
