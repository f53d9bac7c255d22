"""The access path's one Redis call per request, on redis-py: a dedicated connection.

``RedisGenerationCache.read_ahead`` runs one Lua script per authenticated request. Here it
goes through redis-py's own script object (``EVALSHA``, loaded with ``SCRIPT LOAD`` when
Redis does not know it) on a client of its own with a single connection
(``single_connection_client``), so the hot call never waits for a pool checkout behind
the bumps, puts and rate limits that share the app's pooled client. redis-py parses the
replies with hiredis when it is installed (it is a dependency). Failures are redis-py's
exception types, which the outage fallback (``fallback.py``) catches.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

__all__ = ["CLIENT_NAME", "ScriptConnection"]

#: How the connection shows in Redis's ``CLIENT LIST``.
CLIENT_NAME = "stint-read-ahead"


class ScriptConnection:
    def __init__(self, url: str, *, timeout: float = 2.0) -> None:
        self._client = aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, single_connection_client=True,
            client_name=CLIENT_NAME,
            # redis-py notices a connection Redis closed (a restart, an idle timeout) only when
            # it next uses it; without one retry on a fresh connection that request would
            # fail and put the process in outage mode (``fallback.py``). Not on timeouts: a
            # Redis that hangs must not cost a request twice the timeout. A retried script
            # whose reply was lost counts one rate-limit hit twice, which is harmless.
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        )
        self._scripts: dict[str, Any] = {}

    async def run_script(self, source: str, keys: list[str], args: list[str]) -> Any:
        """Run ``source`` with these keys and arguments; the reply as Redis gave it."""
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = self._client.register_script(source)
        return await script(keys=keys, args=args)

    async def close(self) -> None:
        await self._client.aclose()
