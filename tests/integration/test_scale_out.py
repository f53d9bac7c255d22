"""Scale-out proven (issue #22, done-when 4): two ``stint serve``, two ``stint worker`` and one
``stint beat`` on one PostgreSQL database and one Redis behave as one system.

The five processes are started once for the file, on a clock file they share; the tests run
in order (the last moves the clock to a renewal day).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis as redis_sync

from plugins.clock import FileClock
from tests.integration.test_celery_jobs import (
    DUE_ON,
    _batch_workers,
    _bench,
    _tenant_ids,
    counts,
    wait_for,
)
from tests.integration.test_cli import STINT, free_port
from tests.support.api import add_user, bearer, signup, token
from tests.support.services import REDIS_URL

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

#: Subscriptions due on the renewal day, and the batch size: enough batches that both workers
#: take some and a kill lands mid-sweep, few enough to stay within seconds.
DUE = 600
# Small batches: many of them, so on a quiet machine the sweep is still running when the
# test kills a worker (with 15 it could finish all 600 before the kill).
BATCH_SIZE = 5


@dataclass
class System:
    tmp: Path
    clock: FileClock
    env: dict[str, str]
    web: list[str] = field(default_factory=list)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("wb")
        process = subprocess.Popen([STINT, *args], env={**os.environ, **self.env}, cwd=self.tmp,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = process
        return process

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes[name]
        if process.poll() is None:
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.tmp.glob("*.log")))


def _ready(url: str) -> bool:
    try:
        return httpx.get(url + "/health/ready", timeout=2, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def system(postgres_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    from tests.support import databases

    name, url = databases.create_from_template(postgres_template)
    tmp = tmp_path_factory.mktemp("scale-out")
    clock = FileClock(tmp / "now")
    clock.set(datetime(2026, 1, 1, 9, 0, tzinfo=UTC))
    prefix = f"stint-scale-{uuid.uuid4().hex[:8]}:"
    redis_url = f"{REDIS_URL.rstrip('/')}/14"
    env = {
        **{k: "" for k in os.environ if k.startswith("STINT_")},
        "STINT_DATABASE_URL": url,
        "STINT_REDIS_URL": redis_url,
        "STINT_REDIS_PREFIX": prefix,
        "STINT_SECRET_KEY": "scale-out-secret-key-" + "x" * 32,
        "STINT_DATA_DIR": str(tmp / "data"),
        "STINT_FAKE_CLOCK_FILE": str(clock.path),
        "STINT_JOBS_EVERY": "1",
        "STINT_JOBS_BATCH_SIZE": str(BATCH_SIZE),
        "STINT_JOBS_VISIBILITY_TIMEOUT": "20",
        "STINT_ACCESS_TOKEN_MINUTES": "1440",
        "STINT_FAST_PASSWORD_HASHING": "1",
        "STINT_RATE_LIMIT_CLIENT": "100000",
    }
    system = System(tmp, clock, env)
    try:
        # The release step once, then every process (serve refuses a database with pending work).
        upgraded = subprocess.run([STINT, "db", "upgrade"], env={**os.environ, **env}, cwd=tmp,
                                  capture_output=True, text=True, timeout=120)
        assert upgraded.returncode == 0, upgraded.stderr
        for n in (1, 2):
            port = free_port()
            system.start(f"web-{n}", "serve", "--port", str(port))
            system.web.append(f"http://127.0.0.1:{port}")
        system.start("worker-1", "worker", "--concurrency=1", "--loglevel=INFO")
        system.start("worker-2", "worker", "--concurrency=1", "--loglevel=INFO")
        system.start("beat", "beat", "--loglevel=INFO")
        deadline = time.monotonic() + 60
        while not all(_ready(url) for url in system.web):
            dead = [n for n, p in system.processes.items() if p.poll() is not None]
            assert not dead and time.monotonic() < deadline, f"{dead} did not start:\n{system.logs()}"
            time.sleep(0.2)
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
def web(system: System) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with httpx.Client(base_url=system.web[0], trust_env=False, timeout=10) as a, \
            httpx.Client(base_url=system.web[1], trust_env=False, timeout=10) as b:
        signup(a, "acme")  # type: ignore[arg-type]
        yield a, b


def test_a_timer_started_through_one_web_process_is_pushed_by_the_other_within_two_seconds(
    web: tuple[httpx.Client, httpx.Client]
) -> None:
    a, b = web
    admin = bearer(token(a, "acme", "admin@acme.test"))  # type: ignore[arg-type]
    events: list[str] = []
    with b.stream("GET", "/api/v1/tracking/events",
                  headers={**admin, "Accept": "text/event-stream"}, timeout=10) as stream:
        lines = stream.iter_lines()
        for line in lines:
            if line.startswith("data:"):
                events.append(line)
                break
        assert '"running":false' in events[0]
        started = time.monotonic()
        begun = a.post("/api/v1/tracking/start", json={"comment": "scale-out"}, headers=admin)
        assert begun.status_code == 201, begun.text
        for line in lines:
            if line.startswith("data:"):
                events.append(line)
                break
        pushed_after = time.monotonic() - started
    assert '"running":true' in events[1] and pushed_after < 2.0, (events, pushed_after)
    assert b.get("/api/v1/tracking/current", headers=admin).json()["running"] is True


def test_a_role_change_through_one_web_process_is_enforced_by_the_other_on_the_next_request(
    web: tuple[httpx.Client, httpx.Client]
) -> None:
    a, b = web
    admin_token = token(a, "acme", "admin@acme.test")  # type: ignore[arg-type]
    tim = add_user(a, admin_token, "tim@acme.test")  # type: ignore[arg-type]
    tims = bearer(token(a, "acme", "tim@acme.test"))  # type: ignore[arg-type]
    assert b.get("/api/v1/me", headers=tims).status_code == 200  # B caches Tim's access
    changed = a.patch(f"/api/v1/users/{tim['id']}", json={"role": "none"}, headers=bearer(admin_token))
    assert changed.status_code == 200, changed.text
    refused = b.get("/api/v1/me", headers=tims)
    # Role None in the cloud: the tenant API is not there for them at all (SPEC §6).
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"


def test_a_renewal_sweep_across_both_workers_bills_each_subscription_once_even_when_one_is_killed(
    system: System, web: tuple[httpx.Client, httpx.Client]
) -> None:
    """Beat sweeps every second; both workers take batches; one is killed mid-sweep; every
    due subscription ends with exactly one renewal invoice."""
    url = system.env["STINT_DATABASE_URL"]
    sub_ids = asyncio.run(_bench().seed_due_subscriptions(url, DUE, DUE_ON, prefix="x"))
    assert len(_tenant_ids(sub_ids)) == DUE
    system.clock.set(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))  # the beat's next sweep finds them due
    # The sweep once started late here: the mail jobs opened a transaction per tenant (600 of
    # them), took seconds each, and every second's renewals tick expired in the queue behind
    # them. A failure says how far the sweep got and what the processes logged.
    try:
        wait_for("renewals to start on both workers",
                 lambda: counts(url)[0] >= 3 * BATCH_SIZE and len(asyncio.run(_batch_workers(url))) >= 2, 60)
    except BaseException:
        pytest.fail(f"renewed, twice: {counts(url)}; batch workers: {asyncio.run(_batch_workers(url))}\n"
                    f"{system.logs()[-8000:]}")
    system.stop("worker-1", signal.SIGKILL)
    killed_at = counts(url)[0]
    assert killed_at < DUE, "the sweep finished before the kill; seed more"
    wait_for("every renewal", lambda: counts(url)[0] >= DUE, 90)
    time.sleep(1.5)  # a late twin would show now
    renewed, twice = counts(url)
    assert (renewed, twice) == (DUE, 0), system.logs()
    assert len(asyncio.run(_batch_workers(url))) == 2
