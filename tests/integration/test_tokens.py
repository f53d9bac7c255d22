"""Refresh tokens, personal access tokens and JWT checks through the HTTP API (SPEC §9)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import PASSWORD, api_client, bearer, signup, token

PROBLEM = "application/problem+json"


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock) -> Any:
    with api_client(make_settings(database_url, tmp_path), clock) as c:
        signup(c, "acme")
        yield c


def sign_in(client: Any, slug: str = "acme", email: str = "admin@acme.test") -> dict[str, Any]:
    response = client.post("/api/v1/auth/token", json={"tenant": slug, "email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return dict(response.json())


def refresh(client: Any, refresh_token: str) -> Any:
    return client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


def assert_401(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith(PROBLEM)


def test_sign_in_answers_a_refresh_token_that_trades_for_a_new_working_pair(client: Any) -> None:
    """POST /auth/refresh gives a new access token that works and a different refresh token."""
    first = sign_in(client)
    assert first["refresh_token"].startswith("stint_rt_")
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200, second.text
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert pair["token_type"] == "bearer" and pair["expires_in"] == 900
    assert client.get("/api/v1/me", headers=bearer(pair["access_token"])).status_code == 200


def test_a_reused_refresh_token_is_401_and_revokes_the_newer_token_of_its_family(client: Any) -> None:
    """Presenting a spent refresh token again revokes the whole family, the thief's copy and the owner's."""
    first = sign_in(client)["refresh_token"]
    newer = refresh(client, first).json()["refresh_token"]

    assert_401(refresh(client, first))
    assert_401(refresh(client, newer))


def test_a_reuse_does_not_touch_other_sign_ins_of_the_same_user(client: Any) -> None:
    """Only the family of the reused token is revoked; another device's sign-in keeps working."""
    laptop = sign_in(client)["refresh_token"]
    phone = sign_in(client)["refresh_token"]
    refresh(client, laptop)
    assert_401(refresh(client, laptop))
    assert refresh(client, phone).status_code == 200


def test_logout_revokes_the_refresh_family(client: Any) -> None:
    """After /auth/logout neither the token nor anything rotated from it refreshes."""
    first = sign_in(client)["refresh_token"]
    newer = refresh(client, first).json()["refresh_token"]
    assert client.post("/api/v1/auth/logout", json={"refresh_token": newer}).status_code == 204
    assert_401(refresh(client, newer))
    assert client.post("/api/v1/auth/logout", json={"refresh_token": "stint_rt_nonsense"}).status_code == 204


def test_an_expired_or_malformed_refresh_token_is_401(client: Any, clock: FixedClock) -> None:
    """A refresh token unused for 30 days is dead; garbage and forged tenant ids are refused alike."""
    old = sign_in(client)["refresh_token"]
    for bad in ("nope", "stint_rt_", "stint_rt_" + "a" * 32 + "_" + "b" * 43, old + "x"):
        assert_401(refresh(client, bad))
    clock.advance(days=31)
    assert_401(refresh(client, old))


def test_a_personal_access_token_is_shown_once_and_works_as_a_bearer_token(
    client: Any, clock: FixedClock
) -> None:
    """201 {id, token}; the token calls the API; the list shows its last use but never the secret."""
    access = bearer(sign_in(client)["access_token"])
    created = client.post("/api/v1/me/tokens", json={"name": "CI", "expires_in_days": 30}, headers=access)
    assert created.status_code == 201, created.text
    pat = created.json()
    assert pat["token"].startswith("stint_pat_") and pat["id"]

    clock.advance(minutes=5)
    me = client.get("/api/v1/me", headers=bearer(pat["token"]))
    assert me.status_code == 200 and me.json()["email"] == "admin@acme.test"

    listed = client.get("/api/v1/me/tokens", headers=access).json()
    assert [t["id"] for t in listed["items"]] == [pat["id"]]
    assert listed["items"][0]["last_used_at"].startswith("2026-01-01T09:05")
    assert pat["token"] not in json.dumps(listed)


def test_personal_access_tokens_are_stored_only_as_a_hash(client: Any) -> None:
    """The database holds the SHA-256 of the secret, never the secret."""
    access = bearer(sign_in(client)["access_token"])
    secret = client.post("/api/v1/me/tokens", json={"name": "x", "expires_in_days": 1}, headers=access).json()

    async def rows() -> list[dict[str, Any]]:
        from plugins.storage.tables import PersonalAccessToken

        return list(await PersonalAccessToken.select())

    stored = client.blocking_portal.call(rows)
    assert stored[0]["token_hash"] == hashlib.sha256(secret["token"].encode()).hexdigest()
    assert secret["token"] not in json.dumps(stored, default=str)


@pytest.mark.parametrize("days", [0, 366, -1])
def test_a_personal_access_token_lives_at_most_a_year(client: Any, days: int) -> None:
    """expires_in_days outside 1…365 is 422 problem+json naming the field."""
    access = bearer(sign_in(client)["access_token"])
    body = {"name": "long", "expires_in_days": days}
    response = client.post("/api/v1/me/tokens", json=body, headers=access)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["errors"][0]["field"] == "expires_in_days"


def test_a_revoked_personal_access_token_is_401_on_its_next_use(client: Any) -> None:
    """DELETE /me/tokens/{id} → 204; the token is refused from then on; deleting again is 404."""
    access = bearer(sign_in(client)["access_token"])
    pat = client.post("/api/v1/me/tokens", json={"name": "x", "expires_in_days": 7}, headers=access).json()
    assert client.get("/api/v1/me", headers=bearer(pat["token"])).status_code == 200

    assert client.delete(f"/api/v1/me/tokens/{pat['id']}", headers=access).status_code == 204
    assert_401(client.get("/api/v1/me", headers=bearer(pat["token"])))
    assert client.delete(f"/api/v1/me/tokens/{pat['id']}", headers=access).status_code == 404
    assert client.get("/api/v1/me/tokens", headers=access).json()["items"] == []


def test_an_expired_personal_access_token_is_401(client: Any, clock: FixedClock) -> None:
    """A one-day token is refused a day later."""
    access = bearer(sign_in(client)["access_token"])
    pat = client.post("/api/v1/me/tokens", json={"name": "x", "expires_in_days": 1}, headers=access).json()
    clock.advance(days=1, seconds=1)
    assert_401(client.get("/api/v1/me", headers=bearer(pat["token"])))


def test_a_personal_access_token_cannot_create_another(client: Any) -> None:
    """A leaked token must not mint a longer-lived one: 403."""
    access = bearer(sign_in(client)["access_token"])
    pat = client.post("/api/v1/me/tokens", json={"name": "x", "expires_in_days": 1}, headers=access).json()
    response = client.post("/api/v1/me/tokens", json={"name": "y", "expires_in_days": 365},
                           headers=bearer(pat["token"]))
    assert response.status_code == 403 and response.json()["code"] == "not_permitted"


def test_nobody_can_revoke_or_list_someone_elses_personal_access_token(client: Any) -> None:
    """Another user's token id is 404 on DELETE and absent from their list."""
    signup(client, "globex")
    mine = client.post("/api/v1/me/tokens", json={"name": "x", "expires_in_days": 1},
                       headers=bearer(sign_in(client)["access_token"])).json()
    theirs = bearer(token(client, "globex", "admin@globex.test"))
    assert client.delete(f"/api/v1/me/tokens/{mine['id']}", headers=theirs).status_code == 404
    assert client.get("/api/v1/me/tokens", headers=theirs).json()["items"] == []
    assert client.get("/api/v1/me", headers=bearer(mine["token"])).status_code == 200


def test_the_token_list_is_cursor_paginated(client: Any) -> None:
    """limit and cursor walk the list without gaps or repeats."""
    access = bearer(sign_in(client)["access_token"])
    made = {client.post("/api/v1/me/tokens", json={"name": f"t{i}", "expires_in_days": 1},
                        headers=access).json()["id"] for i in range(5)}
    seen: list[str] = []
    cursor = ""
    while True:
        page = client.get("/api/v1/me/tokens", params={"limit": 2, "cursor": cursor}, headers=access).json()
        seen += [t["id"] for t in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(made) and len(seen) == 5


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _hs256_with(key: bytes, payload: dict[str, Any]) -> str:
    """Sign by hand: PyJWT itself refuses a PEM key as an HMAC secret."""
    head = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(payload)}"
    mac = hmac.new(key, head.encode(), hashlib.sha256).digest()
    return f"{head}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def test_forged_jwts_are_401(client: Any, clock: FixedClock) -> None:
    """alg none, an RS256 token (HS/RS confusion), a wrong audience and an expired token are refused."""
    good = sign_in(client)["access_token"]
    payload = jwt.decode(good, options={"verify_signature": False})
    key = client.app.state.stint.settings.secret_key
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forged = {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}.",
        "RS256": jwt.encode(payload, private, algorithm="RS256"),
        # The classic confusion: an HS256 token keyed with a public key the server might hold.
        "HS256 keyed with a public key": _hs256_with(public_pem, payload),
        "wrong audience": jwt.encode({**payload, "aud": "someone-else"}, key, algorithm="HS256"),
        "wrong issuer": jwt.encode({**payload, "iss": "evil"}, key, algorithm="HS256"),
        "expired": jwt.encode({**payload, "exp": payload["iat"] - 60}, key, algorithm="HS256"),
    }
    for name, bad in forged.items():
        response = client.get("/api/v1/me", headers=bearer(bad))
        assert response.status_code == 401, name
        assert response.json()["code"] == "invalid_token", name


def test_expiry_allows_a_small_leeway_and_no_more(client: Any, clock: FixedClock) -> None:
    """Five seconds past expiry still works (clock skew); a minute past does not."""
    good = sign_in(client)["access_token"]
    clock.advance(minutes=15, seconds=5)
    assert client.get("/api/v1/me", headers=bearer(good)).status_code == 200
    clock.advance(minutes=1)
    assert_401(client.get("/api/v1/me", headers=bearer(good)))
