"""Values kept under scope generations (see ``core.ports.GenerationCache``).

A value is stored with the *stamp* of its scopes' generations read before it was
computed. Bumping a scope (after the change is committed) gives it a new generation,
so a value computed from the old state can never be returned again — whether it was
stored before or after the bump.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from core.ids import new_id

__all__ = ["MemoryGenerationCache", "RedisGenerationCache"]

_NONE = "0"


class MemoryGenerationCache:
    """One process's cache; bounded, entries expire after their TTL."""

    def __init__(self, *, max_entries: int = 50_000) -> None:
        self._generations: dict[str, str] = {}
        self._values: dict[str, tuple[float, str, dict[str, Any]]] = {}
        self._max = max_entries

    def _stamp(self, scopes: tuple[str, ...]) -> str:
        return ".".join(self._generations.get(scope, _NONE) for scope in scopes)

    async def get(self, key: str, scopes: tuple[str, ...]) -> tuple[dict[str, Any] | None, str]:
        stamp = self._stamp(scopes)
        found = self._values.get(key)
        if found is None:
            return None, stamp
        expires, stored_stamp, value = found
        if stored_stamp != stamp or expires < time.monotonic():
            return None, stamp
        return value, stamp

    async def put(self, key: str, stamp: str, value: dict[str, Any], ttl_seconds: int) -> None:
        if len(self._values) >= self._max:
            # Crude but bounded: start over rather than grow without limit.
            self._values.clear()
        self._values[key] = (time.monotonic() + ttl_seconds, stamp, value)

    async def bump(self, scopes: Iterable[str]) -> None:
        for scope in scopes:
            self._generations[scope] = new_id()


class RedisGenerationCache:
    """Shared by every process: one round trip (MGET) per lookup."""

    #: A generation outlives every value stored under it (values live minutes).
    GENERATION_TTL = 7 * 24 * 3600

    def __init__(self, client: Any, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    async def get(self, key: str, scopes: tuple[str, ...]) -> tuple[dict[str, Any] | None, str]:
        raw = await self._redis.mget(
            [f"{self._prefix}gen:{scope}" for scope in scopes] + [f"{self._prefix}val:{key}"]
        )
        stamp = ".".join(g.decode() if g else _NONE for g in raw[:-1])
        if raw[-1] is None:
            return None, stamp
        stored = json.loads(raw[-1])
        if stored.get("s") != stamp:
            return None, stamp
        return dict(stored["v"]), stamp

    async def put(self, key: str, stamp: str, value: dict[str, Any], ttl_seconds: int) -> None:
        await self._redis.set(
            f"{self._prefix}val:{key}", json.dumps({"s": stamp, "v": value}), ex=ttl_seconds
        )

    async def bump(self, scopes: Iterable[str]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for scope in scopes:
                pipe.set(f"{self._prefix}gen:{scope}", new_id(), ex=self.GENERATION_TTL)
            await pipe.execute()
