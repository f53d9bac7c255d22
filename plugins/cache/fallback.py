"""Redis may go away; the web app must not. Wrappers that fall back while it is down.

While Redis is unreachable, access decisions are computed from the database every time
(no cache), rate limits are counted in this process, and the outage is logged once when
it starts and once when it ends. Redis is tried again after a short pause, so a dead
Redis costs a request at most one failed connection per pause. On its return every
cached decision is dropped (a ``*`` bump): a change committed during the outage could
not move its generations.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from core.licensing.ports import CachedValue, GenerationCache

from ..metrics import CACHE_MISS
from .generations import Counter, RedisGenerationCache
from .limits import Hit, MemoryRateLimiter, RateLimiter

__all__ = ["FallbackGenerationCache", "FallbackRateLimiter", "RedisOutage", "with_fallback"]

log = logging.getLogger("stint.redis")

#: Seconds to leave Redis alone after a failure before trying it again.
RETRY_AFTER_SECONDS = 2.0


def _failures() -> tuple[type[BaseException], ...]:
    from redis.exceptions import RedisError

    return (RedisError, OSError)


class RedisOutage:
    """Shared by the wrappers of one process: is Redis down, since when, and when to retry."""

    def __init__(self) -> None:
        self.down_since: float | None = None
        self._retry_at = 0.0
        self.on_recovery: list[Callable[[], Awaitable[None]]] = []
        self.failures = _failures()

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def skip(self) -> bool:
        """Whether to leave Redis alone for now (down, and the pause not over)."""
        return self.down and time.monotonic() < self._retry_at

    def failed(self, exc: BaseException) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            log.error("Redis is unreachable (%s); serving from the database until it returns",
                      type(exc).__name__)
        self._retry_at = time.monotonic() + RETRY_AFTER_SECONDS

    async def succeeded(self) -> None:
        if self.down_since is None:
            return
        seconds = round(time.monotonic() - self.down_since, 1)
        self.down_since = None
        log.warning("Redis is back after %ss", seconds)
        for hook in self.on_recovery:
            try:
                await hook()
            except self.failures as exc:
                self.failed(exc)


class FallbackGenerationCache:
    def __init__(self, primary: RedisGenerationCache, outage: RedisOutage) -> None:
        self._primary = primary
        self._outage = outage
        outage.on_recovery.append(lambda: primary.bump(["*"]))

    async def get(self, key: str, scopes: tuple[str, ...]) -> CachedValue:
        if self._outage.skip():
            CACHE_MISS.inc()  # while Redis is down, every lookup is a miss (no read-ahead counts it)
            return CachedValue(None, "")
        try:
            found = await self._primary.get(key, scopes)
        except self._outage.failures as exc:
            self._outage.failed(exc)
            return CachedValue(None, "")
        await self._outage.succeeded()
        return found

    async def read_ahead(
        self, group: str, keys: Iterable[str], scopes: Iterable[str], *, counter: Counter | None = None
    ) -> tuple[GenerationCache, Hit | None]:
        """The primary's one-round-trip read; while Redis is down this cache itself (every
        lookup a miss) and no count (the caller counts with the fallback rate limiter)."""
        if self._outage.skip():
            return self, None
        was_down = self._outage.down
        try:
            view, hit = await self._primary.read_ahead(group, keys, scopes, counter=counter, delegate=self)
        except self._outage.failures as exc:
            self._outage.failed(exc)
            return self, None
        await self._outage.succeeded()
        if was_down:
            # What was just read predates the recovery bump of "*": do not serve from it.
            return self, hit
        return view, hit

    async def put(self, key: str, stamp: str, value: dict[str, Any], ttl_seconds: int) -> None:
        if not stamp or self._outage.skip():
            return  # computed while Redis was down: no generations to store it under
        try:
            await self._primary.put(key, stamp, value, ttl_seconds)
        except self._outage.failures as exc:
            self._outage.failed(exc)

    async def bump(self, scopes: Iterable[str]) -> None:
        if self._outage.skip():
            return  # the recovery bump of "*" covers it
        try:
            await self._primary.bump(scopes)
        except self._outage.failures as exc:
            self._outage.failed(exc)


class FallbackRateLimiter:
    def __init__(self, primary: RateLimiter, outage: RedisOutage) -> None:
        self._primary = primary
        self._outage = outage
        self._local = MemoryRateLimiter()

    async def hit(self, key: str, limit: int, window: int = 60) -> Hit:
        if not self._outage.skip():
            try:
                hit = await self._primary.hit(key, limit, window)
            except self._outage.failures as exc:
                self._outage.failed(exc)
            else:
                await self._outage.succeeded()
                return hit
        return await self._local.hit(key, limit, window)

    async def peek(self, key: str, limit: int, window: int = 60) -> Hit:
        if not self._outage.skip():
            try:
                hit = await self._primary.peek(key, limit, window)
            except self._outage.failures as exc:
                self._outage.failed(exc)
            else:
                await self._outage.succeeded()
                return hit
        return await self._local.peek(key, limit, window)


def with_fallback(
    cache: RedisGenerationCache, limiter: RateLimiter
) -> tuple[FallbackGenerationCache, FallbackRateLimiter, RedisOutage]:
    outage = RedisOutage()
    return FallbackGenerationCache(cache, outage), FallbackRateLimiter(limiter, outage), outage
