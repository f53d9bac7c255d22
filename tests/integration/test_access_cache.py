"""Cached access decisions: served from the cache, forgotten on every change that alters them."""

from __future__ import annotations

import dataclasses
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from core.clock import FixedClock
from core.licensing.subscription import ExpiryReason, SubscriptionStatus
from core.services import access as access_service
from plugins.cache import MemoryGenerationCache, RedisGenerationCache, fallback
from plugins.settings import READ_CLIENTS
from tests.conftest import make_settings
from tests.support.api import api_client, bearer, signup, token
from tests.support.mail import free_port
from tests.support.services import REDIS_URL

REDIS_DB = 11


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    prefix = f"stint-test-{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis.Redis.from_url(f"{REDIS_URL}/{REDIS_DB}")
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture(
    params=["memory", *(pytest.param(name, marks=pytest.mark.redis) for name in READ_CLIENTS)]
)
def extra_settings(request: pytest.FixtureRequest) -> dict[str, str]:
    """Each test runs with the in-process cache and with Redis (through each read-ahead client,
    ``STINT_REDIS_READ_CLIENT``)."""
    if request.param == "memory":
        return {}
    prefix = request.getfixturevalue("redis_prefix")
    return {"STINT_REDIS_URL": f"{REDIS_URL}/{REDIS_DB}", "STINT_REDIS_PREFIX": prefix,
            "STINT_REDIS_READ_CLIENT": request.param}


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock, extra_settings: dict[str, str]) -> Any:
    with api_client(make_settings(database_url, tmp_path, **extra_settings), clock) as c:
        signup(c, "acme")
        yield c


@pytest.fixture
def decisions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each decision computed from the database (a cache miss)."""
    made: list[str] = []
    real = access_service._decide_now

    async def counting(*args: Any) -> Any:
        made.append(args[4].value)
        return await real(*args)

    monkeypatch.setattr(access_service, "_decide_now", counting)
    return made


def run(client: Any, fn: Any) -> Any:
    """Run ``fn(stint)`` on the app's own event loop (its database pool lives there)."""

    async def call() -> Any:
        return await fn(client.app.state.stint)

    return client.blocking_portal.call(call)


async def _change_user(stint: Any, email: str, **changes: Any) -> None:
    async with stint.uow(write=True) as work:
        tenant = await work.directory.tenant_by_slug("acme")
        scope = work.tenant(tenant.id)
        user = await scope.users().by_email(email)
        await scope.users().save(dataclasses.replace(user, **changes))
        await work.commit()


def warm(client: Any, headers: dict[str, str], decisions: list[str]) -> None:
    """The first request licenses the caller on first use (a seat change, so a new generation)."""
    for _ in range(2):
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    decisions.clear()


def test_a_repeated_request_is_decided_once(client: Any, decisions: list[str]) -> None:
    """Once nothing changes, identical requests are answered from the cache, not the database."""
    headers = bearer(token(client, "acme", "admin@acme.test"))
    warm(client, headers, decisions)
    for _ in range(5):
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert decisions == []


def test_a_role_change_is_visible_on_the_very_next_request(client: Any, decisions: list[str]) -> None:
    """Administrator → None: the next request is refused with ``role_none``, and back again."""
    headers = bearer(token(client, "acme", "admin@acme.test"))
    warm(client, headers, decisions)

    run(client, lambda stint: _change_user(stint, "admin@acme.test", role="none"))
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "role_none"

    run(client, lambda stint: _change_user(stint, "admin@acme.test", role="administrator"))
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_a_subscription_change_is_visible_on_the_very_next_request(client: Any) -> None:
    """An expired trial refuses the next request with 402 although "allowed" was cached."""
    headers = bearer(token(client, "acme", "admin@acme.test"))
    warm(client, headers, [])

    async def expire(stint: Any) -> None:
        async with stint.uow(write=True) as work:
            tenant = await work.directory.tenant_by_slug("acme")
            scope = work.tenant(tenant.id)
            held = await scope.subscriptions().get(for_update=True)
            sub_id, sub = held.id, held.subscription
            await scope.subscriptions().save(
                sub_id,
                dataclasses.replace(
                    sub, status=SubscriptionStatus.EXPIRED, expired_on=stint.clock.now().date(),
                    expiry_reason=ExpiryReason.TRIAL_EXPIRED,
                ),
                stint.clock.now(),
            )
            await work.commit()

    run(client, expire)
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 402, response.text


def test_a_released_seat_is_visible_on_the_very_next_request(client: Any, decisions: list[str]) -> None:
    """Releasing the caller's seat forgets their cached decision (first use then licenses them again)."""
    headers = bearer(token(client, "acme", "admin@acme.test"))
    warm(client, headers, decisions)

    async def release(stint: Any) -> None:
        async with stint.uow(write=True) as work:
            tenant = await work.directory.tenant_by_slug("acme")
            scope = work.tenant(tenant.id)
            user = await scope.users().by_email("admin@acme.test")
            assert await scope.seats().release(user.person_id)
            await work.commit()

    run(client, release)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert decisions == ["use_api"]


def test_a_rolled_back_change_keeps_the_cache(client: Any, decisions: list[str]) -> None:
    """Only committed changes move generations; an abandoned unit of work does not."""
    headers = bearer(token(client, "acme", "admin@acme.test"))
    warm(client, headers, decisions)

    async def abandon(stint: Any) -> None:
        async with stint.uow(write=True) as work:
            tenant = await work.directory.tenant_by_slug("acme")
            scope = work.tenant(tenant.id)
            user = await scope.users().by_email("admin@acme.test")
            await scope.users().save(dataclasses.replace(user, role="none"))

    run(client, abandon)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert decisions == []


def test_one_tenants_change_does_not_forget_another_tenants_decisions(
    client: Any, decisions: list[str]
) -> None:
    """Generations are per tenant and per subscription."""
    signup(client, "globex")
    acme = bearer(token(client, "acme", "admin@acme.test"))
    globex = bearer(token(client, "globex", "admin@globex.test"))
    warm(client, acme, decisions)
    warm(client, globex, decisions)
    run(client, lambda stint: _change_user(stint, "admin@acme.test", approval_manager=True))
    client.get("/api/v1/me", headers=globex)
    client.get("/api/v1/me", headers=acme)
    assert decisions == ["use_api"]


@pytest.mark.parametrize("backend", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def test_a_bump_hides_values_stored_under_the_old_generation(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """get → (None, stamp); put under the stamp → hit; bump one of its scopes → miss."""
    if backend == "memory":
        cache: Any = MemoryGenerationCache()
        client = None
    else:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(f"{REDIS_URL}/{REDIS_DB}")
        cache = RedisGenerationCache(client, request.getfixturevalue("redis_prefix"))
    try:
        scopes = ("t:a", "s:b", "*")
        first = await cache.get("k", scopes)
        assert first.value is None
        await cache.put("k", first.stamp, {"allowed": True}, 60)
        assert (await cache.get("k", scopes)).value == {"allowed": True}
        await cache.bump(["s:b"])
        assert (await cache.get("k", scopes)).value is None
        # A value computed before the bump but stored after it is never served.
        await cache.put("k", first.stamp, {"allowed": True}, 60)
        assert (await cache.get("k", scopes)).value is None
    finally:
        if client is not None:
            await client.aclose()


@pytest.fixture(params=READ_CLIENTS)
def redis_client(
    database_url: str, tmp_path: Path, clock: FixedClock, redis_prefix: str, request: pytest.FixtureRequest
) -> Any:
    settings = make_settings(database_url, tmp_path, STINT_REDIS_URL=f"{REDIS_URL}/{REDIS_DB}",
                             STINT_REDIS_PREFIX=redis_prefix, STINT_REDIS_READ_CLIENT=request.param)
    with api_client(settings, clock) as c:
        signup(c, "acme")
        yield c


@pytest.fixture
def redis_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every command the app sends to Redis (a pipeline counts as one round trip), from when
    the test asks: redis-py's own send methods and the hot path's lean client, wrapped to
    record and pass through."""
    import redis.asyncio as aioredis

    from plugins.cache.lean_redis import LeanRedis

    calls: list[str] = []
    command, pipeline = aioredis.Redis.execute_command, aioredis.client.Pipeline.execute
    lean = LeanRedis.execute

    async def counted_lean(self: Any, packed: bytes) -> Any:
        calls.append(packed.split(b"\r\n")[2].decode())  # *N, $len, then the command's name
        return await lean(self, packed)

    monkeypatch.setattr(LeanRedis, "execute", counted_lean)

    async def counted_command(self: Any, *args: Any, **options: Any) -> Any:
        calls.append(str(args[0]))
        return await command(self, *args, **options)

    async def counted_pipeline(self: Any, *args: Any, **options: Any) -> Any:
        calls.append("PIPELINE")
        return await pipeline(self, *args, **options)

    monkeypatch.setattr(aioredis.Redis, "execute_command", counted_command)
    monkeypatch.setattr(aioredis.client.Pipeline, "execute", counted_pipeline)
    return calls


@pytest.mark.redis
@pytest.mark.parametrize("path", ["/api/v1/me/access", "/api/v1/me"])
def test_a_warm_request_makes_one_redis_round_trip(
    redis_client: Any, redis_calls: list[str], path: str
) -> None:
    """Once the caller's rows and decision are cached, authentication, the rate-limit count and
    the decision (the guard's or /me/access's own) share one script call."""
    headers = bearer(token(redis_client, "acme", "admin@acme.test"))
    for _ in range(3):  # licenses on first use; the process learns what this caller looks up
        assert redis_client.get(path, headers=headers).status_code == 200
    redis_calls.clear()

    for _ in range(3):
        assert redis_client.get(path, headers=headers).status_code == 200
    assert redis_calls == ["EVALSHA"] * 3


@pytest.mark.redis
def test_with_redis_a_role_change_is_visible_on_the_very_next_access_request(
    redis_client: Any, redis_calls: list[str], decisions: list[str]
) -> None:
    """/me/access answered from the one read; a role change, then a licence change, show at once."""
    headers = bearer(token(redis_client, "acme", "admin@acme.test"))
    for _ in range(3):
        assert redis_client.get("/api/v1/me/access", headers=headers).json()["allowed"] is True
    decisions.clear()

    run(redis_client, lambda stint: _change_user(stint, "admin@acme.test", role="none"))
    refused = redis_client.get("/api/v1/me/access", headers=headers).json()
    assert (refused["allowed"], refused["reason"]) == (False, "role_none")

    run(redis_client, lambda stint: _change_user(stint, "admin@acme.test", role="administrator"))
    assert redis_client.get("/api/v1/me/access", headers=headers).json()["allowed"] is True
    assert decisions == ["use_time_tab", "use_time_tab"]


def _own_redis(port: int, data: Path) -> subprocess.Popen[bytes]:
    """A Redis of this test's own that keeps its data across a restart (saved on SIGTERM)."""
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "3600 1", "--appendonly", "no",
         "--dir", str(data), "--dbfilename", "dump.rdb"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    for _ in range(100):
        try:
            if redis.Redis(host="127.0.0.1", port=port, socket_timeout=1).ping():
                return process
        except redis.RedisError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("our Redis did not start")


@pytest.mark.redis
@pytest.mark.parametrize("read_client", READ_CLIENTS)
def test_a_role_change_made_while_redis_was_down_is_visible_when_it_returns(
    database_url: str, tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, read_client: str
) -> None:
    """Redis stops (keeping the cached "allowed"), the caller's role changes meanwhile: the answers
    come from the database during the outage and stay right once the same data is back."""
    monkeypatch.setattr(fallback, "RETRY_AFTER_SECONDS", 0.1)
    port = free_port()
    our_redis = _own_redis(port, tmp_path)
    settings = make_settings(database_url, tmp_path, STINT_REDIS_URL=f"redis://127.0.0.1:{port}/0",
                             STINT_REDIS_READ_CLIENT=read_client)
    try:
        with api_client(settings, clock) as c:
            signup(c, "acme")
            headers = bearer(token(c, "acme", "admin@acme.test"))
            for _ in range(3):
                assert c.get("/api/v1/me/access", headers=headers).json()["allowed"] is True

            our_redis.terminate()
            our_redis.wait(timeout=10)
            assert c.get("/api/v1/me/access", headers=headers).json()["allowed"] is True
            run(c, lambda stint: _change_user(stint, "admin@acme.test", role="none"))
            assert c.get("/api/v1/me/access", headers=headers).json()["reason"] == "role_none"

            our_redis = _own_redis(port, tmp_path)
            time.sleep(0.2)
            for _ in range(3):
                assert c.get("/api/v1/me/access", headers=headers).json()["reason"] == "role_none"
    finally:
        if our_redis.poll() is None:
            our_redis.terminate()
            our_redis.wait(timeout=10)
