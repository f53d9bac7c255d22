"""Benchmark: signed Stripe webhooks ingested per second, end to end, on PostgreSQL.

Run: ``.venv/bin/python bench/webhooks.py [--tenants N] [--concurrency K]``.

It creates a fresh PostgreSQL database (dropped afterwards), starts localstripe on
loopback and one ``stint serve`` process (one worker) with Stripe billing, and builds N
tenants that each bought Team through Stripe (hosted checkout, a card, an invoice charged
in Stripe). Then it delivers over HTTP (a small raw asyncio HTTP/1.1 client, as
bench/access.py, so the client's CPU does not stand in for the server's), K at a time,
three events per tenant —
invoice.payment_failed (an earlier attempt), invoice.paid and customer.updated — plus 20%
duplicates, all shuffled, each signed as Stripe signs. The server verifies each, claims
its id, applies its effect and re-reads from Stripe where order matters.

It prints events/s and the effects applied twice (must be 0), counted in the database
afterwards: an ``invoice.paid`` effect recorded more than once for one invoice, an event
stored twice, or an invoice / subscription not in the state one delivery leaves.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plugins.storage import engine as storage_engine  # noqa: E402
from plugins.storage.billing_tables import BillingEvent  # noqa: E402
from plugins.storage.tables import AuditEvent, Invoice, Subscription  # noqa: E402
from tests.integration.localstripe_support import (  # noqa: E402
    event,
    free_port,
    localstripe,
    session_id_of,
    sign,
    stripe_env,
)
from tests.support import databases  # noqa: E402
from tests.support.api import PASSWORD  # noqa: E402


async def post(client: httpx.AsyncClient, path: str, **kw: Any) -> httpx.Response:
    answer = await client.post(path, **kw)
    assert answer.status_code < 300, f"{path}: {answer.status_code} {answer.text}"
    return answer


async def deliver(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    headers = {"Stripe-Signature": sign(body), "Content-Type": "application/json"}
    return await post(client, "/webhooks/stripe", content=body, headers=headers)


async def one_tenant(app: httpx.AsyncClient, stripe: httpx.AsyncClient, n: int) -> list[bytes]:
    """Tenant ``n`` bought through Stripe; the three events Stripe then sends about it."""
    slug = f"bench{n}"
    email = f"admin@{slug}.test"
    await post(
        app,
        "/api/v1/signup",
        json={
            "tenant": slug,
            "name": slug,
            "deployment": "cloud",
            "admin": {"email": email, "password": PASSWORD, "name": "Admin"},
        },
    )
    signed_in = await post(
        app, "/api/v1/auth/token", json={"tenant": slug, "email": email, "password": PASSWORD}
    )
    auth = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    url = (await post(app, "/api/v1/subscription/checkout", headers=auth)).json()["url"]
    session = (await post(stripe, f"/_test/checkout/{session_id_of(url)}/complete")).json()
    await deliver(app, event(f"evt_cs_{n}", "checkout.session.completed", session))
    bought = await post(
        app,
        "/api/v1/subscription/purchase",
        headers=auth,
        json={"plan": "team", "interval": "annual", "seats": 3},
    )
    stint_id = bought.json()["invoice"]["id"]
    invoices = (await stripe.get("/v1/invoices", params={"limit": 100})).json()["data"]
    (remote,) = [i for i in invoices if i["metadata"].get("stint_invoice_id") == stint_id]
    assert remote["status"] == "paid", remote["status"]
    customer = (await stripe.get(f"/v1/customers/{remote['customer']}")).json()
    return [
        event(f"evt_failed_{n}", "invoice.payment_failed", {**remote, "status": "open"}),
        event(f"evt_paid_{n}", "invoice.paid", remote),
        event(f"evt_customer_{n}", "customer.updated", customer),
    ]


async def raw_requests(port: int, requests: list[bytes], width: int) -> list[tuple[int, bytes]]:
    """Send prepared HTTP/1.1 requests over ``width`` keep-alive connections; (status, body) of each.

    The same small asyncio client as bench/access.py: httpx spends more CPU per request
    than the server under test does, which on a two-core machine measures the client.
    """
    answers: list[tuple[int, bytes]] = [(0, b"")] * len(requests)
    cursor = [0]

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while cursor[0] < len(requests):
                n = cursor[0]
                cursor[0] += 1
                writer.write(requests[n])
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                answers[n] = (int(head[9:12]), await reader.readexactly(length) if length else b"")
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(min(width, len(requests)))))
    return answers


def http_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def in_parallel(jobs: list[Any], width: int) -> list[Any]:
    gate = asyncio.Semaphore(width)

    async def run(job: Any) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(run(job) for job in jobs))


async def counts(url: str) -> tuple[int, int, int, int]:
    """(paid effects beyond one per invoice, events stored, unpaid invoices, inactive subscriptions)."""
    engine = await storage_engine.open_engine(url, pool_size=1)
    storage_engine.bind(engine)
    try:
        rows = await AuditEvent.select(AuditEvent.subject).where(AuditEvent.action == "invoice.paid")
        per_invoice: dict[str, int] = {}
        for row in rows:
            per_invoice[row["subject"]] = per_invoice.get(row["subject"], 0) + 1
        doubles = sum(times - 1 for times in per_invoice.values())
        stored = await BillingEvent.count()
        unpaid = await Invoice.count().where(Invoice.status != "paid")
        inactive = await Subscription.count().where(Subscription.status != "active")
        return doubles, int(stored), int(unpaid), int(inactive)
    finally:
        await storage_engine.close(engine)


def start_server(
    url: str, stripe_base: str, data_dir: str, profile: str | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "STINT_DATABASE_URL": url,
        "STINT_SECRET_KEY": "bench-secret-key-" + "x" * 32,
        "STINT_DATA_DIR": data_dir,
        "STINT_FAST_PASSWORD_HASHING": "1",
        "STINT_RATE_LIMIT_CLIENT": "1000000",
        "STINT_RATE_LIMIT_API": "100000000",
        **stripe_env(stripe_base),
    }
    stint = str(Path(sys.executable).parent / "stint")
    command = [stint, "serve", "--host", "127.0.0.1", "--port", str(port)]
    if profile:
        # The server of the timed part under cProfile, written when it stops on SIGINT (see main).
        command = [sys.executable, "-m", "cProfile", "-o", profile, *command]
    server = subprocess.Popen(
        command,
        cwd=data_dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(Path(data_dir) / "server.log").open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("stint serve did not start")
        time.sleep(0.1)


async def bench(
    base: str,
    stripe_base: str,
    tenants: int,
    width: int,
    server_cpu: Callable[[], float],
    restart: Callable[[], str] | None = None,
) -> tuple[int, int, float, float, float, float, float]:
    limits = httpx.Limits(max_connections=width + 4)
    async with (
        httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as app,
        httpx.AsyncClient(base_url=stripe_base, timeout=60, auth=("sk_test_stint_localstripe", "")) as stripe,
    ):
        started = time.perf_counter()
        per_tenant = await in_parallel([one_tenant(app, stripe, n) for n in range(tenants)], 8)
        setup = time.perf_counter() - started
        unique = [body for bodies in per_tenant for body in bodies]
        rng = random.Random(20260101)
        deliveries = unique + rng.sample(unique, len(unique) // 5)
        rng.shuffle(deliveries)
        # Baseline in the same run, same server, same concurrency: an authenticated
        # ``GET /api/v1/me`` (token check, tenant and user reads), the API's everyday request.
        signed_in = await post(
            app,
            "/api/v1/auth/token",
            json={"tenant": "bench0", "email": "admin@bench0.test", "password": PASSWORD},
        )
        auth = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    if restart is not None:
        # --profile: the timed part on a fresh server under cProfile, set-up left out.
        base = restart()
    port = int(base.rsplit(":", 1)[1])
    me = http_request("GET", "/api/v1/me", auth)
    # Warm both paths (pools, caches, first-use imports) outside the timed runs.
    await raw_requests(port, [me] * width, width)
    started, cpu = time.perf_counter(), server_cpu()
    checked = await raw_requests(port, [me] * len(deliveries), width)
    baseline = len(deliveries) / (time.perf_counter() - started)
    cpu_me = (server_cpu() - cpu) / len(deliveries)
    assert all(status == 200 for status, _ in checked), {status for status, _ in checked}
    # Signed up front (the tolerance is 300 s), so the timed run measures the server.
    requests = [
        http_request(
            "POST",
            "/webhooks/stripe",
            {"Stripe-Signature": sign(body), "Content-Type": "application/json"},
            body,
        )
        for body in deliveries
    ]
    started, cpu = time.perf_counter(), server_cpu()
    answers = await raw_requests(port, requests, width)
    elapsed = time.perf_counter() - started
    cpu_event = (server_cpu() - cpu) / len(deliveries)
    assert all(status == 200 for status, _ in answers), [a for a in answers if a[0] != 200][:3]
    outcomes = [json.loads(body)["outcome"] for _, body in answers]
    assert all(o in ("paid", "no_change", "customer", "duplicate", "failed") for o in outcomes), set(outcomes)
    print("outcomes: " + ", ".join(f"{o} {outcomes.count(o)}" for o in sorted(set(outcomes))))
    return len(unique), len(deliveries), setup, elapsed, baseline, cpu_me, cpu_event


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="run the timed part's server (baseline, deliveries; not set-up) under cProfile, stats to FILE",
    )
    args = parser.parse_args()
    template = databases.create_template()
    name, url = databases.create_from_template(template)
    server = None
    try:
        with localstripe() as stripe_base, tempfile.TemporaryDirectory() as tmp:
            server, base = start_server(url, stripe_base, tmp)

            def restart() -> str:
                # Same database, key and Stripe; the bearer token signed in before still holds.
                nonlocal server
                assert server is not None
                server.send_signal(signal.SIGINT)
                server.wait(timeout=60)
                server, again = start_server(url, stripe_base, tmp, args.profile)
                return again

            def server_cpu() -> float:
                # The worker's own CPU seconds (user + system), less swayed by the machine's
                # other load than the wall-clock rates are.
                assert server is not None
                fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

            unique, total, setup, elapsed, baseline, cpu_me, cpu_event = asyncio.run(
                bench(
                    base,
                    stripe_base,
                    args.tenants,
                    args.concurrency,
                    server_cpu,
                    restart if args.profile else None,
                )
            )
            server.send_signal(signal.SIGINT)  # a clean stop (and cProfile writes its stats)
            server.wait(timeout=60)
            server = None
        doubles, stored, unpaid, inactive = asyncio.run(counts(url))
        # Each tenant's checkout.session.completed was delivered during set-up.
        stored -= args.tenants
        load = os.getloadavg()[0]
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"PostgreSQL on loopback, load average {load:.1f} at the end"
        )
        print(f"setup: {args.tenants} tenants bought through Stripe (localstripe) in {setup:.1f} s")
        print(
            f"deliveries: {total} ({unique} unique events + {total - unique} duplicates, shuffled), "
            f"{args.concurrency} in flight, one `stint serve` worker"
        )
        rate = total / elapsed
        print(f"ingested: {rate:.0f} events/s ({elapsed:.2f} s)")
        print(f"baseline: {baseline:.0f} GET /api/v1/me per second; webhooks at {rate / baseline:.2f}× that")
        print(
            f"server CPU: {cpu_event * 1000:.2f} ms per delivery, {cpu_me * 1000:.2f} ms per /me "
            f"({cpu_event / cpu_me:.2f}×)"
        )
        print(f"events stored: {stored} (expected {unique})")
        print(f"double-applied effects: {doubles}")
        print(f"invoices not paid: {unpaid}; subscriptions not active: {inactive}")
        if doubles or stored != unique or unpaid or inactive:
            sys.exit(1)
    finally:
        if server is not None:
            server.terminate()
        databases.drop(name)
        databases.drop(template)


if __name__ == "__main__":
    main()
