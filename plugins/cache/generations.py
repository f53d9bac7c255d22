"""Values kept under scope generations (see ``core.licensing.ports.GenerationCache``).

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

import msgspec

from core.ids import new_id
from core.licensing.ports import CachedValue, GenerationCache

from ..metrics import CACHE_HIT, CACHE_MISS
from .limits import Hit, redis_counter

__all__ = ["MemoryGenerationCache", "ReadAhead", "RedisGenerationCache"]

_NONE = "0"
#: msgspec decodes the cached JSON in about a third of json.loads's time (every request reads some).
_decode = msgspec.json.Decoder(dict).decode

#: A rate-limit count: (key, limit, window in seconds).
Counter = tuple[str, int, int]


def _stored(raw: bytes | str | None, stamp: str) -> dict[str, Any] | None:
    """A stored value if it was stored under ``stamp``, else None."""
    if raw is None:
        return None
    stored = _decode(raw)
    if stored.get("s") != stamp:
        return None
    return dict(stored["v"])


class _Hints:
    """Per group (one signed-in user), the keys its requests looked up and their scopes,
    most recent last, so that the next request reads them all in its one round trip."""

    MAX_GROUPS = 20_000
    MAX_KEYS = 8

    def __init__(self) -> None:
        self._groups: dict[str, dict[str, tuple[str, ...]]] = {}

    def of(self, group: str) -> dict[str, tuple[str, ...]]:
        return self._groups.get(group, {})

    def note(self, group: str, key: str, scopes: tuple[str, ...]) -> None:
        keys = self._groups.get(group)
        if keys is None:
            if len(self._groups) >= self.MAX_GROUPS:
                self._groups.clear()  # bounded, like the memory cache
            keys = self._groups[group] = {}
        keys.pop(key, None)
        keys[key] = scopes
        if len(keys) > self.MAX_KEYS:
            del keys[next(iter(keys))]


class ReadAhead:
    """What one request read from Redis in a single round trip at its start: the
    generations of some scopes and the stored values of some keys.

    :meth:`get` answers from it when it read the key and every scope asked for, exactly as
    :meth:`RedisGenerationCache.get` would have at that moment (the generations are read
    before any fact, so the stamp it hands out is never newer than the facts computed
    after it). Anything else goes to ``cache``, and the key is noted so that the same
    user's next request reads it too. :meth:`put` and :meth:`bump` go to ``cache``.
    """

    def __init__(self, cache: GenerationCache, hints: _Hints, group: str, generations: dict[str, str],
                 values: dict[str, bytes | None]) -> None:
        self._cache = cache
        self._hints = hints
        self._group = group
        self._generations = generations
        self._values = values

    async def get(self, key: str, scopes: tuple[str, ...]) -> CachedValue:
        self._hints.note(self._group, key, scopes)
        generations = self._generations
        if key in self._values and all(scope in generations for scope in scopes):
            stamp = ".".join(generations[scope] for scope in scopes)
            found = CachedValue(_stored(self._values[key], stamp), stamp)
        else:
            found = await self._cache.get(key, scopes)
        # Counted here, where every request's lookup passes once (the delegate is not counted).
        (CACHE_MISS if found.value is None else CACHE_HIT).inc()
        return found

    async def put(self, key: str, stamp: str, value: dict[str, Any], ttl_seconds: int) -> None:
        await self._cache.put(key, stamp, value, ttl_seconds)

    async def bump(self, scopes: Iterable[str]) -> None:
        await self._cache.bump(scopes)


#: One round trip for the start of a request: when ARGV[1] is not empty the last key is a
#: rate-limit counter, incremented (with its expiry, ARGV[1] seconds, set on the window's
#: first hit); the other keys are read with MGET. Answers their values, then the count.
_READ_AHEAD_LUA = """
local n = #KEYS
local count = false
if ARGV[1] ~= '' then
  count = redis.call('INCR', KEYS[n])
  if count == 1 then redis.call('EXPIRE', KEYS[n], ARGV[1]) end
  n = n - 1
end
local values = {}
if n > 0 then values = redis.call('MGET', unpack(KEYS, 1, n)) end
values[n + 1] = count
return values
"""


class MemoryGenerationCache:
    """One process's cache; bounded, entries expire after their TTL."""

    def __init__(self, *, max_entries: int = 50_000) -> None:
        self._generations: dict[str, str] = {}
        self._values: dict[str, tuple[float, str, dict[str, Any]]] = {}
        self._max = max_entries

    def _stamp(self, scopes: tuple[str, ...]) -> str:
        return ".".join(self._generations.get(scope, _NONE) for scope in scopes)

    async def get(self, key: str, scopes: tuple[str, ...]) -> CachedValue:
        stamp = self._stamp(scopes)
        found = self._values.get(key)
        if found is None:
            CACHE_MISS.inc()
            return CachedValue(None, stamp)
        expires, stored_stamp, value = found
        if stored_stamp != stamp or expires < time.monotonic():
            CACHE_MISS.inc()
            return CachedValue(None, stamp)
        CACHE_HIT.inc()
        return CachedValue(value, stamp)

    async def put(self, key: str, stamp: str, value: dict[str, Any], ttl_seconds: int) -> None:
        if len(self._values) >= self._max:
            # Crude but bounded: start over rather than grow without limit.
            self._values.clear()
        self._values[key] = (time.monotonic() + ttl_seconds, stamp, value)

    async def bump(self, scopes: Iterable[str]) -> None:
        for scope in scopes:
            self._generations[scope] = new_id()

    async def read_ahead(
        self, group: str, keys: Iterable[str], scopes: Iterable[str], *, counter: Counter | None = None,
        delegate: Any = None,
    ) -> tuple[Any, Hit | None]:
        """In-process every lookup is a dictionary read: nothing to read ahead, nothing counted."""
        return self, None


class RedisGenerationCache:
    """Shared by every process: one round trip (MGET) per lookup."""

    #: A generation outlives every value stored under it (values live minutes).
    GENERATION_TTL = 7 * 24 * 3600

    def __init__(self, client: Any, prefix: str, *, hot: Any = None) -> None:
        self._redis = client
        self._prefix = prefix
        self._hints = _Hints()
        self._read_ahead_script = client.register_script(_READ_AHEAD_LUA)
        #: The read-ahead's own connection (``lean_redis.py`` or ``script_connection.py``);
        #: without it the script runs on ``client``.
        self.hot = hot

    async def get(self, key: str, scopes: tuple[str, ...]) -> CachedValue:
        raw = await self._redis.mget(
            [f"{self._prefix}gen:{scope}" for scope in scopes] + [f"{self._prefix}val:{key}"]
        )
        stamp = ".".join(g.decode() if g else _NONE for g in raw[:-1])
        return CachedValue(_stored(raw[-1], stamp), stamp)

    async def read_ahead(
        self, group: str, keys: Iterable[str], scopes: Iterable[str], *, counter: Counter | None = None,
        delegate: GenerationCache | None = None,
    ) -> tuple[ReadAhead, Hit | None]:
        """One round trip (a Lua script): the generations of ``scopes`` and the values of
        ``keys``, plus whatever ``group``'s earlier requests looked up, and, with
        ``counter``, one rate-limit hit. Misses of the answer go to ``delegate`` (or here)."""
        hinted = self._hints.of(group)
        want_keys = list(dict.fromkeys((*keys, *hinted)))
        want_scopes = list(dict.fromkeys((*scopes, *(s for found in hinted.values() for s in found))))
        prefix = self._prefix
        names = [f"{prefix}gen:{scope}" for scope in want_scopes]
        names += [f"{prefix}val:{key}" for key in want_keys]
        expiry, retry = "", 0
        if counter is not None:
            name, retry = redis_counter(prefix, counter[0], counter[2])
            names.append(name)
            expiry = str(counter[2] + 5)
        if self.hot is not None:
            raw = await self.hot.run_script(_READ_AHEAD_LUA, names, [expiry])
        else:
            raw = await self._read_ahead_script(keys=names, args=[expiry])
        generations = {scope: g.decode() if g else _NONE for scope, g in zip(want_scopes, raw, strict=False)}
        values = dict(zip(want_keys, raw[len(want_scopes):len(want_scopes) + len(want_keys)], strict=True))
        hit = Hit(int(raw[-1]), counter[1], retry) if counter is not None else None
        return ReadAhead(delegate or self, self._hints, group, generations, values), hit

    async def put(self, key: str, stamp: str, value: dict[str, Any], ttl_seconds: int) -> None:
        await self._redis.set(
            f"{self._prefix}val:{key}", json.dumps({"s": stamp, "v": value}), ex=ttl_seconds
        )

    async def bump(self, scopes: Iterable[str]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for scope in scopes:
                pipe.set(f"{self._prefix}gen:{scope}", new_id(), ex=self.GENERATION_TTL)
            await pipe.execute()
