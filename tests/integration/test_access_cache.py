"""Cached access decisions: served from the cache, forgotten on every change that alters them."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from core.clock import FixedClock
from core.licensing.subscription import ExpiryReason, SubscriptionStatus
from core.services import access as access_service
from plugins.cache import MemoryGenerationCache, RedisGenerationCache
from tests.conftest import make_settings
from tests.support.api import api_client, bearer, signup, token
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


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def extra_settings(request: pytest.FixtureRequest) -> dict[str, str]:
    """Each test runs with the in-process cache and with Redis."""
    if request.param == "memory":
        return {}
    prefix = request.getfixturevalue("redis_prefix")
    return {"STINT_REDIS_URL": f"{REDIS_URL}/{REDIS_DB}", "STINT_REDIS_PREFIX": prefix}


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
        user = await scope.user_by_email(email)
        await scope.save_user(dataclasses.replace(user, **changes))
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
            sub_id, sub = await scope.subscription(for_update=True)
            await scope.save_subscription(
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
            user = await scope.user_by_email("admin@acme.test")
            assert await scope.release_seat(user.person_id)
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
            user = await scope.user_by_email("admin@acme.test")
            await scope.save_user(dataclasses.replace(user, role="none"))

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
        value, stamp = await cache.get("k", scopes)
        assert value is None
        await cache.put("k", stamp, {"allowed": True}, 60)
        assert (await cache.get("k", scopes))[0] == {"allowed": True}
        await cache.bump(["s:b"])
        assert (await cache.get("k", scopes))[0] is None
        # A value computed before the bump but stored after it is never served.
        await cache.put("k", stamp, {"allowed": True}, 60)
        assert (await cache.get("k", scopes))[0] is None
    finally:
        if client is not None:
            await client.aclose()
