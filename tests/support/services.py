"""Are the real services up? PostgreSQL and Redis on loopback (../shared/SERVICES.md)."""

from __future__ import annotations

import functools
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

POSTGRES_ADMIN_URL = os.environ.get("STINT_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("STINT_TEST_REDIS", "redis://127.0.0.1:6379")


def required() -> bool:
    """Under STINT_REQUIRE_SERVICES=1 (CI) a missing service fails the run instead of skipping."""
    return os.environ.get("STINT_REQUIRE_SERVICES") == "1"


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@functools.cache
def postgres_up() -> bool:
    parsed = urlparse(POSTGRES_ADMIN_URL)
    if not _port_open(parsed.hostname or "127.0.0.1", parsed.port or 5432):
        return False
    import asyncio

    import asyncpg

    async def probe() -> bool:
        try:
            connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=3)
        except Exception:
            return False
        await connection.close()
        return True

    return asyncio.run(probe())


@functools.cache
def redis_up() -> bool:
    parsed = urlparse(REDIS_URL)
    if not _port_open(parsed.hostname or "127.0.0.1", parsed.port or 6379):
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except Exception:
        return False


@contextmanager
def redis_store(db: int) -> Iterator[dict[str, str]]:
    """Settings that put the app's caches and counters in Redis database ``db`` under a key
    prefix of their own, and the keys written under it deleted afterwards."""
    import redis

    prefix = f"stint-test-{uuid.uuid4().hex[:8]}:"
    yield {"STINT_REDIS_URL": f"{REDIS_URL}/{db}", "STINT_REDIS_PREFIX": prefix}
    client = redis.Redis.from_url(f"{REDIS_URL}/{db}")
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()
