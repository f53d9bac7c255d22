"""One pipelined Redis connection for the hottest call: the access path's read-ahead script.

Every authenticated request makes exactly one Redis call (``RedisGenerationCache.read_ahead``:
one ``EVALSHA``). Through redis-py's asyncio client that call cost ~0.3 ms of CPU — more
than the rest of the access decision — in connection-pool checkout, retry wrappers,
``wait_for`` and command packing. This client does only what that call needs: it packs the
command by hand, writes it on one long-lived connection without waiting for earlier
replies (pipelining: replies come back in order, so each waits for its turn in a FIFO of
futures), and parses replies with hiredis, in C.

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
import contextlib
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
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._connecting: asyncio.Lock | None = None
        self._scripts: dict[str, bytes] = {}
        self._packed: dict[tuple[Any, ...], bytes] = {}

    # Connection -----------------------------------------------------------------------

    async def _connection(self) -> asyncio.StreamWriter:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # A new event loop (tests run one per app): the old connection belongs to another.
            self._drop(RedisConnectionError("event loop changed"))
            self._loop, self._connecting = loop, asyncio.Lock()
        if self._writer is not None:
            return self._writer
        assert self._connecting is not None
        async with self._connecting:
            if self._writer is None:
                try:
                    async with asyncio.timeout(self._timeout):
                        reader, writer = await asyncio.open_connection(self._host, self._port)
                        parser = hiredis.Reader()
                        for command in self._hello:
                            writer.write(command)
                            answer = await self._read_one(reader, parser)
                            if isinstance(answer, hiredis.ReplyError):
                                writer.close()
                                raise RedisConnectionError(f"Redis refused {command.split()[2]!r}: {answer}")
                except (OSError, TimeoutError) as exc:
                    where = f"{self._host}:{self._port}"
                    raise RedisConnectionError(f"cannot reach Redis at {where}: {exc}") from exc
                self._writer = writer
                self._reader_task = loop.create_task(self._read_replies(reader, parser, writer))
        assert self._writer is not None
        return self._writer

    @staticmethod
    async def _read_one(reader: asyncio.StreamReader, parser: Any) -> Any:
        while (reply := parser.gets()) is False:
            chunk = await reader.read(65536)
            if not chunk:
                raise RedisConnectionError("Redis closed the connection")
            parser.feed(chunk)
        return reply

    async def _read_replies(
        self, reader: asyncio.StreamReader, parser: Any, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    raise RedisConnectionError("Redis closed the connection")
                parser.feed(chunk)
                while (reply := parser.gets()) is not False:
                    waiter = self._waiting.popleft()
                    if waiter.done():
                        continue  # its caller timed out or was cancelled; the order still holds
                    if isinstance(reply, hiredis.ReplyError):
                        waiter.set_exception(ResponseError(str(reply)))
                    else:
                        waiter.set_result(reply)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._writer is writer:
                self._drop(exc if isinstance(exc, RedisConnectionError) else RedisConnectionError(str(exc)))

    def _drop(self, why: Exception) -> None:
        """Forget the connection; everyone still waiting on it gets ``why``."""
        writer, task = self._writer, self._reader_task
        self._writer, self._reader_task = None, None
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(why)
        if writer is not None:
            writer.close()
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()

    async def close(self) -> None:
        task = self._reader_task
        self._drop(RedisConnectionError("closed"))
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # Commands -------------------------------------------------------------------------

    async def execute(self, command: bytes) -> Any:
        writer = await self._connection()
        assert self._loop is not None
        waiter: asyncio.Future[Any] = self._loop.create_future()
        self._waiting.append(waiter)
        writer.write(command)
        try:
            async with asyncio.timeout(self._timeout):
                return await waiter
        except TimeoutError:
            # A reply this late means Redis is in trouble: fail everyone on this connection
            # and start afresh, rather than keep a pipeline whose head is stuck.
            self._drop(RedisTimeoutError("Redis did not answer in time"))
            raise RedisTimeoutError(f"Redis did not answer within {self._timeout} s") from None

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
