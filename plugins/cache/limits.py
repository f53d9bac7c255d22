"""Fixed-window rate limits: at most ``limit`` hits per key per window.

A fixed window can let through up to twice the limit around a window edge; for
"ten wrong passwords a minute" and "a tenant's share of the API" that is fine, and
it costs one atomic INCR per request.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Hit", "MemoryRateLimiter", "RateLimiter", "RedisRateLimiter", "redis_counter"]


@dataclass(frozen=True, slots=True)
class Hit:
    """The count in the current window (after this hit, if it counted) and when it ends."""

    count: int
    limit: int
    retry_after: int

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window: int = 60) -> Hit:
        """Count one hit on ``key``."""
        ...

    async def peek(self, key: str, limit: int, window: int = 60) -> Hit:
        """The current count on ``key`` plus one, without counting."""
        ...


#: The wall clock windows are cut from (tests pin it to stay clear of a window's edge).
now = time.time


def _window(window: int) -> tuple[int, int]:
    now_ = now()
    start = int(now_ // window) * window
    return start, max(1, math.ceil(start + window - now_))


def redis_counter(prefix: str, key: str, window: int) -> tuple[str, int]:
    """The Redis key counting ``key`` in the current window, and the seconds left in it."""
    start, retry = _window(window)
    return f"{prefix}rl:{key}:{start}", retry


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._swept = 0

    async def hit(self, key: str, limit: int, window: int = 60) -> Hit:
        start, retry = _window(window)
        slot = (key, start)
        if start > self._swept:
            # A new window: forget the windows that are over.
            self._counts = {k: v for k, v in self._counts.items() if k[1] >= start - window}
            self._swept = start
        count = self._counts.get(slot, 0) + 1
        self._counts[slot] = count
        return Hit(count, limit, retry)

    async def peek(self, key: str, limit: int, window: int = 60) -> Hit:
        start, retry = _window(window)
        return Hit(self._counts.get((key, start), 0) + 1, limit, retry)


class RedisRateLimiter:
    def __init__(self, client: Any, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    async def hit(self, key: str, limit: int, window: int = 60) -> Hit:
        name, retry = redis_counter(self._prefix, key, window)
        count = int(await self._redis.incr(name))
        if count == 1:
            # Only the window's first hit sets the expiry: one round trip for every other hit.
            await self._redis.expire(name, window + 5)
        return Hit(count, limit, retry)

    async def peek(self, key: str, limit: int, window: int = 60) -> Hit:
        name, retry = redis_counter(self._prefix, key, window)
        raw = await self._redis.get(name)
        return Hit(int(raw or 0) + 1, limit, retry)
