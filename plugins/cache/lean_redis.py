"""One pipelined Redis connection for the hottest call: the access path's read-ahead script.

Every authenticated request makes exactly one Redis call (``RedisGenerationCache.read_ahead``:
one ``EVALSHA``). Through redis-py's asyncio client that call cost ~0.3 ms of CPU — more
than the rest of the access decision — in connection-pool checkout, retry wrappers,
``wait_for`` and command packing. This client does only what that call needs: it packs the
command by hand, writes it on one long-lived connection without waiting for earlier
replies (pipelining: replies come back in order, so each waits for its turn in a FIFO of
futures), and parses replies with hiredis, in C. The commands of requests that reach their
call in the same turn of the event loop go out in one write at the end of it, and the
replies are read by an ``asyncio.Protocol`` the loop calls directly (no reader task, no
stream buffer), and one timer per connection watches for a stuck Redis instead of a timeout
per call. Against the stream-based version of this client with a timeout per call: about
15 → 4 µs of client CPU a call with eight callers in flight, 25 → 16–22 µs with one, in a
loop of calls alone; over HTTP, where a loopback TCP round trip costs the kernel more than
that, the difference was within the noise (docs/benchmarks.md, "Ninth session").

Everything else (bumps, puts, rate limits outside the hot path, Celery) stays on redis-py.
Failures surface as redis-py's own exception types, so the outage fallback
(``fallback.py``) treats both clients alike.

Why hand-written (issue #14, ``docs/benchmarks.md`` "Hand-written or maintained"): measured
A/B in one run against redis-py doing the same call, redis-py was 27–70% slower on a
dedicated connection (it cannot pipeline independent callers, so they queue behind a lock)
and 9–44% slower with its pool (18–26% more CPU per request). ``STINT_REDIS_READ_CLIENT=redis-py``
switches to ``script_connection.py``.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
from typing import Any

import hiredis
from redis.connection import parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["LeanRedis", "pack"]


def _bulk(value: bytes | str | int) -> bytes:
    data = value if isinstance(value, bytes) else str(value).encode()
    return b"$%d\r\n%s\r\n" % (len(data), data)


def pack(*parts: bytes | str | int) -> bytes:
    """One command in RESP: an array of bulk strings."""
    return b"*%d\r\n" % len(parts) + b"".join(_bulk(part) for part in parts)


#: Seconds between the checks for a call Redis has not answered within the timeout: a stuck
#: Redis fails its callers after the timeout plus at most this.
_WATCH_EVERY = 0.1


class _Detached:
    """The owner of a connection that was dropped: its late events change nothing."""

    def _drop(self, replies: _Replies, why: Exception) -> None:
        return None


class _Replies(asyncio.Protocol):
    """The connection's reading side: the event loop hands each chunk Redis sends straight to
    :meth:`data_received`, which parses it with hiredis and answers the oldest waiting
    callers in order. No reader task and no stream buffer: a reply costs no task switch of
    its own before its caller wakes."""

    def __init__(self, owner: LeanRedis | _Detached) -> None:
        self.owner: LeanRedis | _Detached = owner
        self.parser = hiredis.Reader()
        self.waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        #: When each waiting caller's command was made (the loop's clock), in the same order.
        self.sent: collections.deque[float] = collections.deque()
        self.transport: asyncio.Transport | None = None

    def expect(self, waiter: asyncio.Future[Any], now: float) -> None:
        self.waiting.append(waiter)
        self.sent.append(now)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a TCP connection's is one

    def data_received(self, data: bytes) -> None:
        parser, waiting, sent = self.parser, self.waiting, self.sent
        parser.feed(data)
        while (reply := parser.gets()) is not False:
            if not waiting:
                self.owner._drop(self, RedisConnectionError("Redis sent a reply nobody asked for"))
                return
            waiter = waiting.popleft()
            sent.popleft()
            if waiter.done():
                continue  # its caller was cancelled; the order still holds
            if isinstance(reply, hiredis.ReplyError):
                waiter.set_exception(ResponseError(str(reply)))
            else:
                waiter.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        why = f"Redis closed the connection: {exc}" if exc else "Redis closed the connection"
        self.owner._drop(self, RedisConnectionError(why))


class LeanRedis:
    def __init__(self, url: str, *, timeout: float = 2.0) -> None:
        options = parse_url(url)  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
        self._host = options.get("host", "127.0.0.1")
        self._port = int(options.get("port", 6379))
        self._hello: list[bytes] = []
        if options.get("password"):
            user = options.get("username")
            self._hello.append(pack("AUTH", *([user] if user else []), options["password"]))
        if int(options.get("db", 0) or 0):
            self._hello.append(pack("SELECT", int(options["db"])))
        self._timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        #: The open connection's reading side (None: not connected).
        self._replies: _Replies | None = None
        self._connecting: asyncio.Lock | None = None
        self._scripts: dict[str, bytes] = {}
        self._packed: dict[tuple[Any, ...], bytes] = {}
        #: Commands made in this turn of the event loop, written together at its end.
        self._outgoing: list[bytes] = []
        #: Whether :meth:`_watch` is scheduled.
        self._watching = False

    # Connection -----------------------------------------------------------------------

    async def _connection(self) -> _Replies:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # A new event loop (tests run one per app): the old connection belongs to another.
            if self._replies is not None:
                self._drop(self._replies, RedisConnectionError("event loop changed"))
            self._loop, self._connecting = loop, asyncio.Lock()
            self._watching = False  # a timer on the old loop never fires
        if self._replies is not None:
            return self._replies
        assert self._connecting is not None
        async with self._connecting:
            if self._replies is None:
                replies = _Replies(self)
                try:
                    async with asyncio.timeout(self._timeout):
                        await loop.create_connection(lambda: replies, self._host, self._port)
                        for command in self._hello:
                            answer: asyncio.Future[Any] = loop.create_future()
                            replies.expect(answer, loop.time())
                            assert replies.transport is not None
                            replies.transport.write(command)
                            try:
                                await answer
                            except ResponseError as refused:
                                self._drop(replies, RedisConnectionError("refused"))
                                raise RedisConnectionError(
                                    f"Redis refused {command.split()[2]!r}: {refused}") from None
                except (OSError, TimeoutError) as exc:
                    self._drop(replies, RedisConnectionError("not connected"))
                    where = f"{self._host}:{self._port}"
                    raise RedisConnectionError(f"cannot reach Redis at {where}: {exc}") from exc
                self._replies = replies
        assert self._replies is not None
        return self._replies

    def _drop(self, replies: _Replies, why: Exception) -> None:
        """Forget the connection of ``replies`` (if it is still the current one); everyone
        still waiting on it gets ``why``."""
        if replies is self._replies:
            self._replies = None
            self._outgoing = []
        replies.owner = _Detached()
        replies.sent.clear()
        while replies.waiting:
            waiter = replies.waiting.popleft()
            if not waiter.done():
                waiter.set_exception(why)
        if replies.transport is not None:
            replies.transport.close()

    async def close(self) -> None:
        if self._replies is not None:
            self._drop(self._replies, RedisConnectionError("closed"))

    # Commands -------------------------------------------------------------------------

    async def execute(self, command: bytes) -> Any:
        replies = await self._connection()
        loop = self._loop
        assert loop is not None
        waiter: asyncio.Future[Any] = loop.create_future()
        replies.expect(waiter, loop.time())
        if not self._watching:
            self._watching = True
            loop.call_later(_WATCH_EVERY, self._watch)
        # Pipelined and batched: the commands of every request that reaches this point in the
        # same turn of the event loop go out in one write at its end (one system call, and
        # Redis reads them together), in the order their callers wait in.
        if self._outgoing:
            self._outgoing.append(command)
        else:
            self._outgoing = [command]
            loop.call_soon(self._flush, replies)
        return await waiter

    def _watch(self) -> None:
        """The connection's one timer, every ``_WATCH_EVERY`` seconds while callers wait: when
        the oldest has waited longer than the timeout, Redis is in trouble, and everyone on
        this connection fails with ``RedisTimeoutError`` (the outage fallback takes over) and
        the next call starts afresh, rather than keep a pipeline whose head is stuck. One
        timer for all rather than one a call: a call's own timeout (``asyncio.timeout``) was
        a third of this client's CPU a call."""
        self._watching = False
        replies = self._replies
        if replies is None or not replies.waiting:
            return
        assert self._loop is not None
        if self._loop.time() - replies.sent[0] > self._timeout:
            self._drop(replies, RedisTimeoutError(f"Redis did not answer within {self._timeout} s"))
            return
        self._watching = True
        self._loop.call_later(_WATCH_EVERY, self._watch)

    def _flush(self, replies: _Replies) -> None:
        outgoing, self._outgoing = self._outgoing, []
        if outgoing and replies is self._replies and replies.transport is not None:
            replies.transport.write(outgoing[0] if len(outgoing) == 1 else b"".join(outgoing))

    async def run_script(self, source: str, keys: list[str], args: list[str]) -> Any:
        """``EVALSHA`` the script, loading it with ``EVAL`` when Redis does not know it."""
        sha = self._scripts.get(source)
        if sha is None:
            sha = self._scripts[source] = hashlib.sha1(source.encode()).hexdigest().encode()
        # The same caller sends the same keys request after request: pack them once.
        signature = (sha, *keys, "", *args)
        command = self._packed.get(signature)
        if command is None:
            if len(self._packed) >= 10_000:
                self._packed.clear()
            command = self._packed[signature] = pack("EVALSHA", sha, len(keys), *keys, *args)
        try:
            return await self.execute(command)
        except ResponseError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            return await self.execute(pack("EVAL", source, len(keys), *keys, *args))
