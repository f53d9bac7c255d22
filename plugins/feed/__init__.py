"""The tracking change feed (``core.tracking.feed``): Redis pub/sub when Redis is configured,
so every web process sees every change; an in-process hand-over otherwise (the single
process of the embedded SQLite setup). See ``docs/tracking.md`` "Live updates"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from core.tracking.feed import ChangeFeed

from .fanout import Fanout, InProcessFeed

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Fanout", "InProcessFeed", "ProcessFeed", "build"]


class ProcessFeed(ChangeFeed, Protocol):
    """A feed as this process holds it: its fan-out, and what to close at stop."""

    fanout: Fanout

    async def close(self) -> None: ...


def build(redis_url: str | None, prefix: str, publisher: Redis | None) -> ProcessFeed:
    if redis_url and publisher is not None:
        from .redis_feed import RedisFeed

        return RedisFeed(redis_url, prefix, publisher)
    return InProcessFeed()
