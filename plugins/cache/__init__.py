"""Fast shared state: cached access decisions (by generation) and rate-limit counters.

Redis when ``STINT_REDIS_URL`` is set, so every web process sees the same counters and
the same invalidations; an in-process store otherwise (the embedded mode is one process).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from core.licensing.ports import GenerationCache
from plugins.settings import Settings

from .generations import Counter, MemoryGenerationCache, ReadAhead, RedisGenerationCache
from .limits import Hit, MemoryRateLimiter, RateLimiter, RedisRateLimiter

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "AccessCache",
    "BuiltCache",
    "Hit",
    "MemoryGenerationCache",
    "MemoryRateLimiter",
    "RateLimiter",
    "ReadAhead",
    "RedisGenerationCache",
    "RedisRateLimiter",
    "build",
]


class AccessCache(GenerationCache, Protocol):
    """The decision cache the web's authentication reads ahead from."""

    async def read_ahead(
        self, group: str, keys: Iterable[str], scopes: Iterable[str], *, counter: Counter | None = None,
    ) -> tuple[GenerationCache, Hit | None]:
        """The cache to answer this request's lookups from (one round trip on Redis), and
        the rate-limit hit it counted with ``counter`` (None: not counted there)."""
        ...


@dataclass
class BuiltCache:
    """The decision cache and rate limiter for these settings, and what to close at stop."""

    cache: AccessCache
    limiter: RateLimiter
    redis: Redis | None = None
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


def build(settings: Settings) -> BuiltCache:
    if not settings.redis_url:
        return BuiltCache(MemoryGenerationCache(), MemoryRateLimiter())
    import redis.asyncio as aioredis

    from .fallback import with_fallback
    from .lean_redis import LeanRedis
    from .script_connection import ScriptConnection

    client = aioredis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    prefix = settings.redis_prefix
    hot: LeanRedis | ScriptConnection | None = None  # None: the pooled client runs the read-ahead too
    if settings.redis_read_client == "lean":
        hot = LeanRedis(settings.redis_url, timeout=2)
    elif settings.redis_read_client == "redis-py":
        hot = ScriptConnection(settings.redis_url, timeout=2)
    cache = RedisGenerationCache(client, prefix, hot=hot)
    # Redis going away must not take the web app with it: decide from the database.
    safe_cache, safe_limiter, _ = with_fallback(cache, RedisRateLimiter(client, prefix))
    closers: list[Callable[[], Awaitable[None]]] = [client.aclose, *([hot.close] if hot is not None else [])]
    return BuiltCache(safe_cache, safe_limiter, client, closers=closers)
