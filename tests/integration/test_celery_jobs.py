"""The jobs on real Celery: a worker and a beat started as subprocesses, on a Redis database
number of their own, sharing a PostgreSQL test database and a clock file with the test's app.

Everything is observed through the API (or the database, for counting invoices).
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis as redis_sync

from plugins.clock import FileClock
from plugins.jobs.celery_app import BATCH, SWEEP, create_celery
from plugins.settings import Settings, load_settings
from tests.integration.test_jobs import make_past_due
from tests.support.api import PASSWORD, api_client, bearer, operator_token, signup, token
from tests.support.mail import Inbox, free_port
from tests.support.services import REDIS_URL

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

STINT = str(Path(sys.executable).parent / "stint")
ROOT = Path(__file__).resolve().parents[2]


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_jobs", ROOT / "bench" / "jobs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wait_for(what: str, check: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    pytest.fail(f"timed out after {seconds} s waiting for {what}")


@dataclass
class Env:
    """Settings shared by the test's app and the worker and beat subprocesses."""

    tmp: Path
    clock: FileClock
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return load_settings(self.env, dotenv=self.tmp / "no.env")

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{args[0]}-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [STINT, *args], env={**os.environ, **self.env}, cwd=self.tmp, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.processes.append(process)
        return process

    def worker(self, concurrency: int = 1) -> subprocess.Popen[bytes]:
        return self.start("worker", f"--concurrency={concurrency}", "--loglevel=INFO")

    def kill(self, process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        if process.poll() is None:
            os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def send(self, name: str, *args: Any) -> None:
        create_celery(self.settings).send_task(name, args=list(args))

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.tmp.glob("*.log")))


def _make_env(postgres_url: str, tmp_path: Path, redis_url: str, smtp_port: int, **extra: str) -> Env:
    clock = FileClock(tmp_path / "now")
    clock.set(datetime(2026, 1, 1, 9, 0, tzinfo=UTC))
    prefix = f"stinttest{uuid.uuid4().hex[:8]}:"
    env = {
        "STINT_DATABASE_URL": postgres_url,
        "STINT_REDIS_URL": redis_url,
        "STINT_REDIS_PREFIX": prefix,
        "STINT_SECRET_KEY": "test-secret-key-" + "x" * 32,
        "STINT_DATA_DIR": str(tmp_path / "data"),
        "STINT_FAKE_CLOCK_FILE": str(clock.path),
        "STINT_JOBS_EVERY": "1",
        "STINT_JOBS_VISIBILITY_TIMEOUT": "20",
        "STINT_ACCESS_TOKEN_MINUTES": "1440",
        "STINT_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "STINT_FAST_PASSWORD_HASHING": "1",
        **extra,
    }
    return Env(tmp_path, clock, env)


@pytest.fixture
def celery(postgres_url: str, tmp_path: Path, inbox: tuple[Inbox, int]) -> Iterator[Env]:
    # A Redis database number of its own (and a key prefix of its own within it).
    db = random.randint(8, 15)
    env = _make_env(postgres_url, tmp_path, f"{REDIS_URL.rstrip('/')}/{db}", inbox[1])
    try:
        yield env
    finally:
        for process in env.processes:
            env.kill(process, signal.SIGTERM if process.poll() is None else signal.SIGKILL)
        client = redis_sync.Redis.from_url(env.env["STINT_REDIS_URL"])
        for key in client.scan_iter(f"{env.env['STINT_REDIS_PREFIX']}*"):
            client.delete(key)
        client.close()


def sign_in(client: Any, slug: str) -> dict[str, str]:
    return bearer(token(client, slug, f"admin@{slug}.test"))


def status(client: Any, slug: str) -> str:
    response = client.get("/api/v1/subscription", headers=sign_in(client, slug))
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def test_worker_and_beat_expire_renew_and_purge_on_schedule(celery: Env, inbox: tuple[Inbox, int]) -> None:
    """Trial end, renewal with one invoice, cancel, grace end, and a purge after its warnings."""
    clock = celery.clock
    with api_client(celery.settings, clock) as client:
        for slug in ("trial", "renew", "cancel", "late", "gone"):
            signup(client, slug)
        for slug in ("renew", "cancel", "late"):
            bought = client.post("/api/v1/subscription/purchase", headers=sign_in(client, slug),
                                 json={"plan": "team", "interval": "monthly", "seats": 2})
            assert bought.status_code == 200, bought.text
        cancelled = client.post("/api/v1/subscription/cancel", headers=sign_in(client, "cancel"))
        assert cancelled.status_code == 200, cancelled.text
        ended = client.post("/api/v1/operator/tenants/gone/trial", json={"ends_on": "2026-01-01"},
                            headers=bearer(operator_token(client)))
        assert ended.status_code == 200, ended.text
        clock.set(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        make_past_due(client, "late")

        celery.worker()
        celery.start("beat", "--loglevel=INFO")

        clock.set(datetime(2026, 1, 19, 9, 0, tzinfo=UTC))  # the past-due grace (14 days) is over
        wait_for("the past-due subscription to expire", lambda: status(client, "late") == "expired")
        assert status(client, "trial") == "trialing"

        clock.set(datetime(2026, 1, 29, 9, 0, tzinfo=UTC))  # the 28-day trial ends
        wait_for("the trial to expire", lambda: status(client, "trial") == "expired")

        clock.set(datetime(2026, 2, 1, 9, 0, tzinfo=UTC))  # the monthly periods end
        wait_for("the renewal", lambda: status(client, "renew") == "active" and client.get(
            "/api/v1/subscription", headers=sign_in(client, "renew")).json()["period_start"] == "2026-02-01")
        wait_for("the cancelled subscription to expire", lambda: status(client, "cancel") == "expired")
        time.sleep(2)  # more beats: still one renewal invoice
        invoices = client.get("/api/v1/invoices", headers=sign_in(client, "renew")).json()
        assert len(invoices["items"] if isinstance(invoices, dict) else invoices) == 2

        mails, _ = inbox
        for day, warning in (("2026-12-02", "30 days"), ("2026-12-25", "7 days"), ("2026-12-31", "1 day")):
            clock.set(datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC))
            wait_for(f"the {warning} warning", lambda w=warning: mails.to("admin@gone.test")[-1:] == [
                f"Stint data of gone will be deleted in {w}"])
            assert client.post("/api/v1/auth/token", json={
                "tenant": "gone", "email": "admin@gone.test", "password": PASSWORD}).status_code == 200

        clock.set(datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
        wait_for("the purge", lambda: client.post("/api/v1/auth/token", json={
            "tenant": "gone", "email": "admin@gone.test", "password": PASSWORD}).status_code == 401)
        assert len(mails.to("admin@gone.test")) == 3
    assert "Traceback" not in celery.logs()


async def _renewal_invoices(url: str) -> tuple[int, int]:
    """(subscriptions with a renewal invoice, subscriptions with more than one)."""
    connection = await asyncpg.connect(url)
    try:
        row = await connection.fetchrow(
            "SELECT count(*) AS renewed, count(*) FILTER (WHERE n > 1) AS twice FROM "
            "(SELECT subscription_id, count(*) AS n FROM invoice WHERE kind = 'renewal' "
            "GROUP BY subscription_id) x"
        )
        assert row is not None
        return int(row["renewed"]), int(row["twice"])
    finally:
        await connection.close()


def counts(url: str) -> tuple[int, int]:
    return asyncio.run(_renewal_invoices(url))


DUE_ON = date(2026, 3, 1)


@pytest.fixture
def due(celery: Env) -> Iterator[tuple[Env, list[str]]]:
    """1,200 subscriptions whose period ends on the clock's day, seeded with COPY (enough that a
    sweep in small batches takes seconds, though a batch renews hundreds per second)."""
    celery.clock.set(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    url = celery.env["STINT_DATABASE_URL"]
    sub_ids = asyncio.run(_bench().seed_due_subscriptions(url, 1200, DUE_ON, prefix="k"))
    yield celery, sub_ids


def _tenant_ids(sub_ids: list[str]) -> list[str]:
    return ["t" + s[1:] for s in sub_ids]  # the seeder names a tenant after its subscription


def test_killing_the_worker_mid_sweep_leaves_exactly_one_invoice_per_subscription(
    due: tuple[Env, list[str]]
) -> None:
    """SIGKILL while batches run; a new worker and the next sweep finish the rest, nothing twice."""
    celery, sub_ids = due
    celery.env.update({"STINT_JOBS_BATCH_SIZE": "10"})
    url = celery.env["STINT_DATABASE_URL"]
    worker = celery.worker()
    celery.send(SWEEP)
    wait_for("renewals to start", lambda: counts(url)[0] >= 10)
    celery.kill(worker)
    killed_at = counts(url)[0]
    assert killed_at < len(sub_ids), "the sweep finished before the kill; make it bigger"

    celery.worker()
    celery.send(SWEEP)  # the next beat tick
    wait_for("every renewal", lambda: counts(url)[0] == len(sub_ids), 120)
    assert counts(url) == (len(sub_ids), 0)


def test_the_same_sweep_on_two_workers_at_once_renews_each_subscription_once(
    due: tuple[Env, list[str]]
) -> None:
    """Two workers, two sweeps and the same batch sent twice: one renewal invoice each."""
    celery, sub_ids = due
    celery.env.update({"STINT_JOBS_BATCH_SIZE": "30"})
    url = celery.env["STINT_DATABASE_URL"]
    celery.worker()
    celery.worker()
    # Both are listening before the work arrives (a fixed sleep was too short on a busy machine).
    app = create_celery(celery.settings)
    wait_for("both workers to answer a ping", lambda: len(app.control.ping(timeout=1.0)) >= 2, 90)
    tenants = _tenant_ids(sub_ids)
    celery.send(BATCH, tenants[:120])
    celery.send(BATCH, tenants[:120])
    celery.send(SWEEP)
    celery.send(SWEEP)
    wait_for("every renewal", lambda: counts(url)[0] == len(sub_ids), 120)
    time.sleep(2)  # let the twin tasks finish too
    assert counts(url) == (len(sub_ids), 0)
    workers = asyncio.run(_batch_workers(url))
    assert len(workers) == 2, f"expected both workers to take batches, got {workers}"


async def _batch_workers(url: str) -> set[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT DISTINCT worker FROM job_run WHERE job = 'renewals.batch'")
        return {row["worker"] for row in rows}
    finally:
        await connection.close()


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _redis_server(port: int, tmp: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    wait_for("our Redis", lambda: _pings(port), 20)
    return process


def _pings(port: int) -> bool:
    try:
        return bool(redis_sync.Redis(host="127.0.0.1", port=port, socket_timeout=1).ping())
    except redis_sync.RedisError:
        return False


def test_with_redis_down_the_app_serves_from_the_database_and_work_resumes_when_it_returns(
    postgres_url: str, tmp_path: Path, inbox: tuple[Inbox, int]
) -> None:
    """Our own Redis on another port is stopped: requests still succeed and the outage is logged;
    restarted, the worker and beat reconnect and the trial that ended meanwhile is expired."""
    port = free_port()
    our_redis = _redis_server(port, tmp_path)
    celery = _make_env(postgres_url, tmp_path, f"redis://127.0.0.1:{port}/0", inbox[1])
    seen = Collect()
    logging.getLogger("stint.redis").addHandler(seen)
    try:
        with api_client(celery.settings, celery.clock) as client:
            signup(client, "acme")
            celery.worker()
            celery.start("beat", "--loglevel=INFO")
            assert client.get("/api/v1/me/access", headers=sign_in(client, "acme")).json()["allowed"] is True

            our_redis.terminate()
            our_redis.wait(timeout=10)
            headers = sign_in(client, "acme")  # the sign-in rate limit counts in-process meanwhile
            for _ in range(3):
                access = client.get("/api/v1/me/access", headers=headers)
                assert access.status_code == 200 and access.json()["allowed"] is True
            assert any("Redis is unreachable" in m for m in seen.messages)
            assert client.get("/health").json()["checks"]["redis"]["ok"] is False

            celery.clock.set(datetime(2026, 1, 29, 9, 0, tzinfo=UTC))  # the trial ends during the outage
            headers = sign_in(client, "acme")
            assert client.get("/api/v1/me/access", headers=headers).json()["reason"] == "trial_expired"
            time.sleep(2)
            assert status(client, "acme") == "trialing"  # no worker could be told

            our_redis = _redis_server(port, tmp_path)
            wait_for("the worker to expire the trial", lambda: status(client, "acme") == "expired", 90)
            wait_for("the app to notice Redis is back", lambda: client.get(
                "/api/v1/me/access", headers=sign_in(client, "acme")).status_code == 200 and any(
                "Redis is back" in m for m in seen.messages), 20)
            assert client.get("/health").json()["checks"]["redis"]["ok"] is True
    finally:
        logging.getLogger("stint.redis").removeHandler(seen)
        for process in celery.processes:
            celery.kill(process, signal.SIGTERM)
        if our_redis.poll() is None:
            our_redis.terminate()
            our_redis.wait(timeout=10)


def test_a_second_beat_refuses_to_start_while_the_first_runs_and_may_start_once_it_stops(celery: Env) -> None:
    first = celery.start("beat", "--loglevel=INFO")
    lease = f"{celery.env['STINT_REDIS_PREFIX']}beat:lease"
    client = redis_sync.Redis.from_url(celery.env["STINT_REDIS_URL"])
    try:
        wait_for("the first beat to take the lease", lambda: client.get(lease) is not None, 30)
        second = celery.start("beat", "--loglevel=INFO")
        assert second.wait(timeout=60) == 3
        assert "another `stint beat` is running" in celery.logs()
        assert first.poll() is None  # the first one is untouched

        celery.kill(first, signal.SIGTERM)  # a clean stop lets go of the lease at once
        assert client.get(lease) is None
        third = celery.start("beat", "--loglevel=INFO")
        wait_for("the next beat to take the lease", lambda: client.get(lease) is not None, 30)
        time.sleep(1)
        assert third.poll() is None
    finally:
        client.close()


def test_the_lease_of_a_beat_that_died_expires_and_is_never_taken_from_a_live_holder() -> None:
    from plugins.jobs.beat_lock import BeatAlreadyRunning, BeatLease

    client = redis_sync.Redis.from_url(REDIS_URL)
    prefix = f"stinttest{uuid.uuid4().hex[:8]}:"
    live, dead, late = BeatLease(client, prefix, ttl=1), BeatLease(client, prefix, ttl=1), None
    try:
        live.acquire()
        time.sleep(1.5)  # past the ttl: the live holder kept renewing
        with pytest.raises(BeatAlreadyRunning):
            dead.acquire()
        live._stop.set()  # the holder dies without letting go: no more renewals
        time.sleep(1.5)
        late = BeatLease(client, prefix, ttl=30)
        late.acquire()
        live.release()  # the dead holder's late release must not drop the new holder's lease
        assert client.get(late.key) == late.holder.encode()
    finally:
        if late is not None:
            late.release()
        client.delete(f"{prefix}beat:lease")
        client.close()


def test_a_lost_lease_is_taken_back_when_free_and_never_from_another_holder(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis flushed under a running beat: its next renewal takes the lease back. Another
    beat holding it meanwhile keeps it, and the running beat says so loudly."""
    from plugins.jobs.beat_lock import BeatLease

    client = redis_sync.Redis.from_url(REDIS_URL)
    prefix = f"stinttest{uuid.uuid4().hex[:8]}:"
    lease = BeatLease(client, prefix, ttl=1)
    try:
        lease.acquire()
        client.delete(lease.key)  # as FLUSHDB would
        wait_for("the lease to be taken back", lambda: client.get(lease.key) == lease.holder.encode(), 5)

        client.set(lease.key, "another-beat", ex=30)
        with caplog.at_level(logging.ERROR, logger="stint.jobs"):
            wait_for("the loss to be logged", lambda: "beat lease lost" in caplog.text, 5)
        assert client.get(lease.key) == b"another-beat"
        lease.release()  # not ours any more: left alone
        assert client.get(lease.key) == b"another-beat"
    finally:
        lease._stop.set()
        client.delete(lease.key)
        client.close()


def test_a_beat_started_while_redis_is_down_waits_for_it_to_take_the_lease(tmp_path: Path) -> None:
    """Like Celery's beat itself, the lease waits for Redis rather than crash the beat."""
    import threading

    from plugins.jobs.beat_lock import BeatLease

    port = free_port()
    client = redis_sync.Redis(host="127.0.0.1", port=port, socket_timeout=1)
    lease = BeatLease(client, "stinttest:")
    with pytest.raises(redis_sync.ConnectionError):
        lease.acquire(retry_for=1)

    server: list[subprocess.Popen[bytes]] = []
    later = threading.Timer(1.0, lambda: server.append(_redis_server(port, tmp_path)))
    later.start()
    try:
        lease.acquire(retry_for=60)
        assert client.get(lease.key) == lease.holder.encode()
        lease.release()
    finally:
        later.join()
        for process in server:
            process.terminate()
            process.wait(timeout=10)
        client.close()
