"""Abuse limits: failed sign-ins per account, token requests per client, API requests per tenant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from plugins.cache import limits
from tests.conftest import make_settings
from tests.support.api import PASSWORD, api_client, bearer, signup, token
from tests.support.services import redis_store

REDIS_DB = 12
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def window_start(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Pin the limiter's clock 10 s into a minute, so no test straddles a window's edge."""
    at = [1_800_000_000.0 + 10]
    monkeypatch.setattr(limits, "now", lambda: at[0])
    yield at


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Each test runs with the in-process counters and with Redis (its own key prefix)."""
    if request.param == "memory":
        yield {}
        return
    with redis_store(REDIS_DB) as settings:
        yield settings


def make_client(tmp_path: Path, clock: FixedClock, store: dict[str, str], **limits_: str) -> Any:
    settings = make_settings(f"sqlite:///{tmp_path / 'stint.sqlite3'}", tmp_path, **store, **limits_)
    return api_client(settings, clock)


def sign_in(client: Any, password: str, email: str = "admin@acme.test") -> Any:
    return client.post("/api/v1/auth/token", json={"tenant": "acme", "email": email, "password": password})


def assert_429(response: Any) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response.headers["retry-after"]) <= 60


def test_eleven_wrong_passwords_in_a_minute_for_one_account_get_429(
    tmp_path: Path, clock: FixedClock, store: dict[str, str]
) -> None:
    """Ten failures answer 401; the eleventh attempt — even with the right password — is 429."""
    with make_client(tmp_path, clock, store) as client:
        signup(client, "acme")
        for _ in range(10):
            assert sign_in(client, "wrong password").status_code == 401
        assert_429(sign_in(client, "wrong password"))
        assert_429(sign_in(client, PASSWORD))


def test_the_account_limit_lifts_in_the_next_window_and_spares_other_accounts(
    tmp_path: Path, clock: FixedClock, store: dict[str, str], window_start: list[float]
) -> None:
    """Another account signs in while one is locked; a minute later the locked one can too."""
    with make_client(tmp_path, clock, store) as client:
        signup(client, "acme")
        signup(client, "globex")
        for _ in range(11):
            sign_in(client, "wrong password")
        assert token(client, "globex", "admin@globex.test")
        window_start[0] += 60
        assert sign_in(client, PASSWORD).status_code == 200


def test_token_requests_are_limited_per_client_address(
    tmp_path: Path, clock: FixedClock, store: dict[str, str]
) -> None:
    """With five per minute allowed, the sixth sign-in or refresh from one address is 429."""
    with make_client(tmp_path, clock, store, STINT_RATE_LIMIT_CLIENT="5") as client:
        signup(client, "acme")
        for _ in range(4):
            assert sign_in(client, PASSWORD).status_code == 200
        assert client.post("/api/v1/auth/refresh", json={"refresh_token": "x"}).status_code == 401
        assert_429(client.post("/api/v1/auth/refresh", json={"refresh_token": "x"}))
        assert_429(sign_in(client, PASSWORD))


def test_signups_are_limited_per_client_address_apart_from_sign_ins(
    tmp_path: Path, clock: FixedClock, store: dict[str, str], window_start: list[float]
) -> None:
    """With three per minute allowed, the fourth signup from one address is 429 and creates
    nothing; sign-ins keep their own allowance, and the next minute signups work again."""
    with make_client(tmp_path, clock, store, STINT_RATE_LIMIT_CLIENT="3") as client:
        for slug in ("acme", "globex", "initech"):
            signup(client, slug)
        refused = client.post("/api/v1/signup", json={
            "tenant": "hooli", "name": "Hooli", "deployment": "cloud",
            "admin": {"email": "admin@hooli.test", "password": PASSWORD, "name": "Admin"},
        })
        assert_429(refused)
        assert "signups" in refused.json()["detail"]
        assert sign_in(client, PASSWORD).status_code == 200
        window_start[0] += 60
        assert client.post("/api/v1/auth/token", json={
            "tenant": "hooli", "email": "admin@hooli.test", "password": PASSWORD,
        }).status_code == 401
        signup(client, "hooli")


def test_one_tenants_api_flood_does_not_spend_another_tenants_limit(
    tmp_path: Path, clock: FixedClock, store: dict[str, str]
) -> None:
    """Acme's flood is cut at its own limit with 429; Globex keeps its whole allowance."""
    with make_client(tmp_path, clock, store, STINT_RATE_LIMIT_API="20") as client:
        signup(client, "acme")
        signup(client, "globex")
        acme = bearer(token(client, "acme", "admin@acme.test"))
        globex = bearer(token(client, "globex", "admin@globex.test"))
        answers = [client.get("/api/v1/me", headers=acme).status_code for _ in range(60)]
        assert answers[:20] == [200] * 20 and set(answers[20:]) == {429}
        assert_429(client.get("/api/v1/me", headers=acme))
        for _ in range(20):
            assert client.get("/api/v1/me", headers=globex).status_code == 200
        assert_429(client.get("/api/v1/me", headers=globex))
