"""Lean routes (web/lean.py): the edge answers ``GET /api/v1/me/access``'s happy path itself,
byte for byte as the Litestar route does, and hands everything else to that route — whose
answers (refusals included) stay exactly what they were, with one rate-limit count a request."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import PASSWORD, api_client, bearer, operator_token, signup, token
from tests.support.services import redis_store
from web.api.access import PATH
from web.edge import EdgeMiddleware
from web.logs import JsonFormatter

REDIS_DB = 11
KEY = ("GET", PATH)
PROBLEM = "application/problem+json"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    if request.param == "memory":
        yield {}
        return
    with redis_store(REDIS_DB) as settings:
        yield settings


def make_client(
    database_url: str, tmp_path: Path, clock: FixedClock, store: dict[str, str], **more: str
) -> Any:
    return api_client(make_settings(database_url, tmp_path, **store, **more), clock)


def signed_up_admin(client: Any) -> dict[str, str]:
    """Tenant acme signed up; its administrator's bearer header."""
    signup(client, "acme")
    return bearer(token(client, "acme", "admin@acme.test"))


def edge(client: Any) -> EdgeMiddleware:
    handler = client.app.asgi_handler
    assert isinstance(handler, EdgeMiddleware)
    return handler


@pytest.fixture
def answered() -> list[bool]:
    return []


def spy(client: Any, answered: list[bool]) -> None:
    """Record whether the lean handler answered (True) or fell through (False)."""
    real = edge(client).lean[KEY]

    async def recording(scope: Any, send: Any) -> bool:
        done = await real(scope, send)
        answered.append(done)
        return done

    edge(client).lean[KEY] = recording


def litestar_only(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edge(client), "lean", {})


_NONCE = re.compile(rb"'nonce-[A-Za-z0-9_-]+'")


def comparable(response: Any) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers in order and body, the per-request id and CSP nonce blanked."""
    headers = []
    for name, value in response.headers.raw:
        if name.lower() == b"x-request-id":
            value = b"-"
        elif name.lower() == b"content-security-policy":
            value = _NONCE.sub(b"'nonce-'", value)
        headers.append((name.lower(), value))
    return response.status_code, headers, response.content


def test_the_happy_path_is_answered_at_the_edge_as_litestar_answers_it(
    database_url: str,
    tmp_path: Path,
    clock: FixedClock,
    store: dict[str, str],
    answered: list[bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with make_client(database_url, tmp_path, clock, store) as client:
        headers = signed_up_admin(client)
        spy(client, answered)
        lean = [client.get(PATH, headers=headers) for _ in range(3)]
        assert answered == [True, True, True]
        litestar_only(client, monkeypatch)
        routed = [client.get(PATH, headers=headers) for _ in range(3)]
        assert answered == [True, True, True]
    assert lean[-1].status_code == 200 and lean[-1].json()["allowed"] is True
    for one, other in zip(lean, routed, strict=True):
        assert comparable(one) == comparable(other)
    assert lean[0].headers["x-request-id"] != lean[1].headers["x-request-id"]
    assert lean[0].headers["cache-control"] == "no-store"


def test_a_callers_request_id_is_kept_and_the_request_logged_as_before(
    database_url: str,
    tmp_path: Path,
    clock: FixedClock,
    store: dict[str, str],
    answered: list[bool],
) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("stint.access")
    with make_client(database_url, tmp_path, clock, store) as client:
        headers = {**signed_up_admin(client), "X-Request-ID": "req-42"}
        spy(client, answered)
        log.addHandler(handler)
        try:
            response = client.get(PATH, headers=headers)
        finally:
            log.removeHandler(handler)
    assert answered == [True]
    assert response.headers["x-request-id"] == "req-42"
    (line,) = out.getvalue().splitlines()
    entry = json.loads(line)
    assert {k: entry[k] for k in ("logger", "msg", "request_id", "tenant", "method", "path", "status")} == {
        "logger": "stint.access",
        "msg": "request",
        "request_id": "req-42",
        "tenant": "acme",
        "method": "GET",
        "path": PATH,
        "status": 200,
    }
    assert isinstance(entry["ms"], float)


@pytest.mark.parametrize("case", ["no token", "not a token", "operator realm", "revoked", "query", "origin"])
def test_everything_but_the_happy_path_is_litestars_answer(
    database_url: str,
    tmp_path: Path,
    clock: FixedClock,
    store: dict[str, str],
    answered: list[bool],
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    with make_client(database_url, tmp_path, clock, store) as client:
        signup(client, "acme")
        pair = client.post(
            "/api/v1/auth/token", json={"tenant": "acme", "email": "admin@acme.test", "password": PASSWORD}
        ).json()
        path, headers = PATH, bearer(pair["access_token"])
        if case == "no token":
            headers = {}
        elif case == "not a token":
            headers = bearer("x.y.z")
        elif case == "operator realm":
            headers = bearer(operator_token(client))
        elif case == "revoked":
            out = client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})
            assert out.status_code == 204
        elif case == "query":
            path = PATH + "?x=1"
        elif case == "origin":
            headers = {**headers, "Origin": "https://elsewhere.test"}
        spy(client, answered)
        lean = client.get(path, headers=headers)
        litestar_only(client, monkeypatch)
        routed = client.get(path, headers=headers)
    assert answered == [False]
    assert comparable(lean) == comparable(routed)
    if case in ("query", "origin"):
        assert lean.status_code == 200
    else:
        assert lean.status_code == 401 and lean.headers["content-type"].startswith(PROBLEM)
        assert lean.headers["www-authenticate"].startswith("Bearer")


def test_a_token_without_the_scope_gets_litestars_403(
    database_url: str,
    tmp_path: Path,
    clock: FixedClock,
    store: dict[str, str],
    answered: list[bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with make_client(database_url, tmp_path, clock, store) as client:
        headers = signed_up_admin(client)
        made = client.post(
            "/api/v1/me/tokens",
            headers=headers,
            json={"name": "reports", "expires_in_days": 30, "scopes": ["reporting:read"]},
        )
        assert made.status_code == 201, made.text
        narrow = bearer(made.json()["token"])
        spy(client, answered)
        lean = client.get(PATH, headers=narrow)
        litestar_only(client, monkeypatch)
        routed = client.get(PATH, headers=narrow)
    assert answered == [False]
    assert lean.status_code == 403 and lean.json()["code"] == "insufficient_scope"
    assert comparable(lean) == comparable(routed)


def test_each_request_is_counted_once_whichever_path_answers_it(
    database_url: str,
    tmp_path: Path,
    clock: FixedClock,
    store: dict[str, str],
    answered: list[bool],
) -> None:
    """Five allowed a minute: lean answers, fall-throughs after authenticating (a token
    without the scope) and requests Litestar alone answers (a query) spend one each."""
    with make_client(database_url, tmp_path, clock, store, STINT_RATE_LIMIT_API="5") as client:
        headers = signed_up_admin(client)
        made = client.post(
            "/api/v1/me/tokens",
            headers=headers,
            json={"name": "reports", "expires_in_days": 30, "scopes": ["reporting:read"]},
        )
        assert made.status_code == 201, made.text
        narrow = bearer(made.json()["token"])
        spy(client, answered)
        statuses = [
            client.get(PATH, headers=headers).status_code,
            client.get(PATH, headers=narrow).status_code,
            client.get(PATH + "?x=1", headers=headers).status_code,
            client.get(PATH, headers=headers).status_code,
        ]
        limited = client.get(PATH, headers=headers)
    assert statuses == [200, 403, 200, 200]
    assert limited.status_code == 429 and limited.headers["content-type"].startswith(PROBLEM)
    assert limited.json()["code"] == "rate_limited" and limited.headers["retry-after"]
    assert answered == [True, False, False, True, False]


def test_behind_trusted_proxies_litestar_answers_everything(
    database_url: str,
    tmp_path: Path,
    clock: FixedClock,
) -> None:
    with make_client(database_url, tmp_path, clock, {}, STINT_TRUSTED_PROXIES="127.0.0.1/32") as client:
        assert edge(client).lean == {}
