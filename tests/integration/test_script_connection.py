"""The read-ahead on redis-py's dedicated connection (``plugins/cache/script_connection.py``),
on real Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis as redis_sync
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from plugins.cache.script_connection import CLIENT_NAME, ScriptConnection
from tests.support.mail import free_port
from tests.support.services import REDIS_URL

pytestmark = pytest.mark.redis

ECHO = "return {ARGV[1], redis.call('INCR', KEYS[1])}"


def test_concurrent_calls_each_get_their_own_reply_on_the_one_connection() -> None:
    """Two hundred calls at once share one connection: every caller gets the reply to its call."""
    key = f"stinttest:{uuid.uuid4().hex}"

    async def main() -> tuple[list[list[object]], int]:
        hot = ScriptConnection(f"{REDIS_URL.rstrip('/')}/12")
        try:
            replies = await asyncio.gather(*(hot.run_script(ECHO, [key], [str(n)]) for n in range(200)))
            admin = redis_sync.Redis.from_url(REDIS_URL)
            clients = admin.client_list()
            admin.close()
            return list(replies), sum(1 for c in clients if c["db"] == "12" and c["name"] == CLIENT_NAME)
        finally:
            await hot.close()

    replies, connections = asyncio.run(main())
    assert [reply[0] for reply in replies] == [str(n).encode() for n in range(200)]
    assert sorted(int(reply[1]) for reply in replies) == list(range(1, 201))
    assert connections == 1
    client = redis_sync.Redis.from_url(f"{REDIS_URL.rstrip('/')}/12")
    assert client.get(key) == b"200"  # the URL's database number was selected
    client.delete(key)
    client.close()


def test_a_script_redis_does_not_know_is_loaded_and_errors_come_back_as_redis_errors() -> None:
    source = f"return '{uuid.uuid4().hex}'"

    async def main() -> tuple[object, object]:
        hot = ScriptConnection(REDIS_URL)
        try:
            first = await hot.run_script(source, [], [])  # NOSCRIPT, then loaded
            second = await hot.run_script(source, [], [])
            with pytest.raises(ResponseError):
                await hot.run_script("return redis.call('NOSUCHCOMMAND')", [], [])
            return first, second
        finally:
            await hot.close()

    first, second = asyncio.run(main())
    assert first == second and isinstance(first, bytes)


def test_an_unreachable_redis_is_a_connection_error_and_a_dropped_connection_is_reopened() -> None:
    """The outage fallback catches redis-py's connection errors; a connection Redis closes is
    opened afresh by the next call."""

    async def main() -> object:
        with pytest.raises(RedisConnectionError):
            nowhere = ScriptConnection(f"redis://127.0.0.1:{free_port()}/0", timeout=1)
            await nowhere.run_script(ECHO, ["k"], ["x"])
        hot = ScriptConnection(REDIS_URL)
        key = f"stinttest:{uuid.uuid4().hex}"
        try:
            await hot.run_script(ECHO, [key], ["a"])
            ours = await hot._client.client_id()
            admin = redis_sync.Redis.from_url(REDIS_URL)
            admin.execute_command("CLIENT", "KILL", "ID", ours)  # only ours
            admin.close()
            return await hot.run_script(ECHO, [key], ["b"])
        finally:
            await hot.close()
            redis_sync.Redis.from_url(REDIS_URL).delete(key)

    assert asyncio.run(main()) == [b"b", 2]
