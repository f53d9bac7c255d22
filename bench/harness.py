"""What the benches over a seeded year share: the database, the served app, the client and
the way figures are taken and printed (explorer, reports and the Reporting API benches).

``run`` creates a PostgreSQL database (unless ``--reuse``), migrates it and seeds it with
``bench/seeding.py`` (the tracking bench's year of work: N tenants, users and worklogs by
COPY, six activity types per tenant, a rate for every user, the first user of each tenant a
Product user), starts Stint under uvicorn in a child process (as ``stint serve`` runs it,
with one bare JSON route beside it: the floor of any request), hands the bench its URL,
server and port, and drops the database at the end unless ``--keep``/``--reuse``/``--seed-only``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench.seeding import seed

ADMIN_URL = os.environ.get("STINT_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
ACTIVITY_TYPES = 6
PASSWORD = "correct horse battery"

#: A bench's measurement: (database URL, the server child, its port, the arguments).
Measure = Callable[[str, "subprocess.Popen[bytes]", int, argparse.Namespace], Awaitable[object]]


# The data ----------------------------------------------------------------------------------


def data_arguments(parser: argparse.ArgumentParser, *, database: str, tenants: int = 1_000) -> None:
    """The arguments that say which seeded year to measure."""
    parser.add_argument("--worklogs", type=int, default=10_000_000)
    parser.add_argument("--tenants", type=int, default=tenants)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--database", default=database)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database an earlier --keep run seeded")
    parser.add_argument("--seed-only", action="store_true",
                        help="seed (and keep) the database, measure nothing")


async def create(url: str, name: str, args: argparse.Namespace) -> None:
    from plugins.storage import engine as storage_engine
    from plugins.storage.migrations import upgrade

    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    engine = await storage_engine.open_engine(url, pool_size=2)
    storage_engine.bind(engine)
    await upgrade(engine)
    await storage_engine.close(engine)
    started = time.perf_counter()
    await seed(url, args.worklogs, args.tenants, args.users, activity_types=ACTIVITY_TYPES,
               roles=dict.fromkeys(range(args.tenants), "product"))
    print(f"seeded   {name} in {time.perf_counter() - started:,.0f} s", flush=True)


async def run(args: argparse.Namespace, measure: Measure) -> None:
    """Seed (or reuse) the database, serve Stint on it and ``measure``; tidy up after."""
    url = f"{ADMIN_URL.rsplit('/', 1)[0]}/{args.database}"
    try:
        if not args.reuse:
            await create(url, args.database, args)
        if args.seed_only:
            return
        connection = await asyncpg.connect(url)
        try:
            args.count = int(await connection.fetchval("SELECT count(*) FROM worklog"))
            args.server = str(await connection.fetchval("SELECT version()")).split(" on ")[0]
        finally:
            await connection.close()
        with tempfile.TemporaryDirectory() as data:
            port = _free_port()
            env = {**os.environ, "STINT_DATABASE_URL": url,
                   "STINT_SECRET_KEY": "bench-secret-key-" + "x" * 32, "STINT_DATA_DIR": data,
                   "STINT_ACCESS_TOKEN_MINUTES": "1440",
                   # The limits are on (their cost is measured) but far above what the bench sends.
                   "STINT_RATE_LIMIT_API": "100000000", "STINT_RATE_LIMIT_CLIENT": "1000000"}
            env.pop("STINT_REDIS_URL", None)
            server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], env=env, cwd=data,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                await _listening(port, server)
                await measure(url, server, port, args)
            finally:
                server.terminate()
                server.wait(timeout=30)
    finally:
        if not (args.keep or args.reuse or args.seed_only):
            admin = await asyncpg.connect(ADMIN_URL)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            finally:
                await admin.close()


# The server --------------------------------------------------------------------------------


def serve(port: int) -> None:
    """Child process: Stint plus one bare JSON route, under uvicorn as ``stint serve`` runs it."""
    import uvicorn
    from litestar import get

    from plugins.settings import load_settings
    from server.app import create_app

    @get("/bench/bare", sync_to_thread=False, include_in_schema=False)
    def bare() -> dict[str, bool]:
        return {"ok": True}

    app = create_app(load_settings(), migrate=True, serving=True)  # as `stint serve` builds it
    app.register(bare)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _listening(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(6000):  # migrations at start-up may build indexes over 10 million rows
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


class Http:
    """One keep-alive HTTP/1.1 connection (httpx would cost more CPU than the server here)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, token: str = "", body: Any = None, headers: tuple[str, ...] = (),
        *, parse: bool = True,
    ) -> tuple[int, Any]:
        """The status and the answer: decoded from JSON, or (``parse=False``) its bytes as read."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        payload = json.dumps(body).encode() if body is not None else b""
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers]
        if token:
            head.append(f"Authorization: Bearer {token}")
        if body is not None:
            head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in raw.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        data = await self.reader.readexactly(length) if length else b""
        return int(raw[9:12]), (json.loads(data) if parse else data) if data else None

    async def ok(
        self, method: str, path: str, token: str = "", body: Any = None, headers: tuple[str, ...] = (),
        *, parse: bool = True,
    ) -> Any:
        status, answer = await self.request(method, path, token, body, headers, parse=parse)
        if status >= 300:
            raise RuntimeError(f"{method} {path} → {status}: {answer}")
        return answer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def product_tokens(raw: Any, http: Http, measured: list[int]) -> dict[int, str]:
    """An access token for the Product user of each measured tenant (user number t): the
    seeding leaves no password, so one is set first."""
    from bench.seeding import user_id
    from plugins.identity.passwords import Argon2Hasher

    secret = Argon2Hasher().hash(PASSWORD)
    tokens: dict[int, str] = {}
    for t in measured:
        await raw.execute("UPDATE tenant_user SET password_hash = $1 WHERE id = $2", secret, user_id(t))
        pair = await http.ok("POST", "/api/v1/auth/token", body={
            "tenant": f"tenant-{t}", "email": f"user{t}@bench.test", "password": PASSWORD})
        tokens[t] = pair["access_token"]
    return tokens


# Measuring ---------------------------------------------------------------------------------


async def _once(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def paired(
    first: list[Callable[[], Awaitable[object]]], second: list[Callable[[], Awaitable[object]]],
    *, warm: bool = True,
) -> tuple[list[float], list[float]]:
    """One untimed pass over every sample (so neither side pays for the other's cold pages),
    then the pairs back to back in alternating order."""
    if warm:
        for one, two in zip(first, second, strict=True):
            await one()
            await two()
    a, b = [], []
    for index, (one, two) in enumerate(zip(first, second, strict=True)):
        if index % 2:
            b.append(await _once(two))
            a.append(await _once(one))
        else:
            a.append(await _once(one))
            b.append(await _once(two))
    return a, b


def row(name: str, samples: list[float]) -> float:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    print(f"{name:<34} p50 {cuts[49]:8.2f} ms   p95 {cuts[94]:8.2f} ms   p99 {cuts[98]:8.2f} ms"
          f"   (n={len(samples)})")
    return cuts[94]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:  # the child: uvicorn runs its own event loop
        serve(int(sys.argv[2]))
