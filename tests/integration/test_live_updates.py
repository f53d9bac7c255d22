"""Live updates that scale (issue #23): a committed timer change reaches the open event streams
of its own user — and only theirs — through the change feed, across web processes (Redis
pub/sub), through a lost Redis connection, and without database work per open stream.

Real processes: ``stint serve`` on SQLite (the in-process feed), and two ``stint serve`` on
one PostgreSQL and one Redis.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import redis as redis_sync

from tests.integration.test_cli import free_port
from tests.integration.test_scale_out import System, _ready
from tests.support.api import add_user, bearer, signup, token
from tests.support.services import REDIS_URL

STREAMING = {"Accept": "text/event-stream"}


def _env(tmp: Path, database_url: str, **extra: str) -> dict[str, str]:
    return {
        **{k: "" for k in os.environ if k.startswith("STINT_")},
        "STINT_DATABASE_URL": database_url,
        "STINT_SECRET_KEY": "live-updates-secret-key-" + "x" * 32,
        "STINT_DATA_DIR": str(tmp / "data"),
        "STINT_ACCESS_TOKEN_MINUTES": "1440",
        "STINT_FAST_PASSWORD_HASHING": "1",
        "STINT_RATE_LIMIT_CLIENT": "100000",
        "STINT_RATE_LIMIT_LOGIN": "100000",
        **extra,
    }


def _serve(system: System, count: int) -> None:
    for n in range(1, count + 1):
        port = free_port()
        system.start(f"web-{n}", "serve", "--port", str(port))
        system.web.append(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while not all(_ready(url) for url in system.web):
        dead = [n for n, p in system.processes.items() if p.poll() is not None]
        assert not dead and time.monotonic() < deadline, f"{dead} did not start:\n{system.logs()}"
        time.sleep(0.2)


class Stream:
    """An open event stream: its ``timer`` events' data, one at a time."""

    def __init__(self, stack: ExitStack, client: httpx.Client, headers: dict[str, str]) -> None:
        response = stack.enter_context(client.stream(
            "GET", "/api/v1/tracking/events", headers={**headers, **STREAMING}, timeout=15))
        assert response.status_code == 200
        self._lines = response.iter_lines()

    def next_timer(self) -> str:
        """The next ``timer`` event's data (keep-alive comments skipped)."""
        for line in self._lines:
            if line.startswith("data:"):
                return line
        raise AssertionError("the stream ended")


def _start(client: httpx.Client, headers: dict[str, str], comment: str) -> None:
    started = client.post("/api/v1/tracking/start", json={"comment": comment}, headers=headers)
    assert started.status_code == 201, started.text


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """One ``stint serve`` on SQLite, no Redis: the in-process feed."""
    tmp = tmp_path_factory.mktemp("live-single")
    system = System(tmp, None, _env(tmp, f"sqlite:///{tmp / 'stint.sqlite3'}"))  # type: ignore[arg-type]
    try:
        upgraded = system.start("upgrade", "db", "upgrade")
        assert upgraded.wait(timeout=120) == 0, system.logs()
        del system.processes["upgrade"]
        _serve(system, 1)
        yield system
    finally:
        for name in list(system.processes):
            system.stop(name)


def test_a_timer_started_by_a_user_reaches_their_open_stream_and_never_another_users(
    single: System,
) -> None:
    """Ann (acme), Bea (acme) and Cy (globex) each hold a stream: Ann's start reaches Ann's
    stream; Bea's and Cy's next events are their own starts, never Ann's timer."""
    with httpx.Client(base_url=single.web[0], trust_env=False, timeout=15) as http, ExitStack() as stack:
        signup(http, "acme")  # type: ignore[arg-type]
        signup(http, "globex")  # type: ignore[arg-type]
        admin = token(http, "acme", "admin@acme.test")  # type: ignore[arg-type]
        add_user(http, admin, "bea@acme.test")  # type: ignore[arg-type]
        ann = bearer(admin)
        bea = bearer(token(http, "acme", "bea@acme.test"))  # type: ignore[arg-type]
        cy = bearer(token(http, "globex", "admin@globex.test"))  # type: ignore[arg-type]
        streams = {who: Stream(stack, http, headers) for who, headers in
                   (("ann", ann), ("bea", bea), ("cy", cy))}
        # The first event of each is its current state: from then on the stream is subscribed.
        assert all('"running":false' in s.next_timer() for s in streams.values())

        _start(http, ann, "ann-at-work")
        assert '"comment":"ann-at-work"' in streams["ann"].next_timer()
        _start(http, bea, "bea-at-work")
        _start(http, cy, "cy-at-work")

        bea_saw, cy_saw = streams["bea"].next_timer(), streams["cy"].next_timer()
    assert '"comment":"bea-at-work"' in bea_saw and "ann-at-work" not in bea_saw
    assert '"comment":"cy-at-work"' in cy_saw and "ann-at-work" not in cy_saw


def test_a_client_that_resumes_with_last_event_id_gets_the_current_state_first(single: System) -> None:
    """Events carry ids; a reconnect naming the last one it saw starts with the state now."""
    with httpx.Client(base_url=single.web[0], trust_env=False, timeout=15) as http:
        signup(http, "initech")  # type: ignore[arg-type]
        admin = bearer(token(http, "initech", "admin@initech.test"))  # type: ignore[arg-type]
        first = http.get("/api/v1/tracking/events?limit=1", headers={**admin, **STREAMING})
        [seen] = [line.split(":", 1)[1].strip() for line in first.text.splitlines() if line.startswith("id:")]
        _start(http, admin, "while-away")
        resumed = http.get("/api/v1/tracking/events?limit=1",
                           headers={**admin, **STREAMING, "Last-Event-ID": seen})
    assert resumed.status_code == 200
    assert '"comment":"while-away"' in resumed.text
    assert f"id: {seen}" not in resumed.text  # another state, another id


# Two web processes on PostgreSQL and Redis -------------------------------------------------


@pytest.fixture(scope="module")
def cluster(postgres_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    from tests.support import databases

    name, url = databases.create_from_template(postgres_template)
    tmp = tmp_path_factory.mktemp("live-cluster")
    prefix = f"stint-live-{uuid.uuid4().hex[:8]}:"
    redis_url = f"{REDIS_URL.rstrip('/')}/12"
    system = System(tmp, None, _env(tmp, url, STINT_REDIS_URL=redis_url,  # type: ignore[arg-type]
                                     STINT_REDIS_PREFIX=prefix))
    try:
        upgraded = system.start("upgrade", "db", "upgrade")
        assert upgraded.wait(timeout=120) == 0, system.logs()
        del system.processes["upgrade"]
        _serve(system, 2)
        yield system
    finally:
        for process_name in list(system.processes):
            system.stop(process_name)
        client = redis_sync.Redis.from_url(redis_url)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()
        databases.drop(name)


@pytest.fixture(scope="module")
def web(cluster: System) -> Iterator[tuple[httpx.Client, httpx.Client, dict[str, str]]]:
    with httpx.Client(base_url=cluster.web[0], trust_env=False, timeout=15) as one, \
            httpx.Client(base_url=cluster.web[1], trust_env=False, timeout=15) as two:
        signup(one, "acme")  # type: ignore[arg-type]
        yield one, two, bearer(token(one, "acme", "admin@acme.test"))  # type: ignore[arg-type]


def _feed_connections(cluster: System) -> list[int]:
    """The Redis ids of this cluster's feed subscriber connections (named after its prefix)."""
    name = cluster.env["STINT_REDIS_PREFIX"] + "tracking-feed"
    client = redis_sync.Redis.from_url(cluster.env["STINT_REDIS_URL"])
    try:
        return [int(c["id"]) for c in client.client_list() if c.get("name") == name]
    finally:
        client.close()


def _wait_for(what: str, condition: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_change_made_through_one_process_reaches_a_stream_held_on_the_other(
    web: tuple[httpx.Client, httpx.Client, dict[str, str]],
) -> None:
    one, two, admin = web
    with ExitStack() as stack:
        stream = Stream(stack, two, admin)
        stream.next_timer()
        _start(one, admin, "through-process-one")
        assert '"comment":"through-process-one"' in stream.next_timer()


def test_streams_outlive_a_lost_redis_connection_and_a_later_change_still_arrives(
    cluster: System, web: tuple[httpx.Client, httpx.Client, dict[str, str]],
) -> None:
    """``CLIENT KILL`` cuts both processes' subscriber connections: the streams stay open,
    a change made meanwhile and one made after the subscribers are back reach both."""
    one, two, admin = web
    with ExitStack() as stack:
        streams = [Stream(stack, one, admin), Stream(stack, two, admin)]
        for stream in streams:
            stream.next_timer()
        before = _feed_connections(cluster)
        assert len(before) == 2, before  # one subscriber per process, however many streams
        client = redis_sync.Redis.from_url(cluster.env["STINT_REDIS_URL"])
        try:
            for client_id in before:
                client.client_kill_filter(_id=client_id)
        finally:
            client.close()
        # Made while the subscribers are (most likely) away: the resync after they are back
        # brings it, if the live message did not.
        _start(one, admin, "during-the-cut")
        assert all('"comment":"during-the-cut"' in stream.next_timer() for stream in streams)
        _wait_for("both subscribers to reconnect",
                  lambda: len(now := _feed_connections(cluster)) == 2 and not set(now) & set(before))
        _start(one, admin, "after-the-cut")
        assert all('"comment":"after-the-cut"' in stream.next_timer() for stream in streams)


def _statements(client: httpx.Client) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("stint_db_statements_total "):
            return float(line.split()[1])
    raise AssertionError("no stint_db_statements_total in /metrics")


def test_open_streams_add_no_database_statements(
    web: tuple[httpx.Client, httpx.Client, dict[str, str]],
) -> None:
    """The statements a process sends over the same quiet interval are the same with 1 and
    with 50 open streams (they used to poll once a second each)."""
    _one, two, admin = web
    interval = 3.0

    def counted() -> float:
        start = _statements(two)
        time.sleep(interval)
        return _statements(two) - start

    with ExitStack() as stack:
        streams = [Stream(stack, two, admin)]
        streams[0].next_timer()
        with_one = counted()
        for _ in range(49):
            streams.append(Stream(stack, two, admin))
            streams[-1].next_timer()
        with_fifty = counted()
    # The scrape's own statements are the same each time; polling would have added ~150.
    assert with_fifty <= with_one + 2, (with_one, with_fifty)
