"""OAuth 2.0 for apps (issue #20), driven as an app would drive it.

The app is Authlib's own httpx client (``authlib.integrations.httpx_client.OAuth2Client``, built
on httpx2 since Authlib 1.8: its fallback to the older httpx is deprecated and warns), talking
to Stint over the test client's transport; the user is a browser-like httpx client
that follows Stint's redirects, signs in through the sign-in page and answers the consent
page's real form (its hidden fields and CSRF token read from the HTML).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import httpx2
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from litestar.testing import TestClient

from core.clock import FixedClock
from core.identity.oauth import ClientKind
from core.identity.scopes import Scope
from core.services.oauth import register_client
from tests.conftest import make_settings
from tests.support.api import PASSWORD, add_user, api_client, bearer, run, signup, stint, token

REDIRECT = "https://app.example/callback"
BASE = "http://testserver.local"


class _Forms(HTMLParser):
    """The fields of each <form> on a page, as a browser would submit them (buttons aside)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": a.get("method"), "fields": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""


def form_of(html: str, action: str) -> dict[str, str]:
    parser = _Forms()
    parser.feed(html)
    found = [f for f in parser.forms if f["action"] == action and (f["method"] or "").lower() == "post"]
    assert found, f"no form posting to {action}"
    return dict(found[0]["fields"])


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[TestClient[Any]]:
    settings = make_settings(database_url, tmp_path, STINT_RATE_LIMIT_API="1000000",
                             STINT_RATE_LIMIT_CLIENT="1000000", STINT_BASE_URL=BASE)
    with api_client(settings, clock) as c:
        signup(c, "acme")
        yield c


def register(client: TestClient[Any], *, scopes: frozenset[Scope] | None = None,
             kind: ClientKind = ClientKind.PUBLIC, tenant: str | None = "acme") -> tuple[str, str | None]:
    s = stint(client)
    tenant_id = None
    if tenant is not None:
        tenant_id = run(client, _tenant_id, s, tenant)
    app, secret = run(
        client, register_client, s.uow, s.clock, tenant_id=tenant_id, registered_by="user:test",
        name="Time Buddy", kind=kind, redirect_uris=[REDIRECT],
        scopes=scopes or frozenset({Scope.TRACKING, Scope.WORKLOGS_READ, Scope.REPORTING_READ}),
    )
    return app.id, secret


async def _tenant_id(s: Any, slug: str) -> str:
    async with s.uow() as work:
        found = await work.directory.tenant_by_slug(slug)
    return str(found.id)


class InProcess(httpx2.BaseTransport):
    """Carries the app's httpx2 requests to Stint through the test client's (httpx) transport:
    the app's own requests, without the test browser's cookies."""

    def __init__(self, client: TestClient[Any]) -> None:
        self.transport = client._transport

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        answer = self.transport.handle_request(httpx.Request(
            request.method, str(request.url), headers=request.headers.raw, content=request.read(),
        ))
        return httpx2.Response(answer.status_code, headers=answer.headers.raw, content=answer.read())


def app_client(
    client: TestClient[Any], client_id: str, scope: str, secret: str | None = None
) -> OAuth2Client:
    """The third-party app: Authlib's client, its requests carried to Stint in-process."""
    return OAuth2Client(
        client_id=client_id, client_secret=secret, scope=scope, redirect_uri=REDIRECT,
        code_challenge_method="S256", token_endpoint_auth_method="client_secret_basic" if secret else "none",
        transport=InProcess(client), base_url=BASE,
    )


def test_authlibs_httpx_client_imports_without_a_deprecation_warning() -> None:
    """Authlib 1.8 moved its httpx integration to httpx2 and warns when it falls back to httpx
    (authlib#904): with httpx2 installed (the dev extras) the app side runs on what Authlib
    supports. A fresh interpreter, as an import warns only the first time."""
    import subprocess
    import sys

    imported = subprocess.run(
        [sys.executable, "-W", "error", "-c", "import authlib.integrations.httpx_client"],
        capture_output=True, text=True, timeout=60,
    )
    assert imported.returncode == 0, imported.stderr


def consent_page(client: TestClient[Any], url: str) -> str:
    """The user opens the app's authorisation link: signs in on the way, lands on the consent page."""
    client.cookies.clear()
    first = client.get(url, follow_redirects=True)
    assert "Sign in to Stint" in first.text
    sign_in = form_of(first.text, "/signin")
    assert sign_in["next"].startswith("/oauth/authorize?")
    back = client.post("/signin", data={**sign_in, "tenant": "acme", "email": "admin@acme.test",
                                        "password": PASSWORD}, follow_redirects=True)
    assert back.status_code == 200, back.text
    assert "wants to act for you" in back.text
    return back.text


def answer(client: TestClient[Any], page: str, decision: str) -> str:
    """Submit the consent page's own form; the Location Stint sends the browser to."""
    fields = form_of(page, "/oauth/authorize")
    sent = client.post("/oauth/authorize", data={**fields, "decision": decision}, follow_redirects=False)
    assert sent.status_code == 302, sent.text
    return str(sent.headers["location"])


def authorise(client: TestClient[Any], app: OAuth2Client, verifier: str, state: str = "s-1") -> str:
    url, _ = app.create_authorization_url(f"{BASE}/oauth/authorize", code_verifier=verifier, state=state)
    return answer(client, consent_page(client, url), "approve")


def test_an_app_gets_tokens_through_consent_and_pkce_and_its_code_works_once(client: TestClient[Any]) -> None:
    client_id, _ = register(client)
    app = app_client(client, client_id, "tracking worklogs:read")
    verifier = generate_token(48)
    location = authorise(client, app, verifier, state="xyz-123")
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["xyz-123"]

    tokens = app.fetch_token(f"{BASE}/oauth/token", authorization_response=location, code_verifier=verifier)
    assert tokens["token_type"].lower() == "bearer"
    assert tokens["scope"] == "tracking worklogs:read"
    me = client.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "admin@acme.test"

    again = client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT,
        "client_id": client_id, "code_verifier": verifier,
    })
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    # A code presented twice was stolen by one of the two: the tokens it gave end as well.
    assert client.get("/api/v1/me", headers=bearer(tokens["access_token"])).status_code == 401


def test_a_wrong_verifier_is_refused_as_invalid_grant(client: TestClient[Any]) -> None:
    client_id, _ = register(client)
    app = app_client(client, client_id, "tracking")
    location = authorise(client, app, generate_token(48))
    code = parse_qs(urlsplit(location).query)["code"][0]
    refused = client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": client_id,
        "code_verifier": generate_token(48),
    })
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_a_redirect_uri_off_by_one_character_is_refused_at_both_ends(client: TestClient[Any]) -> None:
    client_id, _ = register(client)
    verifier = generate_token(48)
    app = app_client(client, client_id, "tracking")
    url, _ = app.create_authorization_url(f"{BASE}/oauth/authorize", code_verifier=verifier, state="s",
                                          redirect_uri=REDIRECT + "/")
    client.cookies.clear()
    client.get("/")
    signed = client.post("/signin", data={"tenant": "acme", "email": "admin@acme.test", "password": PASSWORD,
                                          "next": "", "_csrf_token": client.cookies["csrftoken"]},
                         follow_redirects=False)
    assert signed.status_code == 303
    # Never sent to an unregistered address, not even with an error: the page says no itself.
    page = client.get(url, follow_redirects=False)
    assert page.status_code == 400
    assert "invalid_request" in page.text

    location = authorise(client, app, verifier)
    code = parse_qs(urlsplit(location).query)["code"][0]
    refused = client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT[:-1] + "X",
        "client_id": client_id, "code_verifier": verifier,
    })
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_an_authorisation_without_state_or_with_a_plain_challenge_goes_back_refused(
    client: TestClient[Any],
) -> None:
    client_id, _ = register(client)
    challenge = create_s256_code_challenge(generate_token(48))
    common = f"response_type=code&client_id={client_id}&redirect_uri={REDIRECT}&scope=tracking"
    client.cookies.clear()
    client.get("/")
    client.post("/signin", data={"tenant": "acme", "email": "admin@acme.test", "password": PASSWORD,
                                 "next": "", "_csrf_token": client.cookies["csrftoken"]})
    for query, error in [
        (f"{common}&code_challenge={challenge}&code_challenge_method=S256", "invalid_request"),  # no state
        (f"{common}&state=s&code_challenge={'a' * 43}&code_challenge_method=plain", "invalid_request"),
        (f"{common}&state=s", "invalid_request"),  # no PKCE at all
    ]:
        sent = client.get(f"/oauth/authorize?{query}", follow_redirects=False)
        assert sent.status_code == 302, sent.text
        back = parse_qs(urlsplit(sent.headers["location"]).query)
        assert sent.headers["location"].startswith(REDIRECT)
        assert back["error"] == [error]
        assert "code" not in back


def test_denying_sends_the_app_access_denied(client: TestClient[Any]) -> None:
    client_id, _ = register(client)
    app = app_client(client, client_id, "tracking")
    url, _ = app.create_authorization_url(f"{BASE}/oauth/authorize", code_verifier=generate_token(48),
                                          state="d")
    location = answer(client, consent_page(client, url), "deny")
    back = parse_qs(urlsplit(location).query)
    assert back["error"] == ["access_denied"] and back["state"] == ["d"]


def test_a_reporting_read_token_cannot_start_the_timer(client: TestClient[Any]) -> None:
    client_id, _ = register(client)
    app = app_client(client, client_id, "reporting:read")
    verifier = generate_token(48)
    location = authorise(client, app, verifier)
    tokens = app.fetch_token(f"{BASE}/oauth/token", authorization_response=location, code_verifier=verifier)
    assert tokens["scope"] == "reporting:read"
    started = client.post("/api/v1/tracking/start", json={}, headers=bearer(tokens["access_token"]))
    assert started.status_code == 403
    assert started.json()["code"] == "insufficient_scope"
    # Nor do pages open for it, whose forms would reach what its scopes leave out.
    client.cookies.clear()
    page = client.get("/time", headers=bearer(tokens["access_token"]), follow_redirects=False)
    assert page.status_code in (403, 404)


def test_a_stolen_refresh_token_used_after_the_app_refreshed_ends_the_grant(client: TestClient[Any]) -> None:
    client_id, _ = register(client)
    app = app_client(client, client_id, "tracking")
    verifier = generate_token(48)
    location = authorise(client, app, verifier)
    first = app.fetch_token(f"{BASE}/oauth/token", authorization_response=location, code_verifier=verifier)
    stolen = first["refresh_token"]

    refreshed = app.refresh_token(f"{BASE}/oauth/token", refresh_token=stolen)
    assert refreshed["refresh_token"] != stolen
    assert client.get("/api/v1/me", headers=bearer(refreshed["access_token"])).status_code == 200

    thief = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": stolen,
                                              "client_id": client_id})
    assert thief.status_code == 400 and thief.json()["error"] == "invalid_grant"
    # The whole family went: the app's newer tokens too. It must log in again.
    again = client.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"], "client_id": client_id,
    })
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert client.get("/api/v1/me", headers=bearer(refreshed["access_token"])).status_code == 401


def test_a_sign_in_refresh_token_is_no_app_token_and_an_app_token_no_sign_in(client: TestClient[Any]) -> None:
    client_id, _ = register(client)
    signed = client.post("/api/v1/auth/token", json={"tenant": "acme", "email": "admin@acme.test",
                                                     "password": PASSWORD})
    mine = signed.json()["refresh_token"]
    as_app = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": mine,
                                               "client_id": client_id})
    assert as_app.status_code == 400 and as_app.json()["error"] == "invalid_grant"

    app = app_client(client, client_id, "tracking")
    verifier = generate_token(48)
    tokens = app.fetch_token(f"{BASE}/oauth/token", authorization_response=authorise(client, app, verifier),
                             code_verifier=verifier)
    as_sign_in = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert as_sign_in.status_code == 401
    # Untouched by the attempt: the app still refreshes.
    assert app.refresh_token(f"{BASE}/oauth/token", refresh_token=tokens["refresh_token"])["access_token"]


def test_a_confidential_app_proves_its_secret_and_a_revoked_token_ends_the_grant(
    client: TestClient[Any],
) -> None:
    client_id, secret = register(client, kind=ClientKind.CONFIDENTIAL)
    assert secret
    app = app_client(client, client_id, "tracking", secret)
    verifier = generate_token(48)
    location = authorise(client, app, verifier)
    wrong = client.post("/oauth/token", auth=(client_id, "not-the-secret"), data={
        "grant_type": "authorization_code", "code": parse_qs(urlsplit(location).query)["code"][0],
        "redirect_uri": REDIRECT, "code_verifier": verifier,
    })
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    location = authorise(client, app, verifier)
    tokens = app.fetch_token(f"{BASE}/oauth/token", authorization_response=location, code_verifier=verifier)
    revoked = app.revoke_token(f"{BASE}/oauth/revoke", token=tokens["refresh_token"])
    assert revoked.status_code == 200
    assert client.get("/api/v1/me", headers=bearer(tokens["access_token"])).status_code == 401


def test_the_metadata_document_names_the_endpoints_and_s256_only(client: TestClient[Any]) -> None:
    found = client.get("/.well-known/oauth-authorization-server")
    assert found.status_code == 200
    body = found.json()
    assert body["issuer"] == BASE
    assert body["token_endpoint"] == f"{BASE}/oauth/token"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert "urn:ietf:params:oauth:grant-type:device_code" in body["grant_types_supported"]


def test_bad_token_requests_get_oauth_errors_never_a_500(client: TestClient[Any]) -> None:
    for data, status, error in [
        ({}, 400, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, 401, "invalid_client"),
        ({"grant_type": "authorization_code", "client_id": "nobody"}, 400, "invalid_client"),
        ({"grant_type": "refresh_token", "client_id": "stint-tracker", "refresh_token": "x" * 5000}, 400,
         "invalid_grant"),
        ({"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": "stint-tracker"}, 400,
         "invalid_request"),
    ]:
        sent = client.post("/oauth/token", data=data)
        assert sent.status_code == status, (data, sent.text)
        assert sent.json()["error"] == error


# The device flow (RFC 8628) ------------------------------------------------------------------


def signed_in(client: TestClient[Any]) -> None:
    client.cookies.clear()
    client.get("/")
    signed = client.post("/signin", data={"tenant": "acme", "email": "admin@acme.test", "password": PASSWORD,
                                          "next": "", "_csrf_token": client.cookies["csrftoken"]},
                         follow_redirects=False)
    assert signed.status_code == 303


def poll(client: TestClient[Any], device_code: str) -> Any:
    return client.post("/oauth/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                                             "device_code": device_code, "client_id": "stint-tracker"})


def test_the_tracker_pairs_through_the_device_page(client: TestClient[Any], clock: FixedClock) -> None:
    started = client.post("/oauth/device_authorization", data={"client_id": "stint-tracker"})
    assert started.status_code == 200, started.text
    device = started.json()
    assert device["verification_uri"] == f"{BASE}/device"
    assert device["interval"] == 5

    pending = poll(client, device["device_code"])
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
    hasty = poll(client, device["device_code"])
    assert hasty.json()["error"] == "slow_down"

    signed_in(client)
    page = client.get("/device", params={"user_code": device["user_code"].lower().replace("-", "")})
    assert "Connect Stint tracker?" in page.text
    fields = form_of(page.text, "/device")
    done = client.post("/device", data={**fields, "decision": "approve"})
    assert "Stint tracker is connected" in done.text

    clock.advance(seconds=5)
    tokens = poll(client, device["device_code"])
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["scope"] == "tracking worklogs:read worklogs:write"
    assert client.get("/api/v1/me", headers=bearer(body["access_token"])).status_code == 200
    # The code is spent: a second poll gets nothing.
    clock.advance(seconds=5)
    assert poll(client, device["device_code"]).status_code == 400


def test_a_denied_or_expired_device_code_gets_its_own_error(
    client: TestClient[Any], clock: FixedClock
) -> None:
    denied = client.post("/oauth/device_authorization", data={"client_id": "stint-tracker"}).json()
    expired = client.post("/oauth/device_authorization", data={"client_id": "stint-tracker"}).json()
    signed_in(client)
    page = client.get("/device", params={"user_code": denied["user_code"]})
    client.post("/device", data={**form_of(page.text, "/device"), "decision": "deny"})
    assert poll(client, denied["device_code"]).json()["error"] == "access_denied"
    clock.advance(minutes=11)
    assert poll(client, expired["device_code"]).json()["error"] == "expired_token"
    late = client.get("/device", params={"user_code": expired["user_code"]})
    assert "unknown, expired or already used" in late.text


def test_guessing_device_codes_is_refused_after_as_many_wrong_ones_as_wrong_passwords(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 8628 §5.1: user codes are short enough to guess, so wrong ones are limited per person
    (STINT_RATE_LIMIT_LOGIN a minute, as sign-ins); a right code is refused too once over it."""
    from plugins.cache import limits

    monkeypatch.setattr(limits, "now", lambda: 1_800_000_010.0)  # one window throughout
    device = client.post("/oauth/device_authorization", data={"client_id": "stint-tracker"}).json()
    signed_in(client)
    limit = stint(client).settings.rate_limit_login
    for n in range(limit):
        wrong = client.get("/device", params={"user_code": f"WRONG{n:03d}"})
        assert wrong.status_code == 200 and "unknown, expired or already used" in wrong.text
    refused = client.get("/device", params={"user_code": device["user_code"]})
    assert refused.status_code == 429 and "Too many wrong device codes" in refused.text
    assert client.post("/device", data={"user_code": device["user_code"], "decision": "approve",
                                        "_csrf_token": client.cookies["csrftoken"]}).status_code == 429


def test_tokens_codes_and_secrets_never_reach_the_logs(
    client: TestClient[Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client_id, secret = register(client, kind=ClientKind.CONFIDENTIAL)
    app = app_client(client, client_id, "tracking", secret)
    verifier = generate_token(48)
    location = authorise(client, app, verifier)
    code = parse_qs(urlsplit(location).query)["code"][0]
    tokens = app.fetch_token(f"{BASE}/oauth/token", authorization_response=location, code_verifier=verifier)
    refreshed = app.refresh_token(f"{BASE}/oauth/token", refresh_token=tokens["refresh_token"])
    device = client.post("/oauth/device_authorization", data={"client_id": "stint-tracker"}).json()
    poll(client, device["device_code"])
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert logged, "the flow logged nothing at all: the check would be empty"
    for secret_text in [secret, code, verifier, tokens["access_token"], tokens["refresh_token"],
                        refreshed["access_token"], refreshed["refresh_token"], device["device_code"]]:
        assert secret_text and secret_text not in logged


# Apps: what can act for me, Unpair all, the tenant's registered apps ----------------------------


def admin_headers(client: TestClient[Any], slug: str = "acme") -> dict[str, str]:
    signed = client.post("/api/v1/auth/token", json={"tenant": slug, "email": f"admin@{slug}.test",
                                                     "password": PASSWORD})
    return bearer(signed.json()["access_token"])


def paired(client: TestClient[Any], client_id: str, scope: str = "tracking") -> dict[str, Any]:
    app = app_client(client, client_id, scope)
    verifier = generate_token(48)
    location = authorise(client, app, verifier)
    tokens = app.fetch_token(f"{BASE}/oauth/token", authorization_response=location, code_verifier=verifier)
    return dict(tokens)


def test_an_admin_registers_an_app_and_the_user_sees_revokes_and_unpairs_it(client: TestClient[Any]) -> None:
    admin = admin_headers(client)
    made = client.post("/api/v1/apps", headers=admin, json={
        "name": "Time Buddy", "kind": "public", "redirect_uris": [REDIRECT], "scopes": ["tracking"],
    })
    assert made.status_code == 201, made.text
    client_id = made.json()["client_id"]
    assert made.json()["client_secret"] is None
    assert [a["client_id"] for a in client.get("/api/v1/apps", headers=admin).json()["items"]] == [client_id]

    first, second = paired(client, client_id), paired(client, client_id)
    pat = client.post("/api/v1/me/tokens", headers=admin, json={"name": "script", "expires_in_days": 30})
    listed = client.get("/api/v1/me/apps", headers=admin).json()["items"]
    assert sorted((e["kind"], e["name"]) for e in listed) == [("app", "Time Buddy"), ("app", "Time Buddy"),
                                                              ("token", "script")]
    grant = next(e for e in listed if e["kind"] == "app")
    assert grant["scopes"] == ["tracking"] and grant["address"] and grant["created_at"]

    revoked = client.delete(f"/api/v1/me/apps/{grant['id']}", headers=admin)
    assert revoked.status_code == 204
    gone, kept = (first, second) if client.get(
        "/api/v1/me", headers=bearer(first["access_token"])).status_code == 401 else (second, first)
    assert client.get("/api/v1/me", headers=bearer(gone["access_token"])).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(kept["access_token"])).status_code == 200

    unpaired = client.post("/api/v1/me/apps/revoke-all", headers=admin)
    assert unpaired.status_code == 200 and unpaired.json() == {"revoked": 1}
    assert client.get("/api/v1/me", headers=bearer(kept["access_token"])).status_code == 401
    refreshed = client.post("/oauth/token", data={"grant_type": "refresh_token", "client_id": client_id,
                                                  "refresh_token": kept["refresh_token"]})
    assert refreshed.json()["error"] == "invalid_grant"
    # Personal tokens are not apps to unpair: they stay, revoked one by one.
    left = client.get("/api/v1/me/apps", headers=admin).json()["items"]
    assert [e["id"] for e in left] == [pat.json()["id"]]


def test_disabling_an_app_ends_it_for_everybody(client: TestClient[Any]) -> None:
    admin = admin_headers(client)
    client_id = client.post("/api/v1/apps", headers=admin, json={
        "name": "Shady", "kind": "public", "redirect_uris": [REDIRECT], "scopes": ["tracking"],
    }).json()["client_id"]
    tokens = paired(client, client_id)
    disabled = client.patch(f"/api/v1/apps/{client_id}", headers=admin, json={"disabled": True})
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert client.get("/api/v1/me", headers=bearer(tokens["access_token"])).status_code == 401
    again = client.post("/oauth/token", data={"grant_type": "refresh_token", "client_id": client_id,
                                              "refresh_token": tokens["refresh_token"]})
    assert again.json()["error"] == "invalid_client"


def test_another_tenants_app_is_out_of_reach(client: TestClient[Any]) -> None:
    signup(client, "bravo")
    bravo = admin_headers(client, "bravo")
    theirs = client.post("/api/v1/apps", headers=bravo, json={
        "name": "Bravo's own", "kind": "confidential", "redirect_uris": [REDIRECT], "scopes": ["tracking"],
    }).json()["client_id"]
    acme = admin_headers(client)
    assert client.get("/api/v1/apps", headers=acme).json()["items"] == []
    assert client.patch(f"/api/v1/apps/{theirs}", headers=acme, json={"disabled": True}).status_code == 404
    # An acme user cannot authorise bravo's app: the page refuses, nothing goes to the app.
    app = app_client(client, theirs, "tracking", "whatever")
    url, _ = app.create_authorization_url(f"{BASE}/oauth/authorize", code_verifier=generate_token(48),
                                          state="x")
    signed_in(client)
    page = client.get(url, follow_redirects=False)
    assert page.status_code == 400 and "not available to your organisation" in page.text


def test_registering_an_app_checks_its_redirect_uris_and_scopes(client: TestClient[Any]) -> None:
    admin = admin_headers(client)
    for body in [
        {"name": "A", "kind": "public", "redirect_uris": ["http://evil.example/cb"], "scopes": ["tracking"]},
        {"name": "A", "kind": "public", "redirect_uris": ["https://a.example/cb#frag"],
         "scopes": ["tracking"]},
        {"name": "A", "kind": "public", "redirect_uris": [], "scopes": ["tracking"]},
        {"name": "A", "kind": "public", "redirect_uris": [REDIRECT], "scopes": ["everything"]},
    ]:
        sent = client.post("/api/v1/apps", headers=admin, json=body)
        assert sent.status_code in (400, 422), (body, sent.text)
    assert client.get("/api/v1/apps", headers=admin).json()["items"] == []


def test_the_apps_page_lists_revokes_and_unpairs_through_its_forms(client: TestClient[Any]) -> None:
    signed_in(client)
    page = client.get("/settings/apps")
    assert page.status_code == 200 and "No app or token can act for you" in page.text
    made = client.post("/settings/apps/registered", data={
        **form_of(page.text, "/settings/apps/registered"), "name": "Page App", "kind": "confidential",
        "redirect_uris": REDIRECT, "scopes": ["tracking", "worklogs:read"],
    })
    assert made.status_code == 200, made.text
    assert "shown only this once" in made.text
    client_id = next(c.id for c in run(client, _clients, stint(client)))
    secret = re.search(r'id="new-secret-value" value="([^"]+)"', made.text)
    assert secret is not None
    app = app_client(client, client_id, "tracking", secret.group(1))
    verifier = generate_token(48)
    location = authorise(client, app, verifier)  # signs in again on the way
    tokens = app.fetch_token(f"{BASE}/oauth/token", authorization_response=location, code_verifier=verifier)
    listed = client.get("/settings/apps")
    assert "Page App" in listed.text and "<code>tracking</code>" in listed.text
    unpaired = client.post("/settings/apps/unpair", data=form_of(listed.text, "/settings/apps/unpair"))
    assert "Unpaired 1 app" in unpaired.text
    assert client.get("/api/v1/me", headers=bearer(tokens["access_token"])).status_code == 401
    disabled = client.post(f"/settings/apps/registered/{client_id}/disabled",
                           data=form_of(unpaired.text, f"/settings/apps/registered/{client_id}/disabled"))
    assert "disabled for everybody" in disabled.text


async def _clients(s: Any) -> list[Any]:
    async with s.uow() as work:
        tenant = await work.directory.tenant_by_slug("acme")
        return list(await work.oauth().tenant_clients(tenant.id))


def test_an_apps_scopes_never_widen_what_its_users_role_allows(client: TestClient[Any]) -> None:
    add_user(client, token(client, "acme", "admin@acme.test"), "dev@acme.test", role="team")
    client_id, _ = register(client, scopes=frozenset({Scope.TRACKING, Scope.ADMIN, Scope.USERS_READ}))
    app = app_client(client, client_id, "tracking admin users:read")
    verifier = generate_token(48)
    url, _ = app.create_authorization_url(f"{BASE}/oauth/authorize", code_verifier=verifier, state="r")
    client.cookies.clear()
    first = client.get(url, follow_redirects=True)
    back = client.post("/signin", data={**form_of(first.text, "/signin"), "tenant": "acme",
                                        "email": "dev@acme.test", "password": PASSWORD},
                       follow_redirects=True)
    location = answer(client, back.text, "approve")
    tokens = app.fetch_token(f"{BASE}/oauth/token", authorization_response=location, code_verifier=verifier)
    assert tokens["scope"] == "tracking users:read admin"
    headers = bearer(tokens["access_token"])
    assert client.get("/api/v1/me", headers=headers).json()["email"] == "dev@acme.test"
    # The scopes allow it; the Team role does not.
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    added = client.post("/api/v1/users", headers=headers, json={"email": "x@acme.test", "name": "x"})
    assert added.status_code == 403


def test_the_device_example_in_the_docs_pairs_against_a_served_stint(
    database_url: str, tmp_path: Path
) -> None:
    """docs/examples/device_login.py, run as a reader would, against Stint on a real port (and
    its real clock): the code it prints is approved on /device, and it reads who it paired as."""
    import subprocess
    import sys

    import httpx

    from server.app import create_app
    from tests.support.served import served

    settings = make_settings(database_url, tmp_path, STINT_RATE_LIMIT_CLIENT="1000000")
    example = Path(__file__).parents[2] / "docs" / "examples" / "device_login.py"
    with served(create_app(settings, migrate=True), host="127.0.0.1") as base, \
            httpx.Client(base_url=base, timeout=10) as browser:
        assert browser.post("/api/v1/signup", json={
            "tenant": "acme", "name": "Acme", "deployment": "cloud",
            "admin": {"email": "admin@acme.test", "password": PASSWORD, "name": "Admin"},
        }).status_code == 201
        process = subprocess.Popen([sys.executable, str(example), base], stdout=subprocess.PIPE, text=True)
        try:
            assert process.stdout is not None
            shown = re.search(r"and enter (\S+)", process.stdout.readline())
            assert shown, "the example printed no code"
            browser.get("/")
            browser.post("/signin", data={"tenant": "acme", "email": "admin@acme.test", "password": PASSWORD,
                                          "next": "", "_csrf_token": browser.cookies["csrftoken"]})
            page = browser.get("/device", params={"user_code": shown.group(1)})
            done = browser.post("/device", data={**form_of(page.text, "/device"), "decision": "approve"})
            assert "Stint tracker is connected" in done.text
            out, _ = process.communicate(timeout=120)
        finally:
            process.kill()
        assert process.returncode == 0
        assert "paired as admin@acme.test with scopes tracking worklogs:read worklogs:write" in out
