"""Without Redis, ``stint serve`` runs the jobs itself (the embedded mode of ``make run``).

The server runs as a real subprocess on SQLite with a controlled clock (a clock file
both the test and the server read); the test moves the clock and watches the API.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from plugins.clock import FileClock
from tests.integration.test_cli import STINT, clean_env, free_port
from tests.support.api import PASSWORD


def wait_for(what: str, check: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


class Server:
    def __init__(self, process: subprocess.Popen[str], base: str, clock: FileClock, log: Path) -> None:
        self.process, self.clock, self.log = process, clock, log
        self.cwd: Path = log.parent
        self.env: dict[str, str] = {}
        self.http = httpx.Client(base_url=base, timeout=10)

    def sign_in(self, slug: str) -> dict[str, str]:
        response = self.http.post(
            "/api/v1/auth/token", json={"tenant": slug, "email": f"admin@{slug}.test", "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def jobs(self) -> Any:
        """The jobs' status, as the operator API shows it (no longer on the public /health)."""
        if not getattr(self, "_operator", False):
            subprocess.run(
                [STINT, "operator", "create", "--email", "ops@vendor.test", "--password", PASSWORD,
                 "--no-second-factor"], cwd=self.cwd, env=self.env, check=True, capture_output=True,
            )
            self._operator = True
        # Signed in each time: the test moves the clock by weeks.
        signed_in = self.http.post("/api/v1/operator/auth/token",
                                   json={"email": "ops@vendor.test", "password": PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
        operator = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        return self.get("/api/v1/operator/jobs", operator)

    def get(self, path: str, headers: dict[str, str]) -> Any:
        response = self.http.get(path, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    clock = FileClock(tmp_path / "now")
    clock.set(datetime(2026, 1, 1, 9, 0, tzinfo=UTC))
    port = free_port()
    env = {
        **clean_env(),
        "STINT_FAKE_CLOCK_FILE": str(clock.path),
        "STINT_JOBS_EVERY": "1",
        "STINT_ACCESS_TOKEN_MINUTES": "1440",
        "STINT_OPERATOR_2FA_REQUIRED": "0",
        # The operator signs in on each look at the jobs (the clock jumps weeks).
        "STINT_RATE_LIMIT_CLIENT": "100000",
    }
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [STINT, "serve", "--port", str(port)], cwd=tmp_path, env=env, stdout=out,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
    running = Server(process, f"http://127.0.0.1:{port}", clock, log)
    running.cwd, running.env = tmp_path, env

    def up() -> bool:
        if process.poll() is not None:
            pytest.fail(f"stint serve exited: {log.read_text()}")
        try:
            return running.http.get("/health").status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for("stint serve to answer", up, 60)
        yield running
    finally:
        running.http.close()
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_make_runs_server_expires_trials_and_stops_idle_timers_on_schedule(server: Server) -> None:
    """An unanswered activity check stops the timer at the check; the trial's end expires it."""
    health = server.http.get("/health").json()["checks"]
    assert "jobs" not in health and server.jobs()["mode"] == "embedded"
    assert health["clock"] == {"now": "2026-01-01T09:00:00+00:00", "fake": True}
    assert "FAKE CLOCK" in server.log.read_text()

    signup = server.http.post("/api/v1/signup", json={
        "tenant": "acme", "name": "Acme", "deployment": "cloud",
        "admin": {"email": "admin@acme.test", "password": PASSWORD, "name": "Admin"},
    })
    assert signup.status_code == 201, signup.text
    admin = server.sign_in("acme")
    assert server.http.post("/api/v1/tracking/start", json={"comment": "x"}, headers=admin).status_code == 201

    server.clock.advance(minutes=71)  # asked at 10:00, unanswered past 10:10
    wait_for("the idle timer to stop", lambda: not server.get("/api/v1/tracking/current", admin)["running"])
    worklogs = server.get("/api/v1/worklogs", admin)["items"]
    assert [w["length_s"] for w in worklogs] == [3600]

    server.clock.set(datetime(2026, 1, 29, 9, 0, tzinfo=UTC))
    admin = server.sign_in("acme")
    wait_for("the trial to expire",
             lambda: server.get("/api/v1/subscription", admin)["status"] == "expired")

    def both_finished_ok() -> bool:
        # The scheduler keeps running: a job may be mid-run ("running") when we look, so wait
        # for finished runs, but fail at once on a failed one.
        # A job that has not finished its first run yet has no entry: not yet, not a failure.
        last = server.jobs()["last_runs"]
        statuses = {last.get(job, {}).get("status") for job in ("renewals", "timer_checks")}
        assert "failed" not in statuses, last
        return statuses == {"ok"}

    wait_for("the jobs' last runs to finish ok", both_finished_ok)


def test_worker_and_beat_without_redis_exit_with_a_clear_error(tmp_path: Path) -> None:
    """No STINT_REDIS_URL: exit code 2 and a message that says what to do instead."""
    for command in ("worker", "beat"):
        done = subprocess.run([STINT, command], cwd=tmp_path, env=clean_env(), capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2
        assert "needs Redis" in done.stderr and "stint serve" in done.stderr


def test_jobs_run_runs_every_job_once_and_reports_its_counts(tmp_path: Path) -> None:
    """``stint jobs run`` prints one line per job; a named job runs alone; an unknown name is refused."""
    done = subprocess.run([STINT, "jobs", "run"], cwd=tmp_path, env=clean_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines][:2] == ["renewals", "trial_reminders"]
    assert "renewals: batches=0, due=0, renewed=0, expired=0" in lines
    one = subprocess.run([STINT, "jobs", "run", "retention"], cwd=tmp_path, env=clean_env(),
                         capture_output=True, text=True, timeout=120)
    assert one.stdout.splitlines() == ["retention: warned=0, mails=0, purged=0"]
    bad = subprocess.run([STINT, "jobs", "run", "nope"], cwd=tmp_path, env=clean_env(),
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no job 'nope'" in bad.stderr
