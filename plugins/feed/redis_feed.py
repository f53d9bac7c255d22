"""The change feed over Redis pub/sub: every web process sees every process's changes.

Publishing is one ``PUBLISH`` per tenant on ``<prefix>tracking:<tenant id>`` (a channel per
tenant: a message names the users it concerns), on the pooled redis-py client. Each process
holds **one** subscriber connection, pattern-subscribed to every tenant's channel, and its
:class:`~plugins.feed.fanout.Fanout` hands each message to the open streams it concerns —
so a thousand streams cost one connection and no polling.

The subscriber is a plain socket with hiredis, not redis-py's ``PubSub``: redis-py
reconnects and re-subscribes a pub/sub connection by itself, silently, and messages sent
while it was away are lost without anyone knowing. Here a lost connection is noticed (end of
stream, or no answer to a ``PING`` in time), it is reopened with backoff, and every stream
is told to read its state again (:class:`~core.tracking.feed.Resync`). Pub/sub ignores the
database number; the prefix keeps deployments sharing a Redis apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import re
from collections.abc import Collection
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import hiredis
from redis.connection import parse_url
from redis.exceptions import RedisError

from core.tracking import Timer
from core.tracking.feed import Subscription, TrackingChange

from ..cache.lean_redis import pack
from .fanout import Fanout

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisFeed", "decode", "encode"]

log = logging.getLogger("stint.feed")

#: Seconds between pings on the subscriber connection, and without any answer before it is
#: taken for dead (a peer gone without closing the socket).
PING_SECONDS = 10.0
DEAD_SECONDS = 25.0
#: Reconnect backoff: first wait, and the longest.
BACKOFF_FIRST = 0.1
BACKOFF_MAX = 5.0


_TIMES = ("started_at", "next_activity_check_at", "check_asked_at")


def _timer_json(timer: Timer) -> dict[str, Any]:
    values = dataclasses.asdict(timer)
    for name in _TIMES:
        if values[name] is not None:
            values[name] = values[name].isoformat()
    return values


def _timer_from(values: dict[str, Any]) -> Timer:
    for name in _TIMES:
        if values.get(name) is not None:
            values[name] = datetime.fromisoformat(values[name])
    return Timer(**values)


def encode(changes: Collection[TrackingChange]) -> bytes:
    """One tenant's changes as one message: who, timer or worklogs, and the timer if carried."""
    return json.dumps([
        [c.user_id, c.timer, c.carries_state, _timer_json(c.state) if c.state is not None else None]
        for c in changes
    ], separators=(",", ":")).encode()


def decode(tenant_id: str, data: bytes) -> list[TrackingChange]:
    return [
        TrackingChange(tenant_id, user, bool(timer), _timer_from(state) if state else None, bool(carries))
        for user, timer, carries, state in json.loads(data)
    ]


class RedisFeed:
    def __init__(self, url: str, prefix: str, publisher: Redis, fanout: Fanout | None = None) -> None:
        self.fanout = fanout or Fanout()
        self._publisher = publisher
        self._channel = f"{prefix}tracking:"
        # PSUBSCRIBE takes a glob: a prefix with glob characters must match only itself.
        self._pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self._channel) + "*"
        options = parse_url(url)  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
        self._host = str(options.get("host", "127.0.0.1"))
        self._port = int(options.get("port", 6379))
        self._auth: list[Any] = []
        if options.get("password"):
            user = options.get("username")
            self._auth = ["AUTH", *([user] if user else []), options["password"]]
        #: The subscriber connection's name in ``CLIENT LIST`` (operators, and the tests that
        #: cut it with ``CLIENT KILL``): the deployment's prefix, so it names this deployment.
        self.client_name = re.sub(r"\s", "_", f"{prefix}tracking-feed")
        self._task: asyncio.Task[None] | None = None
        #: Set while the subscriber connection is up (tests and the bench wait on it).
        self.connected = asyncio.Event()
        self.reconnects = 0

    async def publish(self, changes: Collection[TrackingChange]) -> None:
        by_tenant: dict[str, list[TrackingChange]] = {}
        for change in changes:
            by_tenant.setdefault(change.tenant_id, []).append(change)
        try:
            async with self._publisher.pipeline(transaction=False) as pipe:
                for tenant_id, its in by_tenant.items():
                    pipe.publish(self._channel + tenant_id, encode(its))
                await pipe.execute()
        except (RedisError, OSError):
            # Committed all the same: at least this process's streams hear of it.
            log.warning("could not publish tracking changes; only this process's streams see them",
                        exc_info=True)
            self.fanout.deliver(changes)

    def subscribe(self, tenant_id: str, user_id: str) -> AbstractAsyncContextManager[Subscription]:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._listen(), name="stint-feed-subscriber")
        return self.fanout.subscribe(tenant_id, user_id)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _listen(self) -> None:
        backoff = BACKOFF_FIRST
        while True:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("tracking feed subscriber lost Redis (%s); reconnecting in %.1f s",
                            exc, backoff)
            if self.connected.is_set():
                backoff = BACKOFF_FIRST  # it was up: a fresh outage starts from the shortest wait
            self.connected.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)
            self.reconnects += 1

    async def _session(self) -> None:
        async with asyncio.timeout(5):
            reader, writer = await asyncio.open_connection(self._host, self._port)
        pinger: asyncio.Task[None] | None = None
        try:
            parser = hiredis.Reader()
            if self._auth:
                writer.write(pack(*self._auth))
            writer.write(pack("CLIENT", "SETNAME", self.client_name))
            writer.write(pack("PSUBSCRIBE", self._pattern))
            pinger = asyncio.get_running_loop().create_task(self._ping(writer))
            while True:
                async with asyncio.timeout(DEAD_SECONDS):
                    chunk = await reader.read(65536)
                if not chunk:
                    raise ConnectionError("Redis closed the subscriber connection")
                parser.feed(chunk)
                while (reply := parser.gets()) is not False:
                    self._handle(reply)
        finally:
            if pinger is not None:
                pinger.cancel()
            writer.close()

    def _handle(self, reply: Any) -> None:
        if isinstance(reply, hiredis.ReplyError):
            raise ConnectionError(f"Redis refused the subscription: {reply}")
        if not isinstance(reply, list) or not reply:
            return
        kind = reply[0]
        if kind == b"pmessage" and len(reply) == 4:
            tenant_id = reply[2].decode()[len(self._channel):]
            try:
                self.fanout.deliver(decode(tenant_id, reply[3]))
            except (ValueError, TypeError, KeyError):
                log.warning("ignored a malformed tracking feed message on %r", reply[2])
        elif kind == b"psubscribe":
            # Subscribed (again): anything published while away was missed, so every open
            # stream reads its state afresh.
            self.connected.set()
            self.fanout.resync()

    @staticmethod
    async def _ping(writer: asyncio.StreamWriter) -> None:
        while True:
            await asyncio.sleep(PING_SECONDS)
            writer.write(pack("PING"))
