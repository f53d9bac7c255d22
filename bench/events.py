"""Benchmark: live updates at scale — 10 and 1,000 open event streams on one ``stint serve``
(PostgreSQL + Redis), 10 timer changes a second (issue #23, done-when 3).

Run: ``.venv/bin/python bench/events.py [--tenants 5] [--users 200] [--changed 300]
[--rate 10] [--seconds 30] [--idle 10]``.

It creates a fresh PostgreSQL database (dropped afterwards), runs ``stint db upgrade`` and one
``stint serve`` with ``STINT_REDIS_URL`` set (the change feed on Redis pub/sub), signs up
``--tenants`` tenants of ``--users`` users each (through the API), and starts a timer for each of
the ``--changed`` users the changes go to, so every measured change is the same operation: a
restart (the running timer stops into a worklog, a new one starts).

Then, in the same run, two phases with the same change workload:

- **baseline**: 10 open streams (10 of the changed users);
- **scaled**: the same 10 plus streams for every other user (``tenants × users`` in all).

Each phase: ``--idle`` seconds without changes, then ``--seconds`` seconds of ``--rate`` changes a
second, round-robin over the changed users, each a ``POST /api/v1/tracking/start`` with a marked
comment. The streams are raw asyncio sockets (one per user) that timestamp each ``timer`` event
carrying a mark: a change's latency is from sending its request to its owner's stream
receiving it. Database statements per second over each window come from the server's own
counter (``stint_db_statements_total``, every statement its pooled connections ran; each read
of it costs the scrape's own few statements, the same in both phases) and from PostgreSQL's
``pg_stat_database`` (``xact_commit + xact_rollback`` of the bench database: a read unit of work
runs each SELECT as its own transaction, so this counts statements outside write transactions
and transactions inside them). ``pg_stat_statements`` needs ``shared_preload_libraries``,
which the shared server does not have.

Prints p50/p95/p99 latency per phase, statements per second per window, the scaled/baseline
ratios, and the machine with its load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.access import ADMIN_URL, PASSWORD, REDIS_URL, _admin, _free_port, _listening, _machine  # noqa: E402

STINT = str(Path(sys.executable).parent / "stint")
MARK = re.compile(rb'"comment":"(chg-\d+)"')


class Streams:
    """Open event streams as raw sockets; when each marked change reached its owner's stream."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.arrived: dict[str, float] = {}
        self.ended = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._writers: list[asyncio.StreamWriter] = []

    async def open(self, token: str) -> None:
        """Open one stream and wait for its first event (from then on it is subscribed)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write((
            "GET /api/v1/tracking/events HTTP/1.1\r\nHost: bench\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode())
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"the stream answered {status!r}")
        while (line := await reader.readline()) not in (b"\r\n", b""):
            pass
        while not (line := await reader.readline()).startswith(b"data:"):
            if not line:
                raise RuntimeError("the stream ended before its first event")
        self._writers.append(writer)
        self._tasks.append(asyncio.get_running_loop().create_task(self._read(reader)))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while line := await reader.readline():
            if line.startswith(b"data:") and (found := MARK.search(line)):
                self.arrived.setdefault(found.group(1).decode(), time.perf_counter())
        self.ended += 1

    def __len__(self) -> int:
        return len(self._tasks)

    async def close(self) -> None:
        for writer in self._writers:
            writer.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _statements(client: Any, database: str) -> tuple[float, int]:
    """(the server's own statement counter, PostgreSQL's committed + rolled-back transactions)."""
    import asyncpg

    text = (await client.get("/metrics")).text
    own = next(float(line.split()[1]) for line in text.splitlines()
               if line.startswith("stint_db_statements_total "))
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        xacts = await connection.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1", database)
    finally:
        await connection.close()
    return own, int(xacts)


async def _window(client: Any, database: str, seconds: float, during: Any = None) -> dict[str, float]:
    # PostgreSQL's per-backend counters reach pg_stat_database up to a second late: settle first.
    await asyncio.sleep(1.5)
    own0, x0 = await _statements(client, database)
    started = time.perf_counter()
    if during is not None:
        await during
    else:
        await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(1.5)
    own1, x1 = await _statements(client, database)
    return {"seconds": elapsed, "own_per_s": (own1 - own0) / elapsed, "pg_xacts_per_s": (x1 - x0) / elapsed}


async def _changes(client: Any, tokens: list[str], rate: float, seconds: float,
                   sent: dict[str, float], owner: dict[str, int], first: int) -> list[str]:
    """``rate`` restarts a second for ``seconds``, round-robin over ``tokens``; returns failures."""
    failures: list[str] = []

    async def one(mark: str, index: int) -> None:
        sent[mark] = time.perf_counter()
        owner[mark] = index
        response = await client.post("/api/v1/tracking/start", json={"comment": mark},
                                     headers={"Authorization": f"Bearer {tokens[index]}"})
        if response.status_code != 201:
            failures.append(f"{response.status_code} {response.text[:200]}")

    tasks = []
    begin = time.perf_counter()
    count = int(rate * seconds)
    for n in range(count):
        delay = begin + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(f"chg-{first + n}", n % len(tokens))))
    await asyncio.gather(*tasks)
    return failures


def _percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0, "p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
    cuts = statistics.quantiles(samples, n=100, method="inclusive") if len(samples) > 1 else samples * 99
    return {"n": len(samples), "p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": max(samples)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    database = f"stint_bench_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{database}"')
    prefix = f"stint-bench-{uuid.uuid4().hex[:8]}:"
    machine = _machine()
    server: subprocess.Popen[bytes] | None = None
    result: dict[str, Any] = {"machine": machine}
    with tempfile.TemporaryDirectory() as data:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("STINT_")},
            "STINT_DATABASE_URL": f"{ADMIN_URL.rsplit('/', 1)[0]}/{database}",
            "STINT_REDIS_URL": f"{REDIS_URL}/13",
            "STINT_REDIS_PREFIX": prefix,
            "STINT_SECRET_KEY": "bench-secret-key-" + "x" * 32,
            "STINT_DATA_DIR": data,
            "STINT_FAST_PASSWORD_HASHING": "1",
            "STINT_ACCESS_TOKEN_MINUTES": "1440",
            "STINT_RATE_LIMIT_API": "100000000",
            "STINT_RATE_LIMIT_CLIENT": "1000000",
            "STINT_RATE_LIMIT_LOGIN": "1000000",
        }
        streams: Streams | None = None
        try:
            subprocess.run([STINT, "db", "upgrade"], env=env, cwd=data, check=True, capture_output=True)
            port = _free_port()
            server = subprocess.Popen([STINT, "serve", "--port", str(port)], env=env, cwd=data,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await _listening(port, server)
            limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits,
                                         timeout=60) as client:
                tokens = await _people(client, args)
                changed = tokens[: args.changed]
                # Every measured change is a restart of a timer that has run for a while.
                await asyncio.gather(*(client.post("/api/v1/tracking/start", json={"comment": "warm"},
                                                   headers={"Authorization": f"Bearer {t}"})
                                       for t in changed))
                streams = Streams(port)
                sent: dict[str, float] = {}
                owner: dict[str, int] = {}
                phases: dict[str, Any] = {}
                for phase, total, first in (("baseline", 10, 0), ("scaled", len(tokens), 100_000)):
                    # Streams for the first changed users, then the rest.
                    order = list(range(len(tokens)))
                    for index in order[len(streams):total]:
                        await streams.open(tokens[index])
                    idle = await _window(client, database, args.idle)
                    driving = asyncio.ensure_future(
                        _changes(client, changed, args.rate, args.seconds, sent, owner, first))
                    busy = await _window(client, database, args.seconds, driving)
                    failures = driving.result()
                    await asyncio.sleep(2)  # the last changes' events
                    marks = [m for m in sent if first <= int(m.split("-")[1]) < first + 100_000]
                    watched = [m for m in marks if owner[m] < len(streams)]
                    latencies = [streams.arrived[m] - sent[m] for m in watched if m in streams.arrived]
                    phases[phase] = {
                        "streams": len(streams), "idle": idle, "busy": busy,
                        "changes": len(marks), "watched": len(watched),
                        "missed": len(watched) - len(latencies), "failures": failures[:3],
                        "failed": len(failures), "latency": _percentiles(latencies),
                        "ended_streams": streams.ended,
                    }
                result["phases"] = phases
        finally:
            if streams is not None:
                await streams.close()
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
            await _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            import redis

            r = redis.Redis.from_url(f"{REDIS_URL}/13")
            for key in r.scan_iter(f"{prefix}*"):
                r.delete(key)
            r.close()
    result["load_after"] = os.getloadavg()
    base, scaled = result["phases"]["baseline"], result["phases"]["scaled"]
    result["ratios"] = {
        "busy_own": scaled["busy"]["own_per_s"] / base["busy"]["own_per_s"],
        "busy_pg": scaled["busy"]["pg_xacts_per_s"] / base["busy"]["pg_xacts_per_s"],
    }
    return result


async def _people(client: Any, args: argparse.Namespace) -> list[str]:
    """``tenants × users`` users (admins included), signed in: their access tokens, the
    changed users spread over every tenant first."""
    by_tenant: list[list[str]] = []
    gate = asyncio.Semaphore(16)
    for t in range(args.tenants):
        slug = f"bench{t}"
        answer = await client.post("/api/v1/signup", json={
            "tenant": slug, "name": slug, "deployment": "cloud",
            "admin": {"email": f"admin@{slug}.test", "password": PASSWORD, "name": "Admin"}})
        answer.raise_for_status()
        admin = await _sign_in(client, slug, f"admin@{slug}.test")
        async def add(u: int, slug: str = slug, admin: str = admin, gate: asyncio.Semaphore = gate) -> str:
            async with gate:
                made = await client.post("/api/v1/users", headers={"Authorization": f"Bearer {admin}"},
                                         json={"email": f"u{u}@{slug}.test", "name": f"U{u}",
                                               "password": PASSWORD, "role": "team"})
                if made.status_code != 201:
                    raise RuntimeError(f"adding a user: {made.status_code} {made.text[:300]}")
                return await _sign_in(client, slug, f"u{u}@{slug}.test")

        by_tenant.append([admin, *await asyncio.gather(*(add(u) for u in range(1, args.users)))])
    # Interleave the tenants: the first users of the list come from every tenant.
    return [tokens[i] for i in range(args.users) for tokens in by_tenant]


async def _sign_in(client: Any, slug: str, email: str) -> str:
    answer = await client.post("/api/v1/auth/token",
                               json={"tenant": slug, "email": email, "password": PASSWORD})
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _print(result: dict[str, Any]) -> None:
    print(f"machine: {result['machine']}; load average after {result['load_after'][0]:.2f}")
    for name, p in result["phases"].items():
        lat = p["latency"]
        print(f"{name:9} {p['streams']:5} streams  idle: {p['idle']['own_per_s']:7.1f} stmt/s "
              f"(pg {p['idle']['pg_xacts_per_s']:6.1f} xact/s)  "
              f"changes: {p['busy']['own_per_s']:7.1f} stmt/s "
              f"(pg {p['busy']['pg_xacts_per_s']:6.1f} xact/s)")
        print(f"{'':9} {p['changes']} changes ({p['failed']} failed), {p['watched']} to open streams, "
              f"{p['missed']} not received; latency ms p50 {lat['p50'] * 1000:.0f} p95 "
              f"{lat['p95'] * 1000:.0f} p99 {lat['p99'] * 1000:.0f} max {lat.get('max', 0) * 1000:.0f}; "
              f"streams ended {p['ended_streams']}")
        if p["failures"]:
            print("  e.g.", p["failures"])
    r = result["ratios"]
    print(f"statements/s during changes, scaled/baseline: server count {r['busy_own']:.3f}×, "
          f"pg_stat_database {r['busy_pg']:.3f}× (target 1.00 ± 0.10)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=5)
    parser.add_argument("--users", type=int, default=200, help="per tenant, the admin included")
    parser.add_argument("--changed", type=int, default=300, help="users the changes go to")
    parser.add_argument("--rate", type=float, default=10.0, help="changes a second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--idle", type=float, default=10.0)
    args = parser.parse_args()
    _print(asyncio.run(run(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
