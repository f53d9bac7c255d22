"""Benchmark: the request stack in-process — µs of CPU per request, no server, no network.

Run: ``.venv/bin/python bench/stack.py [--requests 5000] [--rounds 5] [--profile DIR] 2>/dev/null``
(the request log goes to stderr).

The ASGI apps are called directly with a minimal HTTP scope, one request at a time, on
uvloop: the barest Litestar app (one ``@get`` JSON route), ``GET /bench/trivial`` inside
Stint's app (its whole stack, no authentication) and ``GET /api/v1/me/access`` with a
bearer token (SQLite in a temporary directory; warm caches). Each round measures the
three in turn; the minimum over rounds is printed (the least disturbed by other
processes). ``--profile DIR`` writes a cProfile of 3,000 requests of each Stint path to
``DIR/trivial.prof`` and ``DIR/access.prof``. ``bench/access.py`` measures the same paths
over HTTP; this one isolates what the app itself costs (issue #23).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "correct horse battery"


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
            "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000), "scheme": "http",
            "method": "GET", "root_path": "", "path": path, "raw_path": path.encode(), "query_string": b"",
            "headers": [(b"host", b"127.0.0.1"), *headers]}


async def call(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(_scope(path, headers), receive, send)
    return sent


async def per_request(app: Any, path: str, headers: list[tuple[bytes, bytes]], requests: int) -> float:
    for _ in range(300):
        await call(app, path, headers)
    started = time.process_time()
    for _ in range(requests):
        await call(app, path, headers)
    return 1e6 * (time.process_time() - started) / requests


async def run(args: argparse.Namespace) -> None:
    import httpx
    from litestar import Litestar, get

    from plugins.settings import load_settings
    from server.app import create_app

    @get("/bench/trivial", sync_to_thread=False, include_in_schema=False)
    def trivial() -> dict[str, bool]:
        return {"ok": True}

    @get("/bench/bare")
    async def bare() -> dict[str, bool]:
        return {"ok": True}

    with tempfile.TemporaryDirectory() as data:
        settings = load_settings({
            "STINT_DATABASE_URL": f"sqlite:///{Path(data) / 'stint.sqlite3'}",
            "STINT_SECRET_KEY": "bench-secret-key-" + "x" * 32, "STINT_DATA_DIR": data,
            "STINT_RATE_LIMIT_API": "100000000", "STINT_RATE_LIMIT_CLIENT": "1000000",
        }, dotenv=Path(data) / "no.env")
        app = create_app(settings, migrate=True)
        app.register(trivial)
        bare_app = Litestar([bare])
        async with app.lifespan(), bare_app.lifespan():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                (await client.post("/api/v1/signup", json={
                    "tenant": "bench", "name": "Bench", "deployment": "cloud",
                    "admin": {"email": "admin@bench.test", "password": PASSWORD, "name": "Admin"},
                })).raise_for_status()
                signed_in = await client.post("/api/v1/auth/token", json={
                    "tenant": "bench", "email": "admin@bench.test", "password": PASSWORD})
                signed_in.raise_for_status()
            auth = [(b"authorization", f"Bearer {signed_in.json()['access_token']}".encode())]
            paths = {"bare": (bare_app, "/bench/bare", []), "trivial": (app, "/bench/trivial", []),
                     "access": (app, "/api/v1/me/access", auth)}
            for name, (target, path, headers) in paths.items():
                status = (await call(target, path, headers))[0]["status"]
                assert status == 200, (name, status)
            measured: dict[str, list[float]] = {name: [] for name in paths}
            for _ in range(args.rounds):
                for name, (target, path, headers) in paths.items():
                    measured[name].append(await per_request(target, path, headers, args.requests))
            for name, values in measured.items():
                print(f"{name:8} {min(values):7.1f} µs/request (min of {args.rounds}; all: "
                      f"{' '.join(f'{v:.1f}' for v in values)})")
            base = min(measured["bare"])
            print(f"bare over each: trivial {base / min(measured['trivial']):.2f}, "
                  f"access {base / min(measured['access']):.2f}")
            if args.profile:
                Path(args.profile).mkdir(parents=True, exist_ok=True)
                for name in ("trivial", "access"):
                    target, path, headers = paths[name]
                    profile = cProfile.Profile()
                    profile.enable()
                    for _ in range(3000):
                        await call(target, path, headers)
                    profile.disable()
                    profile.dump_stats(str(Path(args.profile) / f"{name}.prof"))


def main() -> int:
    import uvloop

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests per path per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", metavar="DIR", help="cProfile 3,000 requests of each Stint path")
    args = parser.parse_args()
    uvloop.install()
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
