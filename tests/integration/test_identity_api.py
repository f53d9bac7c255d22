"""Signup, sign-in and access tokens through the HTTP API (SPEC §1, §9; API.md)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import PASSWORD, api_client, bearer, signup, token

PROBLEM = "application/problem+json"


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock) -> Any:
    with api_client(make_settings(database_url, tmp_path), clock) as c:
        yield c


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = dict(response.json())
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    if code:
        assert body["code"] == code
    return body


def test_signup_then_token_then_a_call_with_that_token_works(client: Any) -> None:
    """The first collection admin signs up, signs in and is who the API says."""
    created = signup(client, "acme")
    assert created["tenant"] == {"slug": "acme", "deployment": "cloud"}
    assert created["subscription"]["status"] == "trialing"
    assert created["subscription"]["trial_ends_at"].startswith("2026-01-29")

    me = client.get("/api/v1/me", headers=bearer(token(client, "acme", "admin@acme.test")))

    assert me.status_code == 200
    assert me.json()["email"] == "admin@acme.test"
    assert me.json()["role"] == "administrator"
    assert me.json()["collection_admin"] is True
    assert me.json()["tenant"]["slug"] == "acme"


def test_emails_are_one_identity_whatever_their_case(client: Any) -> None:
    """Ann@Acme.TEST signs in as ann@acme.test."""
    signup(client, "acme", email="Ann@Acme.TEST")
    assert token(client, "acme", "ann@acme.test")
    assert token(client, "acme", "  ANN@acme.test ")


@pytest.mark.parametrize(
    ("tenant", "email", "password"),
    [
        ("acme", "admin@acme.test", "wrong password"),
        ("nope", "admin@acme.test", PASSWORD),
        ("acme", "someone@acme.test", PASSWORD),
        ("acme", "not an email", PASSWORD),
    ],
    ids=["wrong password", "unknown tenant", "unknown user", "malformed email"],
)
def test_bad_credentials_get_one_indistinguishable_401(
    client: Any, tenant: str, email: str, password: str
) -> None:
    """Every failed sign-in answers the same, so nobody can probe which tenants or users exist."""
    signup(client, "acme")
    response = client.post(
        "/api/v1/auth/token", json={"tenant": tenant, "email": email, "password": password}
    )
    body = assert_problem(response, 401, "invalid_credentials")
    assert body["detail"] == "The tenant, e-mail or password is not right."


def _forge(payload: dict[str, Any], header: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


def test_tampered_expired_and_unsigned_tokens_are_401(client: Any, clock: FixedClock) -> None:
    """A changed payload, an expired token and an ``alg: none`` token are all refused."""
    signup(client, "acme")
    good = token(client, "acme", "admin@acme.test")
    header_b64, payload_b64, signature = good.split(".")
    payload = json.loads(base64.urlsafe_b64decode(payload_b64 + "=="))

    tampered_payload = dict(payload, sub="someone-else")
    tampered = ".".join([header_b64, _forge(tampered_payload, {}).split(".")[1], signature])
    unsigned = _forge(payload, {"alg": "none", "typ": "JWT"})
    hs512 = jwt.encode(payload, "guessed-key-" * 8, algorithm="HS512")

    for bad in (tampered, unsigned, hs512, "not-a-token", good + "x"):
        assert_problem(client.get("/api/v1/me", headers=bearer(bad)), 401, "invalid_token")
    assert_problem(client.get("/api/v1/me"), 401, "invalid_token")

    clock.advance(minutes=16)
    expired = client.get("/api/v1/me", headers=bearer(good))
    assert assert_problem(expired, 401)["detail"] == "the token has expired"
    assert expired.headers["www-authenticate"].startswith("Bearer")


def test_a_token_for_the_operator_realm_is_refused_by_the_tenant_api(client: Any) -> None:
    """Tenant users and operators are separate realms: audiences do not cross."""
    stint = client.app.state.stint
    operator_token, _ = stint.tokens.issue(
        subject="op", audience="stint-operator", tenant_id=None, now=stint.clock.now()
    )
    assert_problem(client.get("/api/v1/me", headers=bearer(operator_token)), 401)
    tenant_token = token(client, signup(client, "acme")["tenant"]["slug"], "admin@acme.test")
    assert_problem(client.get("/api/v1/operator/tenants", headers=bearer(tenant_token)), 401)


def test_a_malformed_body_gets_422_naming_the_field(client: Any) -> None:
    """Wrong types and missing fields name the field; broken JSON is a 400; nothing is a 500."""
    body = assert_problem(
        client.post(
            "/api/v1/signup",
            json={
                "tenant": "acme",
                "name": "A",
                "deployment": "moon",
                "admin": {"email": "a@b.co", "password": PASSWORD},
            },
        ),
        422,
        "validation_error",
    )
    assert body["errors"][0]["field"] == "deployment"
    body = assert_problem(client.post("/api/v1/auth/token", json={"tenant": "acme", "email": 5}), 422)
    assert body["errors"][0]["field"] == "email"
    body = assert_problem(
        client.post(
            "/api/v1/auth/token", json={"tenant": "a", "email": "a@b.co", "password": "x", "extra": 1}
        ),
        422,
    )
    assert "extra" in body["detail"]
    assert_problem(client.post("/api/v1/auth/token", content=b"{not json"), 400)
    assert_problem(
        client.post(
            "/api/v1/signup",
            json={
                "tenant": "UPPER CASE!",
                "name": "A",
                "deployment": "cloud",
                "admin": {"email": "a@b.co", "password": PASSWORD},
            },
        ),
        422,
        "validation_error",
    )


def test_signing_up_a_taken_tenant_name_is_a_conflict_and_changes_nothing(client: Any) -> None:
    """The second signup gets 409 ``tenant_exists``; the first admin still signs in."""
    signup(client, "acme")
    response = client.post(
        "/api/v1/signup",
        json={
            "tenant": "acme",
            "name": "Other",
            "deployment": "onprem",
            "admin": {"email": "mallory@evil.test", "password": PASSWORD},
        },
    )
    assert_problem(response, 409, "tenant_exists")
    assert token(client, "acme", "admin@acme.test")


def test_the_token_lifetime_is_short_and_said(client: Any) -> None:
    """Access tokens live 15 minutes by default and the answer says so."""
    signup(client, "acme")
    response = client.post(
        "/api/v1/auth/token", json={"tenant": "acme", "email": "admin@acme.test", "password": PASSWORD}
    )
    assert response.json()["expires_in"] == int(timedelta(minutes=15).total_seconds())
    assert response.json()["token_type"] == "bearer"


def test_health_checks_the_database_and_names_the_schema(client: Any) -> None:
    """/health answers 200 with the database engine and the current schema version."""
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["checks"]["database"]["ok"] is True
    assert response.json()["checks"]["database"]["schema_current"] is True


def test_the_openapi_schema_and_the_docs_page_load(client: Any) -> None:
    """The schema is JSON with the signup path; /docs renders it as HTML without a CDN."""
    schema = client.get("/schema/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/signup" in schema.json()["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/api/v1/auth/token" in docs.text
    assert "cdn" not in docs.text.lower()


def test_an_admin_and_a_user_with_250_character_e_mails_sign_up_sign_in_and_are_audited(client: Any) -> None:
    """E-mails may have 320 characters; names and audit rows named after them must hold them (m0020)."""
    admin_email = "a" * 240 + "@long.test"
    created = client.post("/api/v1/signup", json={
        "tenant": "long", "name": "Long", "deployment": "cloud",
        "admin": {"email": admin_email, "password": PASSWORD},  # nameless: named after the e-mail
    })
    assert created.status_code == 201, created.text
    admin = bearer(token(client, "long", admin_email))
    me = client.get("/api/v1/me", headers=admin)
    assert me.status_code == 200, me.text
    assert me.json()["email"] == admin_email

    user_email = "u" * 240 + "@long.test"
    added = client.post(
        "/api/v1/users", json={"email": user_email, "name": "U", "role": "team"}, headers=admin
    )
    assert added.status_code == 201, added.text
    audit = client.get("/api/v1/audit", headers=admin)
    assert audit.status_code == 200, audit.text
    assert user_email in audit.text
