"""Revocation at once (issue #15): ending a sign-in — a logout, a refresh token presented
twice, a page sign-out — refuses that sign-in's access tokens on the very next request,
in every process sharing the cache, not when they expire 15 minutes later."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.integration.test_activation_online import (
    STINT,
    StintProcess,
    free_port,
    plain_client,
    process_env,
)
from tests.support.api import PASSWORD, add_user, api_client, bearer, signup, token
from tests.support.services import REDIS_URL
from web.pages.session import ACCESS_COOKIE

REDIS_DB = 12


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    prefix = f"stint-test-{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis.Redis.from_url(f"{REDIS_URL}/{REDIS_DB}")
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def cache_settings(request: pytest.FixtureRequest) -> dict[str, str]:
    """Each in-process test runs with the in-process cache and with Redis."""
    if request.param == "memory":
        return {}
    prefix = request.getfixturevalue("redis_prefix")
    return {"STINT_REDIS_URL": f"{REDIS_URL}/{REDIS_DB}", "STINT_REDIS_PREFIX": prefix}


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock, cache_settings: dict[str, str]) -> Any:
    with api_client(make_settings(database_url, tmp_path, **cache_settings), clock) as c:
        signup(c, "acme")
        yield c


def sign_in(client: Any, email: str = "admin@acme.test") -> dict[str, Any]:
    body = {"tenant": "acme", "email": email, "password": PASSWORD}
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def me(client: Any, pair: dict[str, Any]) -> Any:
    return client.get("/api/v1/me", headers=bearer(pair["access_token"]))


def logout(client: Any, pair: dict[str, Any]) -> Any:
    return client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})


def assert_revoked(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "token_revoked"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_logout_refuses_its_access_token_on_the_very_next_request(client: Any) -> None:
    pair = sign_in(client)
    assert me(client, pair).status_code == 200  # "not revoked" is cached now
    assert logout(client, pair).status_code == 204
    assert_revoked(me(client, pair))


def test_a_logout_ends_only_its_own_sign_in(client: Any) -> None:
    """Signing out on one device leaves the same user's other sign-ins working."""
    laptop, phone = sign_in(client), sign_in(client)
    assert me(client, laptop).status_code == me(client, phone).status_code == 200
    logout(client, laptop)
    assert_revoked(me(client, laptop))
    assert me(client, phone).status_code == 200


def test_a_reused_refresh_token_refuses_its_familys_access_tokens_at_once(client: Any) -> None:
    """The thief's copy and the owner's newer access token both stop, not only the refresh tokens."""
    first = sign_in(client)
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    assert me(client, second).status_code == 200
    reused = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert_revoked(me(client, second))
    assert_revoked(me(client, first))


def test_a_personal_access_token_is_not_ended_by_a_logout(client: Any) -> None:
    """A PAT is its own credential, revoked on its own (DELETE /me/tokens/{id})."""
    pair = sign_in(client)
    made = client.post("/api/v1/me/tokens", json={"name": "ci", "expires_in_days": 30},
                       headers=bearer(pair["access_token"]))
    assert made.status_code == 201, made.text
    logout(client, pair)
    assert client.get("/api/v1/me", headers=bearer(made.json()["token"])).status_code == 200


def test_signing_out_of_the_pages_refuses_the_access_cookie_at_once(client: Any) -> None:
    """A copy of the access cookie taken before sign-out opens nothing afterwards."""
    client.get("/")
    form = {"tenant": "acme", "email": "admin@acme.test", "password": PASSWORD,
            "_csrf_token": client.cookies["csrftoken"]}
    assert client.post("/signin", data=form, follow_redirects=False).status_code == 303
    access = client.cookies[ACCESS_COOKIE]
    assert client.get("/api/v1/me", headers=bearer(access)).status_code == 200
    signed_out = client.post("/signout", data={"_csrf_token": client.cookies["csrftoken"]},
                             follow_redirects=False)
    assert signed_out.status_code == 303
    assert_revoked(client.get("/api/v1/me", headers=bearer(access)))
    client.cookies.clear()
    client.cookies.set(ACCESS_COOKIE, access, domain="testserver.local")
    page = client.get("/time", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/?next=")


# Two `stint serve` processes sharing PostgreSQL and Redis ------------------------------------


def _serve(workdir: Path, database_url: str, redis_url: str, prefix: str) -> StintProcess:
    workdir.mkdir(parents=True)
    port = free_port()
    log = workdir / "serve.log"
    env = process_env(STINT_DATABASE_URL=database_url, STINT_REDIS_URL=redis_url, STINT_REDIS_PREFIX=prefix,
                      STINT_DATA_DIR=str(workdir / "data"))
    with log.open("wb") as out:
        process = subprocess.Popen([STINT, "serve", "--port", str(port)], cwd=workdir, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    server = StintProcess(f"http://127.0.0.1:{port}", workdir, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(server.url + "/health", timeout=2, trust_env=False).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.stop()
    pytest.fail(f"stint serve did not start: {log.read_text(errors='replace')}")


@pytest.fixture
def two_processes(postgres_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    redis_url = f"{REDIS_URL}/{REDIS_DB}"
    # One after the other: the first brings the schema and the plans catalogue up to date.
    first = _serve(tmp_path / "a", postgres_url, redis_url, redis_prefix)
    second = None
    try:
        second = _serve(tmp_path / "b", postgres_url, redis_url, redis_prefix)
        with plain_client(first.url) as a, plain_client(second.url) as b:
            yield a, b
    finally:
        for server in (second, first):
            if server is not None:
                server.stop()


@pytest.mark.postgres
@pytest.mark.redis
def test_a_logout_through_one_process_is_refused_by_another_on_the_very_next_request(
    two_processes: tuple[Any, Any],
) -> None:
    """Done-when 4: sign in and sign out on A; B, which had the token's sign-in cached as
    live, refuses it on the next request; the user's other sign-in goes on working on B."""
    a, b = two_processes
    signup(a, "acme")
    pair, other = sign_in(a), sign_in(a)
    assert me(b, pair).status_code == 200 and me(b, other).status_code == 200
    assert logout(a, pair).status_code == 204
    assert_revoked(me(b, pair))
    assert me(b, other).status_code == 200


@pytest.mark.postgres
@pytest.mark.redis
def test_a_reused_refresh_token_and_a_role_set_to_none_on_one_process_are_refused_by_another_at_once(
    two_processes: tuple[Any, Any],
) -> None:
    a, b = two_processes
    signup(a, "acme")
    first = sign_in(a)
    second = a.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    assert me(b, second).status_code == 200
    assert a.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 401
    assert_revoked(me(b, second))

    admin_token = token(a, "acme", "admin@acme.test")
    tim = add_user(a, admin_token, "tim@acme.test")
    tims = sign_in(a, "tim@acme.test")
    assert me(b, tims).status_code == 200
    changed = a.patch(f"/api/v1/users/{tim['id']}", json={"role": "none"}, headers=bearer(admin_token))
    assert changed.status_code == 200, changed.text
    # Role None in the cloud: the tenant API is not there for them at all (SPEC §6).
    refused = me(b, tims)
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
