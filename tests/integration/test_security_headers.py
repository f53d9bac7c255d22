"""Security headers, CORS and request-body limits on every response, errors included."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import api_client, bearer, signup, token

PROBLEM = "application/problem+json"


def client_with(tmp_path: Path, clock: FixedClock, **env: str) -> Any:
    return api_client(make_settings(f"sqlite:///{tmp_path / 'stint.sqlite3'}", tmp_path, **env), clock)


def test_every_response_carries_the_security_headers(tmp_path: Path, clock: FixedClock) -> None:
    """Success, 401, 404 and the docs page all get nosniff, a referrer policy and frame protection."""
    with client_with(tmp_path, clock) as client:
        for response in (
            client.get("/health"),
            client.get("/api/v1/me"),
            client.get("/no/such/page"),
            client.get("/docs"),
        ):
            headers = response.headers
            assert headers["x-content-type-options"] == "nosniff", response.url
            assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
            assert headers["x-frame-options"] == "SAMEORIGIN"
            assert "frame-ancestors 'self'" in headers["content-security-policy"]
            assert "strict-transport-security" not in headers


def test_api_answers_are_never_cached(tmp_path: Path, clock: FixedClock) -> None:
    """Tokens and tenant data carry Cache-Control: no-store."""
    with client_with(tmp_path, clock) as client:
        signup(client, "acme")
        response = client.post(
            "/api/v1/auth/token",
            json={"tenant": "acme", "email": "admin@acme.test", "password": "correct horse battery"},
        )
        assert response.headers["cache-control"] == "no-store"


def test_the_devops_frame_host_can_be_allowed_to_embed_the_pages(tmp_path: Path, clock: FixedClock) -> None:
    """STINT_FRAME_ANCESTORS feeds CSP frame-ancestors; X-Frame-Options, unable to say it, is dropped."""
    ancestors = "'self' https://*.visualstudio.com"
    with client_with(tmp_path, clock, STINT_FRAME_ANCESTORS=ancestors) as client:
        response = client.get("/health")
        assert f"frame-ancestors {ancestors}" in response.headers["content-security-policy"]
        assert "x-frame-options" not in response.headers


def test_hsts_is_sent_when_stint_is_served_over_https(tmp_path: Path, clock: FixedClock) -> None:
    """STINT_BASE_URL https://… turns on Strict-Transport-Security."""
    with client_with(tmp_path, clock, STINT_BASE_URL="https://stint.example.com") as client:
        assert client.get("/health").headers["strict-transport-security"].startswith("max-age=")


def test_cors_is_closed_by_default(tmp_path: Path, clock: FixedClock) -> None:
    """A cross-origin preflight gets no Access-Control-Allow-Origin, so browsers refuse the call."""
    with client_with(tmp_path, clock) as client:
        preflight = client.options(
            "/api/v1/me",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in preflight.headers
        plain = client.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in plain.headers


def test_cors_opens_only_to_the_configured_origins(tmp_path: Path, clock: FixedClock) -> None:
    """STINT_CORS_ORIGINS lists who may call; anyone else still gets nothing."""
    with client_with(tmp_path, clock, STINT_CORS_ORIGINS="https://app.example.com") as client:
        signup(client, "acme")
        headers = bearer(token(client, "acme", "admin@acme.test"))
        allowed = client.get("/api/v1/me", headers={**headers, "Origin": "https://app.example.com"})
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        other = client.get("/api/v1/me", headers={**headers, "Origin": "https://evil.example"})
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"


def test_a_huge_body_is_413_problem_json(tmp_path: Path, clock: FixedClock) -> None:
    """A body over the 5 MiB limit is refused with 413 problem+json, declared or streamed."""
    with client_with(tmp_path, clock) as client:
        huge = b'{"tenant": "' + b"a" * (6 * 1024 * 1024) + b'"}'
        json_type = {"Content-Type": "application/json"}
        response = client.post("/api/v1/auth/token", content=huge, headers=json_type)
        assert response.status_code == 413, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["code"] == "body_too_large"


def test_bad_json_wrong_types_and_unknown_fields_are_4xx_problem_json(
    tmp_path: Path, clock: FixedClock
) -> None:
    """Broken JSON is 400, a wrong type or an unknown field is 422 — never a 500."""
    with client_with(tmp_path, clock) as client:
        signup(client, "acme")
        headers = bearer(token(client, "acme", "admin@acme.test"))
        cases = [
            (client.post("/api/v1/auth/refresh", content=b"{oops"), 400),
            (client.post("/api/v1/auth/refresh", json={"refresh_token": 5}), 422),
            (client.post("/api/v1/auth/refresh", json={"refresh_token": "x", "more": 1}), 422),
            (client.post("/api/v1/me/tokens", json={"name": 1, "expires_in_days": 9}, headers=headers), 422),
            (client.post("/api/v1/me/tokens", json=[1, 2], headers=headers), 422),
            (client.post("/api/v1/me/tokens", content=b"\xff\xfe", headers=headers), 400),
        ]
        for response, status in cases:
            assert response.status_code == status, response.text
            assert response.headers["content-type"].startswith(PROBLEM)


def test_options_on_every_route_is_answered_without_a_server_error(tmp_path: Path, clock: FixedClock) -> None:
    """Preflight-style OPTIONS carries no credentials; guarded controllers answer it, never with a 500."""
    from tests.integration.test_isolation import tenant_routes

    with client_with(tmp_path, clock) as client:
        paths = {re.sub(r"\{[^}]+\}", "x", path) for _, path in tenant_routes(client.app)}
        for path in sorted(paths):
            response = client.options(path)
            assert response.status_code < 500, (path, response.text)


def test_json_nested_too_deep_is_400_invalid_body_on_every_route_signed_in_or_not(
    tmp_path: Path, clock: FixedClock
) -> None:
    """A body nested 1,000 deep is refused as a bad body before and after sign-in, never a 500;
    broken JSON shares its code, and a body nested 500 deep is still read (and refused as 422)."""
    with client_with(tmp_path, clock) as client:
        signup(client, "acme")
        headers = {**bearer(token(client, "acme", "admin@acme.test")), "Content-Type": "application/json"}
        deep = b"[" * 1000 + b"]" * 1000
        for path in ("/api/v1/auth/token", "/api/v1/signup", "/api/v1/operator/auth/token",
                     "/api/v1/worklogs", "/api/v1/me/tokens"):
            response = client.post(path, content=deep, headers=headers)
            assert response.status_code == 400, (path, response.text)
            assert response.headers["content-type"].startswith(PROBLEM)
            assert response.json()["code"] == "invalid_body"
        deep_object = b'{"a":' * 1000 + b"1" + b"}" * 1000
        assert client.post("/api/v1/worklogs", content=deep_object, headers=headers).status_code == 400
        broken = client.post("/api/v1/auth/refresh", content=b"{oops", headers=headers)
        assert (broken.status_code, broken.json()["code"]) == (400, "invalid_body")
        shallow = b"[" * 500 + b"]" * 500
        assert client.post("/api/v1/worklogs", content=shallow, headers=headers).status_code == 422


def test_json_bodies_are_read_strictly_so_wrong_types_are_422_naming_the_field(
    tmp_path: Path, clock: FixedClock
) -> None:
    """"30" is not a number of days, 0 is not a flag, a number is not a date-time: each is 422
    naming the field, and nothing is created or changed. Right types still work."""
    with client_with(tmp_path, clock) as client:
        signup(client, "acme")
        headers = bearer(token(client, "acme", "admin@acme.test"))
        me = client.get("/api/v1/me", headers=headers).json()["id"]
        monday = "2026-01-05T09:00:00Z"
        cases = [
            ("POST", "/api/v1/me/tokens", {"name": "ci", "expires_in_days": "30"}, "expires_in_days"),
            ("PATCH", f"/api/v1/users/{me}", {"approval_manager": 0}, "approval_manager"),
            ("POST", "/api/v1/worklogs", {"started_at": 1767600000, "length_s": 60}, "started_at"),
            ("POST", "/api/v1/worklogs", {"started_at": monday, "length_s": "60"}, "length_s"),
            ("PUT", "/api/v1/settings/tracking", {"tracking_without_work_item": "false"},
             "tracking_without_work_item"),
        ]
        for method, path, body, field in cases:
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == 422, (path, response.text)
            assert response.headers["content-type"].startswith(PROBLEM)
            assert [e["field"] for e in response.json()["errors"]] == [field], response.text
        assert client.get("/api/v1/me/tokens", headers=headers).json()["items"] == []
        assert client.get("/api/v1/me", headers=headers).json()["approval_manager"] is True
        made = client.post("/api/v1/me/tokens", json={"name": "ci", "expires_in_days": 30}, headers=headers)
        assert made.status_code == 201, made.text


def _policy(response: Any) -> dict[str, str]:
    directives = [d.strip() for d in response.headers["content-security-policy"].split(";") if d.strip()]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else "" for d in directives}


def test_every_answer_has_a_full_content_security_policy_and_a_page_with_a_nonce_a_fresh_one(
    tmp_path: Path, clock: FixedClock
) -> None:
    """default-src 'self', scripts and styles from this origin only, no plugins, no foreign
    base or form targets, and frame-ancestors as configured; a page with an inline script
    (/docs) has its scripts and styles allowed by a nonce made for that answer alone."""
    with client_with(tmp_path, clock) as client:
        for response in (client.get("/"), client.get("/api/v1/me"), client.get("/admin"),
                         client.get("/no/such/page"), client.get("/docs")):
            policy = _policy(response)
            assert policy["default-src"] == "'self'"
            assert policy["img-src"] == "'self' data:"
            assert policy["object-src"] == "'none'"
            assert policy["base-uri"] == "'self'"
            assert policy["form-action"] == "'self'"
            assert policy["frame-ancestors"] == "'self'"
            if response.url.path != "/docs":
                # No element of these carries a nonce: a policy with one would allow nothing more.
                assert policy["script-src"] == policy["style-src"] == "'self'", response.url
        first, second = _policy(client.get("/docs")), _policy(client.get("/docs"))
        nonce = re.fullmatch(r"'self' 'nonce-([A-Za-z0-9_-]{16,})'", first["script-src"])
        assert nonce is not None, first
        assert first["style-src"] == f"'self' 'nonce-{nonce[1]}'"
        assert second["script-src"] != first["script-src"]  # per answer


def test_no_page_or_console_template_has_inline_script_or_handlers() -> None:
    """With script-src 'self' an inline script, an on…= handler, hx-on or a javascript: URL would
    simply not run; behaviour lives in /static/stint.js."""
    root = Path(__file__).resolve().parents[2]
    templates = [*root.glob("web/templates/**/*.html"), *root.glob("admin/templates/**/*.html")]
    assert templates
    inline = re.compile(r"<script(?![^>]*\bsrc=)|\son[a-z]+\s*=|hx-on|javascript:|\sstyle\s*=", re.I)
    offenders = [str(t.relative_to(root)) for t in templates if inline.search(t.read_text())]
    assert offenders == []


def test_pages_the_console_and_the_api_are_never_stored_by_a_cache_but_static_files_may_be(
    tmp_path: Path, clock: FixedClock
) -> None:
    """Signed-in pages, the console, the sign-in forms (they hold a CSRF token) and every API
    answer carry Cache-Control: no-store; the vendored static files do not."""
    with client_with(tmp_path, clock) as client:
        signup(client, "acme")
        headers = bearer(token(client, "acme", "admin@acme.test"))
        for response in (
            client.get("/time", headers=headers),
            client.get("/settings/users", headers=headers),
            client.get("/"),
            client.get("/admin"),
            client.get("/api/v1/me", headers=headers),
            client.get("/no/such/page"),
        ):
            assert response.headers.get("cache-control") == "no-store", response.url
        assert "no-store" not in client.get("/static/stint.css").headers.get("cache-control", "")


def test_the_headers_worked_out_once_are_the_same_as_per_request_and_leave_a_responses_own_alone(
    tmp_path: Path,
) -> None:
    """SecurityHeaders (the edge's) joins the request's nonce into the policy cut once from
    _policy, or sends _policy's without a nonce when the request made none; a header the
    response set itself is kept, and https adds HSTS."""
    from web.security import SecurityHeaders, _policy

    settings = make_settings(f"sqlite:///{tmp_path / 'stint.sqlite3'}", tmp_path)
    security = SecurityHeaders(settings)
    assert security.policy(b"N0nce") == _policy(settings, "N0nce")
    headers = [(b"content-type", b"text/html"), (b"cache-control", b"max-age=60"),
               (b"x-frame-options", b"DENY")]
    https: Any = {"path": "/time", "scheme": "https", "state": {"csp_nonce": "kept"}}
    security.add(headers, https)
    found = dict(headers)
    assert found[b"cache-control"] == b"max-age=60" and found[b"x-frame-options"] == b"DENY"
    assert [name for name, _ in headers].count(b"x-frame-options") == 1
    assert found[b"strict-transport-security"].startswith(b"max-age=")
    assert b"'nonce-kept'" in found[b"content-security-policy"]
    static: list[tuple[bytes, bytes]] = []
    plain: Any = {"path": "/static/stint.css", "scheme": "http", "state": {}}
    security.add(static, plain)
    assert b"cache-control" not in dict(static) and b"strict-transport-security" not in dict(static)
    assert dict(static)[b"content-security-policy"] == _policy(settings, None)
    assert b"nonce" not in _policy(settings, None)


def test_every_answer_carries_a_request_id_a_404_without_a_route_too(
    tmp_path: Path, clock: FixedClock
) -> None:
    """The edge wraps routing: an answer with no route behind it has its X-Request-ID and
    security headers too; a caller's well-formed id is sent back."""
    with client_with(tmp_path, clock) as client:
        for response in (client.get("/no/such/page"), client.get("/health"), client.get("/api/v1/me")):
            assert len(response.headers["x-request-id"]) == 32, response.url
            assert response.headers["cache-control"] == "no-store"
        echoed = client.get("/health", headers={"X-Request-ID": "trace-42"})
        assert echoed.headers["x-request-id"] == "trace-42"
