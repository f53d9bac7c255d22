"""The access path's pipelined Redis connection (``plugins/cache/lean_redis.py``), on real Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis as redis_sync
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from plugins.cache.lean_redis import LeanRedis, pack
from tests.support.mail import free_port
from tests.support.services import REDIS_URL

pytestmark = pytest.mark.redis

ECHO = "return {ARGV[1], redis.call('INCR', KEYS[1])}"


def test_a_command_is_packed_as_an_array_of_bulk_strings() -> None:
    assert pack("EVALSHA", b"ab", 1, "k") == b"*4\r\n$7\r\nEVALSHA\r\n$2\r\nab\r\n$1\r\n1\r\n$1\r\nk\r\n"


def test_pipelined_calls_each_get_their_own_reply_in_order() -> None:
    """Two hundred calls in flight on one connection: every caller gets the reply to its call."""
    key = f"stinttest:{uuid.uuid4().hex}"

    async def main() -> list[list[object]]:
        lean = LeanRedis(f"{REDIS_URL.rstrip('/')}/12")
        try:
            return list(await asyncio.gather(*(lean.run_script(ECHO, [key], [str(n)]) for n in range(200))))
        finally:
            await lean.close()

    replies = asyncio.run(main())
    assert [reply[0] for reply in replies] == [str(n).encode() for n in range(200)]
    assert sorted(int(reply[1]) for reply in replies) == list(range(1, 201))
    client = redis_sync.Redis.from_url(f"{REDIS_URL.rstrip('/')}/12")
    assert client.get(key) == b"200"  # the URL's database number was selected
    client.delete(key)
    client.close()


def test_calls_made_in_the_same_turn_of_the_event_loop_go_to_redis_in_one_write() -> None:
    """Requests that reach their Redis call together (one turn of the loop) share a system
    call; a call made later goes in a write of its own. Each gets its own reply."""
    key = f"stinttest:{uuid.uuid4().hex}"

    async def main() -> tuple[list[object], list[int]]:
        lean = LeanRedis(REDIS_URL)
        try:
            await lean.run_script(ECHO, [key], ["warm"])  # connected, script loaded
            transport = lean._replies.transport if lean._replies else None
            assert transport is not None
            writes: list[int] = []
            write = transport.write

            def counted(data: bytes) -> None:
                writes.append(data.count(b"EVALSHA"))
                write(data)

            transport.write = counted  # type: ignore[method-assign, assignment]
            together = await asyncio.gather(*(lean.run_script(ECHO, [key], [str(n)]) for n in range(5)))
            alone = await lean.run_script(ECHO, [key], ["last"])
            return [*together, alone], writes
        finally:
            await lean.close()
            redis_sync.Redis.from_url(REDIS_URL).delete(key)

    replies, writes = asyncio.run(main())
    assert writes == [5, 1]
    assert [reply[0] for reply in replies] == [b"0", b"1", b"2", b"3", b"4", b"last"]  # type: ignore[index]
    assert [int(reply[1]) for reply in replies] == [2, 3, 4, 5, 6, 7]  # type: ignore[index]


def test_a_script_redis_does_not_know_is_loaded_and_errors_come_back_as_redis_errors() -> None:
    source = f"return '{uuid.uuid4().hex}'"

    async def main() -> tuple[object, object]:
        lean = LeanRedis(REDIS_URL)
        try:
            first = await lean.run_script(source, [], [])  # NOSCRIPT, then EVAL loads it
            second = await lean.run_script(source, [], [])  # known now: EVALSHA
            with pytest.raises(ResponseError):
                await lean.run_script("return redis.call('NOSUCHCOMMAND')", [], [])
            return first, second
        finally:
            await lean.close()

    first, second = asyncio.run(main())
    assert first == second and isinstance(first, bytes)


def test_an_unreachable_redis_is_a_connection_error_and_a_dropped_connection_is_reopened() -> None:
    """The outage fallback catches redis-py's errors: the lean client raises the same ones. A
    connection Redis closes is noticed by its reader and opened afresh by the next call."""

    async def main() -> tuple[object, bool]:
        with pytest.raises(RedisConnectionError):
            await LeanRedis(f"redis://127.0.0.1:{free_port()}/0", timeout=1).run_script(ECHO, ["k"], ["x"])
        lean = LeanRedis(REDIS_URL)
        key = f"stinttest:{uuid.uuid4().hex}"
        try:
            await lean.run_script(ECHO, [key], ["a"])
            first = lean._replies.transport if lean._replies else None
            assert first is not None
            host, port = first.get_extra_info("sockname")[:2]
            admin = redis_sync.Redis.from_url(REDIS_URL)
            admin.execute_command("CLIENT", "KILL", "ADDR", f"{host}:{port}")  # only ours
            admin.close()
            await asyncio.sleep(0.2)  # the reader sees the close and drops the connection
            reply = await lean.run_script(ECHO, [key], ["b"])
            return reply, (lean._replies.transport if lean._replies else None) is not first
        finally:
            await lean.close()
            redis_sync.Redis.from_url(REDIS_URL).delete(key)

    reply, reopened = asyncio.run(main())
    assert reply == [b"b", 2] and reopened


def test_a_stuck_redis_fails_its_callers_after_the_timeout_and_the_next_call_reconnects() -> None:
    """A peer that takes the connection and never answers (a stuck Redis): every caller on
    that connection gets redis-py's TimeoutError soon after the timeout (the outage fallback
    catches it), and the next call opens a fresh connection rather than queue behind them."""

    async def main() -> tuple[float, int, list[type[BaseException]]]:
        accepted: list[asyncio.StreamWriter] = []

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.append(writer)
            await reader.read(1 << 16)  # takes the command, answers nothing

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        lean = LeanRedis(f"redis://127.0.0.1:{port}/0", timeout=0.3)
        try:
            started = asyncio.get_running_loop().time()
            outcomes = await asyncio.gather(*(lean.execute(pack("PING")) for _ in range(3)),
                                            return_exceptions=True)
            waited = asyncio.get_running_loop().time() - started
            with pytest.raises(RedisTimeoutError):
                await lean.execute(pack("PING"))
            return waited, len(accepted), [type(outcome) for outcome in outcomes]
        finally:
            await lean.close()
            for writer in accepted:
                writer.close()
            server.close()
            await server.wait_closed()

    waited, connections, outcomes = asyncio.run(main())
    assert outcomes == [RedisTimeoutError] * 3
    assert 0.3 <= waited < 1.5
    assert connections == 2  # the call after the timeout did not reuse the stuck connection
