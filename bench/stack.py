"""Benchmark: the request stack in-process — µs of CPU per request, no server, no network.

Run: ``.venv/bin/python bench/stack.py [--requests 5000] [--rounds 5] [--profile DIR] 2>/dev/null``
(the request log goes to stderr).

The ASGI apps are called directly with a minimal HTTP scope, one request at a time, on
uvloop: the barest Litestar app (one ``@get`` JSON route), ``GET /bench/trivial`` inside
Stint's app (its whole stack, no authentication) and ``GET /api/v1/me/access`` with a
bearer token (SQLite in a temporary directory; warm caches; ``--redis URL``: the decision cache and
rate limits in Redis, keys under a prefix of their own, left to expire). Each round measures the
three in turn; the minimum over rounds is printed (the least disturbed by other
processes). ``--profile DIR`` writes a cProfile of 3,000 requests of each Stint path to
``DIR/trivial.prof`` and ``DIR/access.prof``. ``bench/access.py`` measures the same paths
over HTTP; this one isolates what the app itself costs (issue #23).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
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


class _Transport:
    """Just enough of an asyncio transport for uvicorn's HTTP protocol: what it writes is kept."""

    def __init__(self) -> None:
        self.written = bytearray()

    def write(self, data: bytes) -> None:
        self.written += data

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class Through:
    """One keep-alive connection into uvicorn's own HTTP protocol (httptools), as ``stint serve``
    configures it, with a fake transport: uvicorn's per-request work (parsing, the scope, the
    task, writing the response head) without a socket or a load generator."""

    def __init__(self, app: Any) -> None:
        from uvicorn.config import Config
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
        from uvicorn.server import ServerState

        config = Config(app, log_level="warning", access_log=False, proxy_headers=False, lifespan="off")
        config.load()
        self.state = ServerState()
        self.state.default_headers = [(b"date", b"Sun, 06 Dec 2026 21:00:00 GMT"), *config.encoded_headers]
        self.protocol = HttpToolsProtocol(config, self.state, {}, asyncio.get_running_loop())
        self.transport = _Transport()
        self.protocol.connection_made(self.transport)  # type: ignore[arg-type]

    async def __call__(self, path: str, headers: list[tuple[bytes, bytes]]) -> bytes:
        lines = [f"GET {path} HTTP/1.1".encode(), b"host: 127.0.0.1", *(k + b": " + v for k, v in headers)]
        self.transport.written.clear()
        self.protocol.data_received(b"\r\n".join(lines) + b"\r\n\r\n")
        while self.state.tasks:
            await asyncio.sleep(0)
        return bytes(self.transport.written)


async def per_request(app: Any, path: str, headers: list[tuple[bytes, bytes]], requests: int) -> float:
    one = (lambda: app(path, headers)) if isinstance(app, Through) else (lambda: call(app, path, headers))
    for _ in range(300):
        await one()
    started = time.process_time()
    for _ in range(requests):
        await one()
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
            **({"STINT_REDIS_URL": args.redis, "STINT_REDIS_PREFIX": f"stint-stack-{os.getpid()}:"}
               if args.redis else {}),
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
            if args.uvicorn:
                paths = {name: (Through(a), path, headers) for name, (a, path, headers) in paths.items()}
            for name, (target, path, headers) in paths.items():
                if isinstance(target, Through):
                    head = await target(path, headers)
                    assert head.startswith(b"HTTP/1.1 200"), (name, head[:200])
                else:
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
                        if isinstance(target, Through):
                            await target(path, headers)
                        else:
                            await call(target, path, headers)
                    profile.disable()
                    profile.dump_stats(str(Path(args.profile) / f"{name}.prof"))


def main() -> int:
    import uvloop

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests per path per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", metavar="DIR", help="cProfile 3,000 requests of each Stint path")
    parser.add_argument("--redis", metavar="URL",
                        help="the decision cache and rate limits in Redis (e.g. redis://127.0.0.1:6379/13)")
    parser.add_argument("--uvicorn", action="store_true",
                        help="through uvicorn's HTTP protocol (a fake transport: no socket)")
    args = parser.parse_args()
    uvloop.install()
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
