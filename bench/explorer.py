"""Benchmark: the Times Explorer's hot paths over HTTP at 10 million worklogs, against
hand-written SQL on the same data in the same run (issue #17).

Run: ``python bench/explorer.py [--worklogs N] [--samples N] [--keep | --reuse DATABASE]``.
It creates a PostgreSQL database (``stint_bench_explorer`` unless ``--database``; dropped
at the end unless ``--keep``), migrates it and seeds it with ``bench/seeding.py`` (the
tracking bench's year of work: 1,000 tenants, 50,000 users, 10 million worklogs by COPY)
plus six activity types per tenant (every other one with a rate), a rate for every user
and billable lengths off the quarter hour. The first user of each tenant is a Product user.
Stint runs under uvicorn in a child process (as ``stint serve`` runs it); the bench signs
in as the Product users of ``--tenants-measured`` tenants and, on random tenants and months:

- ``page``: ``GET /api/v1/worklogs/all?from=&to=&activity_types=&limit=100`` — a month of
  the whole tenant filtered by one activity type, the first page of 100 (with titles and
  budgets) — against the same ``SELECT … ORDER BY started_at, id LIMIT 101`` by hand;
- ``group``: ``GET /api/v1/worklogs/all?from=&to=&group_by=user,week`` — a month grouped by
  user then week, every worklog priced (activity type rate, else user rate) and rounded
  half-even once — against one hand-written ``GROUP BY`` doing the same pricing with joins
  (the bench checks the two agree);
- ``batch``: ``POST /api/v1/worklogs/batch`` of 5,000 worklogs against one asyncpg
  ``executemany`` INSERT of 5,000 such rows in a transaction.

The hand-written SQL runs over one asyncpg connection of this process (no HTTP): the ratio
is the whole app's cost over the query's. For scale, ``bare HTTP`` is a JSON route with no
work in the same server: the floor of any request here. Pairs run back to back in
alternating order after an untimed pass. Prints p50/p95/p99 (ms) and the p95 ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench.seeding import activity_type_id, seed, tenant_id, user_id

ADMIN_URL = os.environ.get("STINT_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
ACTIVITY_TYPES = 6
PASSWORD = "correct horse battery"
BATCH = 5_000
MONTHS = [date(2025, m, 1) for m in range(2, 12)]


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

    app = create_app(load_settings(), migrate=True)
    app.register(bare)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False)


class Http:
    """One keep-alive HTTP/1.1 connection (httpx would cost more CPU than the server here)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, token: str = "", body: Any = None) -> tuple[int, Any]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        payload = json.dumps(body).encode() if body is not None else b""
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
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
        return int(raw[9:12]), json.loads(data) if data else None

    async def ok(self, method: str, path: str, token: str = "", body: Any = None) -> Any:
        status, answer = await self.request(method, path, token, body)
        if status >= 300:
            raise RuntimeError(f"{method} {path} → {status}: {answer}")
        return answer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


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


_PAGE_SQL = """
SELECT id, user_id, started_at, length_s, billable_length_s, work_item, comment, activity_type,
       activity_type_id, added_by, flags, owner_edited
FROM worklog
WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3 AND activity_type_id = ANY($4::varchar[])
ORDER BY started_at, id LIMIT 101
"""

# The same pricing as core.rates (activity type rate, else user rate; the bench seeds no
# budgets), rounded half-even per worklog in integers, summed per user and ISO week (UTC:
# the Product users have no zone of their own and the tenants are in UTC).
_GROUP_SQL = """
SELECT r.user_id, to_char(r.started_at AT TIME ZONE 'UTC', 'IYYY-"W"IW') AS week,
       sum(r.length_s) AS tracked, sum(r.billable_length_s) AS billable,
       sum(r.p / 3600 + CASE WHEN 2 * (r.p % 3600) > 3600
                              OR (2 * (r.p % 3600) = 3600 AND (r.p / 3600) % 2 = 1)
                             THEN 1 ELSE 0 END) AS amount
FROM (SELECT w.user_id, w.started_at, w.length_s, w.billable_length_s,
             w.billable_length_s::bigint * coalesce(a.rate_amount, u.amount) AS p
      FROM worklog w
      LEFT JOIN activity_type a ON a.tenant_id = w.tenant_id AND a.id = w.activity_type_id
      LEFT JOIN user_rate u ON u.tenant_id = w.tenant_id AND u.user_id = w.user_id
      WHERE w.tenant_id = $1 AND w.started_at >= $2 AND w.started_at < $3) AS r
GROUP BY 1, 2 ORDER BY 1, 2
"""

_INSERT_SQL = """
INSERT INTO worklog (id, tenant_id, user_id, started_at, length_s, billable_length_s, work_item, comment,
                     added_by, flags, owner_edited, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $3, 'manual', false, $8, $8)
"""


def _month(month: date) -> tuple[datetime, datetime, str, str]:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    start = datetime.combine(month, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(following, datetime.min.time(), tzinfo=UTC)
    return start, end, month.isoformat(), (following - timedelta(days=1)).isoformat()


async def measure(url: str, port: int, args: argparse.Namespace) -> dict[str, float]:
    raw = await asyncpg.connect(url)
    http = Http(port)
    rng = random.Random(11)
    measured = [t * (args.tenants // args.tenants_measured) for t in range(args.tenants_measured)]
    from plugins.identity.passwords import Argon2Hasher

    secret = Argon2Hasher().hash(PASSWORD)
    tokens: dict[int, str] = {}
    for t in measured:  # the Product user of each measured tenant (user number t) signs in
        await raw.execute("UPDATE tenant_user SET password_hash = $1 WHERE id = $2", secret, user_id(t))
        pair = await http.ok("POST", "/api/v1/auth/token", body={
            "tenant": f"tenant-{t}", "email": f"user{t}@bench.test", "password": PASSWORD})
        tokens[t] = pair["access_token"]
    picks = [(rng.choice(measured), rng.choice(MONTHS)) for _ in range(args.samples)]

    def page(t: int, month: date) -> Callable[[], Awaitable[object]]:
        _, _, first, last = _month(month)
        path = (f"/api/v1/worklogs/all?from={first}&to={last}&activity_types={activity_type_id(t, 0)}"
                f"&limit=100")
        return lambda: http.ok("GET", path, tokens[t])

    def page_sql(t: int, month: date) -> Callable[[], Awaitable[object]]:
        start, end, _, _ = _month(month)
        return lambda: raw.fetch(_PAGE_SQL, tenant_id(t), start, end, [activity_type_id(t, 0)])

    def group(t: int, month: date) -> Callable[[], Awaitable[object]]:
        _, _, first, last = _month(month)
        path = f"/api/v1/worklogs/all?from={first}&to={last}&group_by=user,week"
        return lambda: http.ok("GET", path, tokens[t])

    def group_sql(t: int, month: date) -> Callable[[], Awaitable[object]]:
        start, end, _, _ = _month(month)
        return lambda: raw.fetch(_GROUP_SQL, tenant_id(t), start, end)

    # The two agree (on a few samples): the same pages, the same totals to the cent.
    for t, month in picks[:5]:
        answer = await page(t, month)()
        rows = await page_sql(t, month)()
        assert [i["id"] for i in answer["items"]] == [r["id"] for r in rows[:100]], "page differs"  # type: ignore[index]
        groups = await group(t, month)()
        mine = {(g["key"]["user_id"], s["key"]["week"]):
                (s["tracked_s"], s["billable_s"], s["amount"]["amount"])
                for g in groups["groups"] for s in g["groups"]}  # type: ignore[index]
        theirs = {(r["user_id"], r["week"]): (r["tracked"], r["billable"], r["amount"])
                  for r in await group_sql(t, month)()}  # type: ignore[attr-defined]
        assert mine == theirs, "group totals differ"

    async def bare() -> None:
        await http.ok("GET", "/bench/bare")

    bares = [await _once(bare) for _ in range(args.samples)]
    pages, page_sqls = await paired([page(t, m) for t, m in picks], [page_sql(t, m) for t, m in picks])
    groups_, group_sqls = await paired([group(t, m) for t, m in picks], [group_sql(t, m) for t, m in picks])

    # Batches: 5,000 quarter hours each, for the caller, in November 2026 (after the seeded
    # year, before today: neither locked nor in the future); each batch its own days.
    def lines(n: int) -> list[dict[str, Any]]:
        base = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=2 * n)
        return [{"started_at": (base + timedelta(seconds=30 * i)).isoformat(), "length_s": 20,
                 "billable_length_s": 20, "comment": "bench"} for i in range(BATCH)]

    def batch(t: int, n: int) -> Callable[[], Awaitable[object]]:
        body = {"worklogs": lines(n)}
        return lambda: http.ok("POST", "/api/v1/worklogs/batch", tokens[t], body)

    def batch_sql(t: int, n: int) -> Callable[[], Awaitable[object]]:
        base = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=2 * n + 1)
        now = datetime.now(UTC)
        rows = [(uuid.uuid4().hex, tenant_id(t), user_id(t), base + timedelta(seconds=30 * i), 20, 20,
                 "bench", now) for i in range(BATCH)]

        async def go() -> None:
            async with raw.transaction():
                await raw.executemany(_INSERT_SQL, rows)
        return go

    batch_picks = [(measured[n % len(measured)], n) for n in range(args.batches)]
    batches, batch_sqls = await paired([batch(t, n) for t, n in batch_picks],
                                       [batch_sql(t, n) for t, n in batch_picks], warm=False)
    http.close()
    await raw.close()
    print(f"python   {platform.python_implementation()} {platform.python_version()}")
    print(f"machine  {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"data     {args.count:,} worklogs, {args.tenants:,} tenants, {args.users:,} users; {args.server}")
    row("bare HTTP (floor)", bares)
    result = {
        "page": row("page (GET /worklogs/all)", pages) / row("page (hand-written SQL)", page_sqls),
        "group": row("group user,week (GET)", groups_)
        / row("group user,week (hand-written SQL)", group_sqls),
        "batch": row("batch 5,000 (POST)", batches) / row("batch 5,000 (executemany)", batch_sqls),
    }
    print("ratio    " + "   ".join(f"{name} {value:.1f}×" for name, value in result.items())
          + "   (p95, Stint over HTTP / hand-written SQL)")
    return result


# Set-up ------------------------------------------------------------------------------------


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


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--worklogs", type=int, default=10_000_000)
    parser.add_argument("--tenants", type=int, default=1_000)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--tenants-measured", type=int, default=20)
    parser.add_argument("--database", default="stint_bench_explorer")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database an earlier --keep run seeded")
    parser.add_argument("--seed-only", action="store_true",
                        help="seed (and keep) the database, measure nothing")
    args = parser.parse_args()
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
                await measure(url, port, args)
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


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:  # the child: uvicorn runs its own event loop
        serve(int(sys.argv[2]))
    else:
        asyncio.run(main())
