"""Fast shared state: cached access decisions (by generation) and rate-limit counters.

Redis when ``STINT_REDIS_URL`` is set, so every web process sees the same counters and
the same invalidations; an in-process store otherwise (the embedded mode is one process).
"""

from __future__ import annotations

from typing import Any

from plugins.settings import Settings

from .generations import MemoryGenerationCache, ReadAhead, RedisGenerationCache
from .limits import Hit, MemoryRateLimiter, RateLimiter, RedisRateLimiter

__all__ = [
    "Hit",
    "MemoryGenerationCache",
    "MemoryRateLimiter",
    "RateLimiter",
    "ReadAhead",
    "RedisGenerationCache",
    "RedisRateLimiter",
    "build",
]


def build(settings: Settings) -> tuple[MemoryGenerationCache | RedisGenerationCache, RateLimiter, Any]:
    """(decision cache, rate limiter, Redis client or None) for these settings."""
    if not settings.redis_url:
        return MemoryGenerationCache(), MemoryRateLimiter(), None
    import redis.asyncio as aioredis

    from .lean_redis import LeanRedis

    client = aioredis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    prefix = settings.redis_prefix
    cache = RedisGenerationCache(client, prefix, lean=LeanRedis(settings.redis_url, timeout=2))
    return cache, RedisRateLimiter(client, prefix), client
