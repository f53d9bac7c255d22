"""``/settings/reporting`` through the app with a fixed clock (no browser needed): the feed URL,
a read-only token shown once that reads only reports, its revocation, who sees the page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import PASSWORD, add_user, api_client, bearer, signup, token

#: Plain http: an https base makes the CSRF cookie Secure, which the test client does not send.
BASE = "http://stint.example.com:8080"


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[TestClient[Any]]:
    settings = make_settings(sqlite_url, tmp_path, STINT_BASE_URL=BASE + "/")
    with api_client(settings, clock) as test_client:
        signup(test_client, "pages")
        admin = token(test_client, "pages", "admin@pages.test")
        for email, role in (("tim@pages.test", "team"), ("pia@pages.test", "product"),
                            ("nan@pages.test", "none")):
            add_user(test_client, admin, email, role=role)
        yield test_client


def _sign_in(client: TestClient[Any], email: str) -> None:
    client.cookies.clear()
    client.get("/")
    form = {"tenant": "pages", "email": email, "password": PASSWORD,
            "_csrf_token": str(client.cookies["csrftoken"])}
    assert client.post("/signin", data=form, follow_redirects=False).status_code == 303


def _post(client: TestClient[Any], path: str, data: dict[str, str] | None = None) -> Any:
    return client.post(path, data={**(data or {}), "_csrf_token": str(client.cookies["csrftoken"])})


def _secret(html: str) -> str:
    found = re.search(r'id="new-token-value" value="([^"]+)"', html)
    assert found, "no token on the page"
    return found.group(1)


def test_the_page_shows_the_public_feed_url_the_steps_and_a_nav_entry(client: TestClient[Any]) -> None:
    _sign_in(client, "pia@pages.test")
    page = client.get("/settings/reporting")
    assert page.status_code == 200, page.text
    # The public address (STINT_BASE_URL), not the address the request came in on.
    assert f'value="{BASE}/api/odata/v1/"' in page.text
    assert '<a href="/settings/reporting" aria-current="page">Reporting</a>' in page.text
    assert "From OData Feed" in page.text and "OData feed" in page.text and "Basic" in page.text
    assert "everyone&#39;s time" in page.text or "everyone's time" in page.text


def test_a_read_only_token_is_shown_once_reads_reports_and_nothing_else(client: TestClient[Any]) -> None:
    _sign_in(client, "admin@pages.test")
    made = _post(client, "/settings/reporting/tokens", {"expires_in_days": "30"})
    assert made.status_code == 200, made.text
    assert made.headers["cache-control"] == "no-store"
    secret = _secret(made.text)
    assert "Reporting (Excel/Power BI)" in made.text and "2026-01-31" in made.text

    # Shown once: the page lists the token but never the secret again.
    again = client.get("/settings/reporting")
    assert secret not in again.text and "Reporting (Excel/Power BI)" in again.text

    tool = bearer(secret)
    assert client.get("/api/v1/user-rates", headers=tool).status_code == 200
    for method, path in (("GET", "/api/v1/worklogs"), ("GET", "/api/v1/users"), ("GET", "/api/v1/me/tokens"),
                         ("POST", "/api/v1/tracking/start")):
        refused = client.request(method, path, headers=tool, json={})
        assert (refused.status_code, refused.json()["code"]) == (403, "insufficient_scope"), path
    listed = client.get("/api/v1/me/tokens", headers=bearer(token(client, "pages", "admin@pages.test")))
    assert [(t["name"], t["scopes"]) for t in listed.json()["items"]] == [
        ("Reporting (Excel/Power BI)", ["reporting:read"])
    ]


def test_revoking_a_reporting_token_ends_it_at_once_and_lists_it_no_more(client: TestClient[Any]) -> None:
    _sign_in(client, "tim@pages.test")
    secret = _secret(_post(client, "/settings/reporting/tokens").text)
    page = client.get("/settings/reporting")
    token_id = re.search(r'action="/settings/reporting/tokens/([^/"]+)/revoke"', page.text)
    assert token_id
    revoked = _post(client, f"/settings/reporting/tokens/{token_id.group(1)}/revoke")
    assert revoked.status_code == 200 and "Revoked." in revoked.text
    assert "/revoke" not in revoked.text and "no read-only reporting tokens" in revoked.text
    assert client.get("/api/v1/user-rates", headers=bearer(secret)).status_code == 401


def test_only_read_only_tokens_are_listed_and_another_user_s_cannot_be_revoked(
    client: TestClient[Any],
) -> None:
    admin = bearer(token(client, "pages", "admin@pages.test"))
    full = client.post("/api/v1/me/tokens", json={"name": "CI script", "expires_in_days": 30}, headers=admin)
    _sign_in(client, "admin@pages.test")
    assert "CI script" not in client.get("/settings/reporting").text
    _sign_in(client, "tim@pages.test")
    other = _post(client, f"/settings/reporting/tokens/{full.json()['id']}/revoke")
    assert other.status_code == 404
    assert client.get("/api/v1/me", headers=bearer(full.json()["token"])).status_code == 200


def test_team_sees_the_page_for_their_own_time_and_role_none_does_not(client: TestClient[Any]) -> None:
    _sign_in(client, "tim@pages.test")
    page = client.get("/settings/reporting")
    assert page.status_code == 200 and "your own time" in page.text
    _sign_in(client, "nan@pages.test")
    assert client.get("/settings/reporting").status_code in (403, 404)
    assert 'href="/settings/reporting"' not in client.get("/settings/security").text


def test_a_personal_token_cannot_make_a_reporting_token_through_the_page(client: TestClient[Any]) -> None:
    """Pages take bearer tokens; a token still cannot mint another there (nor a scoped one at all)."""
    admin = bearer(token(client, "pages", "admin@pages.test"))
    full = client.post("/api/v1/me/tokens", json={"name": "CI", "expires_in_days": 30}, headers=admin).json()
    made = client.post("/settings/reporting/tokens", headers=bearer(full["token"]))
    assert made.status_code == 403 and 'id="new-token-value"' not in made.text
    listed = client.get("/api/v1/me/tokens", headers=admin).json()["items"]
    assert [t["name"] for t in listed] == ["CI"]


def test_one_tenant_never_reaches_another_tenant_s_reporting_tokens_through_the_page(
    client: TestClient[Any],
) -> None:
    """Every reporting page route, called by tenant A with B's token id wherever an id goes:
    nothing of B's shows, nothing of B's changes (the API's walker, test_isolation.py, walks
    /api/v1 only)."""
    from litestar.routes import HTTPRoute

    signup(client, "bravo-victim")
    victim = bearer(token(client, "bravo-victim", "admin@bravo-victim.test"))
    made = client.post("/api/v1/me/tokens", json={"name": "Reporting (Excel/Power BI)", "expires_in_days": 30,
                                                  "scopes": ["reporting:read"]}, headers=victim).json()
    attacker = bearer(token(client, "pages", "admin@pages.test"))
    routes = [(method, route.path) for route in client.app.routes if isinstance(route, HTTPRoute)
              and route.path.startswith("/settings/reporting")
              for handler in route.route_handlers for method in handler.http_methods - {"HEAD", "OPTIONS"}]
    assert len(routes) == 3, routes
    for method, path in routes:
        url = re.sub(r"\{[^}]+\}", made["id"], path)
        response = client.request(method, url, headers=attacker, data={"expires_in_days": "30"})
        assert made["id"] not in response.text.replace(url, ""), (method, path)
        assert "bravo" not in response.text, (method, path)
        if "{" in path:
            assert response.status_code == 404, (method, path, response.status_code)
    assert client.get("/api/v1/user-rates", headers=bearer(made["token"])).status_code == 200
    assert [t["id"] for t in client.get("/api/v1/me/tokens", headers=victim).json()["items"]] == [made["id"]]
