"""Benchmark: the access decision over HTTP against the bare framework, same machine, same run.

Run: ``.venv/bin/python bench/access.py [--concurrency 8] [--requests 20000] [--seconds 15] [--redis]``.

Three rates, measured in alternating rounds with the same load generator:

- **bare**: the barest Litestar app — one ``@get`` JSON route answering ``{"ok": true}``,
  default settings — in its own process under uvicorn configured as ``stint serve`` runs
  it (same loop and HTTP implementation, one worker, access log off). The framework's
  ceiling on this machine; every ratio is against it.
- **trivial**: ``GET /bench/trivial`` → ``{"ok": true}``, one extra route inside Stint's own
  app: the same server plus Stint's whole app-wide stack (request id and log line, security
  headers, metrics, problem handlers …) but no authentication and no decision.
- **access**: ``GET /api/v1/me/access`` (``/api/v1/me`` if the former is missing) with a
  bearer token: the stack plus the tenant API's (origin, authentication, rate limit,
  idempotency) and the decision.

It creates a fresh PostgreSQL database (dropped afterwards), starts Stint on loopback,
signs up a tenant and signs in; every endpoint gets the same number of keep-alive
connections, a bounded request count and a time cap per round. The load generator is a
small asyncio HTTP/1.1 client (httpx costs more CPU per request than the server under
test, which would flatter the ratio on a two-core machine).

Prints requests/s of each, p50/p99 latency, the server's CPU time per request, the ratios
against the bare app (and access/trivial, the decision's own share), the same ratios of
server CPU per request (steadier than requests/s when other processes share the cores),
and the machine.
``--redis`` runs with ``STINT_REDIS_URL`` set (the decision cache and rate-limit counters
in Redis).

``--profile DIR`` then profiles Stint's server (cProfile, switched on and off by signals
around a steady load of each path): ``DIR/trivial.prof`` and ``DIR/access.prof``, plus a
summary of where each request's time goes (``python -m pstats`` reads the files).

``--redis-client NAME[,NAME…]`` (implies ``--redis``) picks the client of the access path's
one Redis call per request (``STINT_REDIS_READ_CLIENT``: lean, redis-py, redis-py-pool;
``both`` is lean,redis-py). Several make an A/B in one run: one server per client, on the
same database and Redis keys, measured in alternating rounds (the order flips each round),
each against the same bare app; each client's access req/s is compared with the first's.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import platform
import pstats
import signal
import socket
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

ADMIN_URL = os.environ.get("STINT_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("STINT_TEST_REDIS", "redis://127.0.0.1:6379")
READ_CLIENTS = ("lean", "redis-py", "redis-py-pool")
PASSWORD = "correct horse battery"


# The server side ---------------------------------------------------------------------------


TRIVIAL = "/bench/trivial"
BARE = "/bench/bare"


def _uvicorn_options(port: int) -> dict[str, Any]:
    # As ``stint serve`` (server/cli/serve.py) runs it: uvicorn's default loop and HTTP parser
    # (uvloop and httptools when installed), one worker, its access log off, no proxy headers.
    return {"host": "127.0.0.1", "port": port, "log_level": "warning", "access_log": False,
            "proxy_headers": False}


def _profiled_on_signals(directory: str) -> None:
    """SIGUSR1 starts a fresh cProfile of this (the event loop's) thread; SIGUSR2 stops it
    and writes it to ``directory/<n>.prof``, n counting from 1."""
    state: dict[str, Any] = {"profile": None, "count": 0}

    def start(*_: Any) -> None:
        state["profile"] = cProfile.Profile()
        state["profile"].enable()

    def stop(*_: Any) -> None:
        profile = state.pop("profile", None)
        if profile is not None:
            profile.disable()
            state["count"] += 1
            profile.dump_stats(str(Path(directory) / f"{state['count']}.prof"))
            state["profile"] = None

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)


def serve(port: int) -> None:
    """Child process: Stint plus one trivial JSON route, under uvicorn as ``stint serve`` runs it."""
    import uvicorn
    from litestar import get

    from plugins.settings import load_settings
    from server.app import create_app

    @get(TRIVIAL, sync_to_thread=False, include_in_schema=False)
    def trivial() -> dict[str, bool]:
        return {"ok": True}

    app = create_app(load_settings(), migrate=True, serving=True)  # as `stint serve` builds it
    app.register(trivial)
    if os.environ.get("STINT_BENCH_PROFILE_DIR"):
        _profiled_on_signals(os.environ["STINT_BENCH_PROFILE_DIR"])
    uvicorn.run(app, **_uvicorn_options(port))


def serve_bare(port: int) -> None:
    """Child process: the barest Litestar app (one JSON route, default settings), same server."""
    import uvicorn
    from litestar import Litestar, get

    @get(BARE)
    async def bare() -> dict[str, bool]:
        return {"ok": True}

    uvicorn.run(Litestar([bare]), **_uvicorn_options(port))


# The load generator ------------------------------------------------------------------------


async def _one_connection(
    port: int, request: bytes, deadline: float, budget: list[int], latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


async def load(port: int, path: str, headers: dict[str, str], *, concurrency: int, requests: int,
               seconds: float) -> dict[str, Any]:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    latencies: list[float] = []
    errors: list[int] = []
    budget = [requests]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(
        _one_connection(port, request, deadline, budget, latencies, errors) for _ in range(concurrency)
    ))
    return {"path": path, "latencies": latencies, "errors": errors, "elapsed": time.perf_counter() - started}


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load_measured(
    pid: int, port: int, path: str, headers: dict[str, str], **bounds: Any
) -> dict[str, Any]:
    """:func:`load`, plus the CPU time the server process spent meanwhile: less swayed by
    other processes on a shared machine than requests/s, which count waiting for a core."""
    before = _cpu_seconds(pid)
    result = await load(port, path, headers, **bounds)
    result["cpu"] = _cpu_seconds(pid) - before
    return result


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(x for p in parts for x in p["latencies"])
    errors = [e for p in parts for e in p["errors"]]
    cpu = sum(p.get("cpu", 0.0) for p in parts)
    return {
        "cpu_ms": 1000 * cpu / max(1, len(ordered)),
        "path": parts[0]["path"],
        "requests": len(ordered),
        "errors": len(errors),
        "error_statuses": sorted(set(errors))[:5],
        "rps": len(ordered) / sum(p["elapsed"] for p in parts),
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
    }


# Orchestration -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    return (f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}; load average before the run {load[0]:.2f}")


async def _json(port: int, method: str, path: str, body: dict[str, Any], token: str = "") -> Any:
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        response = await client.request(method, path, json=body, headers=headers)
        response.raise_for_status()
        return response.json()


def _clients(args: argparse.Namespace) -> list[str]:
    """The read-ahead clients to measure; one empty name for the in-process store."""
    if args.redis_client:
        names = args.redis_client.replace("both", "lean,redis-py").split(",")
        unknown = set(names) - set(READ_CLIENTS)
        if unknown or len(set(names)) != len(names):
            raise SystemExit(f"--redis-client: each of {', '.join(READ_CLIENTS)} at most once")
        return names
    return ["lean"] if args.redis else [""]


async def _listening(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the server on port {port} did not start")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    name = f"stint_bench_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}"')
    prefix = f"stint-bench-{uuid.uuid4().hex[:8]}:"
    clients = _clients(args)
    servers: dict[str, tuple[int, subprocess.Popen[bytes]]] = {}
    bare_server: tuple[int, subprocess.Popen[bytes]] | None = None
    profiled: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "STINT_DATABASE_URL": f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}",
            "STINT_SECRET_KEY": "bench-secret-key-" + "x" * 32,
            "STINT_DATA_DIR": data,
            # The limits are on (their cost is measured) but far above what the bench sends.
            "STINT_RATE_LIMIT_API": "100000000",
            "STINT_RATE_LIMIT_CLIENT": "1000000",
        }
        env.pop("STINT_REDIS_URL", None)
        if args.redis:
            env.update({"STINT_REDIS_URL": f"{REDIS_URL}/13", "STINT_REDIS_PREFIX": prefix})
        if args.profile:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
            env["STINT_BENCH_PROFILE_DIR"] = str(Path(args.profile).resolve())
        try:
            bare_port = _free_port()
            bare_server = (bare_port, subprocess.Popen(
                [sys.executable, __file__, "--serve-bare", str(bare_port)], cwd=data,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
            await _listening(*bare_server)
            # One after the other: the first one migrates the database, the next finds it done.
            for client in clients:
                port = _free_port()
                server = subprocess.Popen(
                    [sys.executable, __file__, "--serve", str(port)],
                    env={**env, "STINT_REDIS_READ_CLIENT": client} if client else env, cwd=data,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
                servers[client] = (port, server)
                await _listening(port, server)
            first = servers[clients[0]][0]
            await _json(first, "POST", "/api/v1/signup", {
                "tenant": "bench", "name": "Bench", "deployment": "cloud",
                "admin": {"email": "admin@bench.test", "password": PASSWORD, "name": "Admin"},
            })
            pair = await _json(first, "POST", "/api/v1/auth/token",
                               {"tenant": "bench", "email": "admin@bench.test", "password": PASSWORD})
            auth = {"Authorization": f"Bearer {pair['access_token']}"}
            target = "/api/v1/me/access"
            probe = await load(first, target, auth, concurrency=1, requests=1, seconds=5)
            if probe["errors"] or not probe["latencies"]:
                target = "/api/v1/me"
            bounds = {"concurrency": args.concurrency, "requests": args.requests // args.rounds,
                      "seconds": args.seconds / args.rounds}
            # Warm both paths of every server (first use licenses the user; caches and pools
            # fill; each process learns what this caller looks up), and the bare app, before measuring.
            for port, _ in servers.values():
                await load(port, target, auth, concurrency=args.concurrency, requests=500, seconds=5)
                await load(port, TRIVIAL, {}, concurrency=args.concurrency, requests=500, seconds=5)
            await load(bare_port, BARE, {}, concurrency=args.concurrency, requests=500, seconds=5)
            # Alternate short rounds, so a change in the machine's load hits every endpoint
            # alike; with two servers the order flips each round so neither always goes first.
            measured: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {c: [] for c in clients}
            bare_rounds: list[dict[str, Any]] = []
            bare_pid = bare_server[1].pid
            for number in range(args.rounds):
                for client in clients if number % 2 == 0 else clients[::-1]:
                    port, pid = servers[client][0], servers[client][1].pid
                    measured[client].append((await load_measured(pid, port, target, auth, **bounds),
                                             await load_measured(pid, port, TRIVIAL, {}, **bounds)))
                bare_rounds.append(await load_measured(bare_pid, bare_port, BARE, {}, **bounds))
            if args.profile:
                port, server = servers[clients[0]]
                profiled = await _profile(server, port, target, auth, args)
        finally:
            if bare_server is not None:
                bare_server[1].terminate()
                bare_server[1].wait(timeout=10)
            for _, server in servers.values():
                server.terminate()
                server.wait(timeout=10)
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if args.redis:
                import redis

                client = redis.Redis.from_url(f"{REDIS_URL}/13")
                for key in client.scan_iter(f"{prefix}*"):
                    client.delete(key)
                client.close()
    bare = _merge(bare_rounds)
    results: dict[str, Any] = {}
    for label, rounds in measured.items():
        access = _merge([a for a, _ in rounds])
        trivial = _merge([t for _, t in rounds])
        results[label] = {
            "access": access, "trivial": trivial, "bare": bare,
            "ratio": access["rps"] / bare["rps"],
            "trivial_ratio": trivial["rps"] / bare["rps"],
            "access_trivial_ratio": access["rps"] / trivial["rps"],
            # The bare app's server CPU per request over each one's: what the ratios would be
            # on a machine with a core to spare for each server (less swayed by other load).
            "cpu_ratio": bare["cpu_ms"] / access["cpu_ms"],
            "trivial_cpu_ratio": bare["cpu_ms"] / trivial["cpu_ms"],
        }
    if profiled:
        results[clients[0]]["profile"] = profiled
    if len(clients) == 1:
        return results[clients[0]]
    base = results[clients[0]]
    # Each client against the first: its access req/s, and its access/bare ratio.
    versus = {
        f"{label}/{clients[0]}": {"access_rps": r["access"]["rps"] / base["access"]["rps"],
                                  "ratio": r["ratio"] / base["ratio"],
                                  "access_cpu": r["access"]["cpu_ms"] / base["access"]["cpu_ms"]}
        for label, r in results.items() if label != clients[0]
    }
    return {"clients": results, "versus": versus}


async def _profile(
    server: subprocess.Popen[bytes], port: int, target: str, auth: dict[str, str], args: argparse.Namespace
) -> dict[str, Any]:
    """A steady load of each path with the server's profiler on; the summaries."""
    directory = Path(args.profile)
    summaries: dict[str, Any] = {}
    for number, (name, path, headers) in enumerate((("trivial", TRIVIAL, {}), ("access", target, auth)), 1):
        server.send_signal(signal.SIGUSR1)
        await asyncio.sleep(0.2)
        done = await load(port, path, headers, concurrency=args.concurrency, requests=args.requests,
                          seconds=args.seconds / args.rounds)
        server.send_signal(signal.SIGUSR2)
        written = directory / f"{number}.prof"
        for _ in range(100):
            if written.exists():
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)  # written whole
        written.replace(directory / f"{name}.prof")
        summaries[name] = _summary(directory / f"{name}.prof", len(done["latencies"]))
    return summaries


def _summary(path: Path, requests: int, top: int = 25) -> dict[str, Any]:
    """The functions with the most cumulative time, in µs per request (under the profiler,
    which slows calls down: compare shares, not absolute figures, with the rates above)."""
    stats = pstats.Stats(str(path))
    rows = []
    for (file, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({"function": f"{Path(file).name}:{line}({name})", "calls_per_request": calls / requests,
                     "own_us": 1e6 * own / requests, "cumulative_us": 1e6 * cumulative / requests})
    rows.sort(key=lambda r: -r["cumulative_us"])
    total = 1e6 * stats.total_tt / requests  # type: ignore[attr-defined]
    return {"requests": requests, "total_us": total, "by_cumulative": rows[:top],
            "by_own": sorted(rows, key=lambda r: -r["own_us"])[:top]}


def _print(result: dict[str, Any]) -> None:
    for label in ("bare", "trivial", "access"):
        r = result[label]
        print(f"{label:>7} {r['path']:<20} {r['rps']:8.0f} req/s  p50 {r['p50_ms']:6.2f} ms  "
              f"p99 {r['p99_ms']:6.2f} ms  server CPU {r['cpu_ms']:.3f} ms/request  "
              f"({r['requests']} requests, {r['errors']} errors)")
    print(f"ratios against the bare app: trivial {result['trivial_ratio']:.2f}, "
          f"access {result['ratio']:.2f}; access/trivial {result['access_trivial_ratio']:.2f}")
    print(f"server CPU per request, the bare app's over each: trivial {result['trivial_cpu_ratio']:.2f}, "
          f"access {result['cpu_ratio']:.2f}")
    for name, summary in result.get("profile", {}).items():
        print(f"profile of {name} ({summary['requests']} requests, {summary['total_us']:.0f} µs of profiled "
              f"time per request); cumulative µs per request:")
        for row in summary["by_cumulative"]:
            print(f"  {row['cumulative_us']:8.1f} {row['own_us']:8.1f} {row['calls_per_request']:6.2f}  "
                  f"{row['function']}")
        print("  by own time:")
        for row in summary["by_own"]:
            print(f"  {row['cumulative_us']:8.1f} {row['own_us']:8.1f} {row['calls_per_request']:6.2f}  "
                  f"{row['function']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive connections (default 8)")
    parser.add_argument("--requests", type=int, default=20000, help="requests per endpoint (default 20000)")
    parser.add_argument("--seconds", type=float, default=15.0, help="time cap per endpoint (default 15)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per endpoint (default 5)")
    parser.add_argument("--redis", action="store_true", help="run with STINT_REDIS_URL set")
    parser.add_argument("--redis-client", metavar="NAME[,NAME…]",
                        help="the read-ahead's Redis client(s): lean, redis-py, redis-py-pool, both "
                             "(lean,redis-py); several: A/B in one run (implies --redis)")
    parser.add_argument("--profile", metavar="DIR",
                        help="afterwards, profile Stint's server under each path's load "
                             "(cProfile files in DIR)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return 0
    args.redis = args.redis or bool(args.redis_client)
    machine = _machine()
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps({"machine": machine, **result}, indent=2))
        return 0
    print(f"machine: {machine}")
    print(f"store: {'Redis' if args.redis else 'in-process'}; PostgreSQL; uvicorn, one worker; "
          f"{args.concurrency} connections")
    if "clients" not in result:
        _print(result)
        return 0
    for label, measured in result["clients"].items():
        print(f"read-ahead client: {label}")
        _print(measured)
    for label, versus in result["versus"].items():
        print(f"{label}: access req/s {versus['access_rps']:.3f}, ratio to bare {versus['ratio']:.3f}, "
              f"server CPU per access request {versus['access_cpu']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
