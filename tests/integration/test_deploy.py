"""The production shape: migrations as a release step, ``stint serve --workers N`` with a
graceful stop, the container files (issue #22)."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.test_activation_online import process_env
from tests.integration.test_cli import STINT, free_port
from tests.support import databases
from tests.support.api import PASSWORD
from tests.support.services import REDIS_URL

ROOT = Path(__file__).resolve().parents[2]


def _start(workdir: Path, *args: str, **env: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = workdir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([STINT, "serve", "--port", str(port), *args], cwd=workdir,
                                   env=process_env(**env), stdout=out, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}", log


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            if httpx.get(url + "/health/ready", timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"stint serve was not ready: {log.read_text(errors='replace')}")


@pytest.mark.postgres
def test_serve_refuses_a_postgresql_database_with_pending_migrations(tmp_path: Path) -> None:
    """Migrations are the release step's: serve says so and exits; after `db upgrade` it starts."""
    name, url = databases.create_empty()
    try:
        process, base, log = _start(tmp_path, STINT_DATABASE_URL=url)
        assert process.wait(timeout=60) == 2
        output = log.read_text()
        assert "stint db upgrade" in output and "migration" in output
        upgrade = subprocess.run([STINT, "db", "upgrade"], cwd=tmp_path,
                                 env=process_env(STINT_DATABASE_URL=url),
                                 capture_output=True, text=True, timeout=120)
        assert upgrade.returncode == 0, upgrade.stderr
        process, base, log = _start(tmp_path / "again", STINT_DATABASE_URL=url)
        try:
            _wait_ready(process, base, log)
        finally:
            process.terminate()
            process.wait(timeout=30)
    finally:
        databases.drop(name)


def test_several_web_processes_without_redis_are_refused(tmp_path: Path) -> None:
    process, _, log = _start(tmp_path, "--workers", "2")
    assert process.wait(timeout=60) == 2
    assert "STINT_REDIS_URL" in log.read_text()


@pytest.mark.postgres
@pytest.mark.redis
def test_serve_with_two_workers_drains_on_sigterm(tmp_path: Path, postgres_url: str) -> None:
    """Two processes on one port, metrics added up across them; on SIGTERM an open event
    stream ends cleanly (the response completes) and the server exits 0."""
    prefix = f"stint-deploy-{time.monotonic_ns()}:"
    process, base, log = _start(tmp_path, "--workers", "2", "--graceful-timeout", "20",
                                STINT_DATABASE_URL=postgres_url, STINT_REDIS_URL=f"{REDIS_URL}/13",
                                STINT_REDIS_PREFIX=prefix)
    try:
        _wait_ready(process, base, log)
        with httpx.Client(base_url=base, trust_env=False, timeout=20) as http:
            signed_up = http.post("/api/v1/signup", json={
                "tenant": "acme", "name": "Acme", "deployment": "cloud",
                "admin": {"email": "admin@acme.test", "password": PASSWORD, "name": "Admin"},
            })
            assert signed_up.status_code == 201, signed_up.text
            token = http.post("/api/v1/auth/token", json={
                "tenant": "acme", "email": "admin@acme.test", "password": PASSWORD,
            }).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            for _ in range(20):  # new connections: spread over both processes
                with httpx.Client(base_url=base, trust_env=False) as fresh:
                    assert fresh.get("/api/v1/me", headers=headers).status_code == 200
            scraped = http.get("/metrics").text
            counted = [line for line in scraped.splitlines()
                       if line.startswith('stint_http_request_duration_seconds_count{method="GET",'
                                          'route="/api/v1/me",status="2xx"')]
            assert counted and float(counted[0].rsplit(" ", 1)[1]) == 20, counted

            events: list[str] = []
            with http.stream("GET", "/api/v1/tracking/events",
                             headers={**headers, "Accept": "text/event-stream"}) as stream:
                lines = stream.iter_lines()
                for line in lines:
                    if line.startswith("event:"):
                        events.append(line)
                        break
                started = time.monotonic()
                process.send_signal(signal.SIGTERM)
                # The stream ends by itself (no ReadError): the process drained it.
                events.extend(line for line in lines if line.startswith("event:"))
                assert time.monotonic() - started < 15
            assert events == ["event: timer"]
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_a_served_process_logs_every_request_once_with_its_own_id_and_counts_it(tmp_path: Path) -> None:
    """``stint serve`` writes its request lines once per loop turn (web/request_lines.py):
    concurrent requests each get exactly one line, with their own id, path and status, and
    the latency metric counts them."""
    upgrade = subprocess.run([STINT, "db", "upgrade"], cwd=tmp_path, env=process_env(),
                             capture_output=True, text=True, timeout=120)
    assert upgrade.returncode == 0, upgrade.stderr
    process, base, log = _start(tmp_path)
    try:
        _wait_ready(process, base, log)
        ids = [f"served-line-{n}" for n in range(12)]

        async def all_at_once() -> list[int]:
            async with httpx.AsyncClient(base_url=base, trust_env=False) as client:
                answers = await asyncio.gather(*(
                    client.get("/health/live" if n % 2 else "/no/such/page", headers={"X-Request-ID": rid})
                    for n, rid in enumerate(ids)
                ))
            return [a.status_code for a in answers]

        statuses = asyncio.run(all_at_once())
        scraped = httpx.get(base + "/metrics", timeout=10, trust_env=False).text
        counted = 'stint_http_request_duration_seconds_count{method="GET",route="/health/live",status="2xx"}'
        assert f"{counted} 6.0" in scraped
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    requests = {line["request_id"]: line for line in lines
                if line.get("msg") == "request" and line.get("request_id", "").startswith("served-line-")}
    assert sorted(requests) == sorted(ids)
    for n, rid in enumerate(ids):
        line = requests[rid]
        assert (line["path"], line["status"]) == (("/health/live", 200) if n % 2 else ("/no/such/page", 404))
        assert line["status"] == statuses[n] and line["logger"] == "stint.access" and line["ms"] >= 0
    assert sum(1 for line in lines if line.get("request_id") in ids) == len(ids)


def test_the_procfile_has_a_release_step_and_serve_does_not_migrate() -> None:
    procfile = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line)
    assert procfile["release"].strip() == "stint db upgrade"
    assert "--workers" in procfile["web"]


def test_the_compose_file_has_the_production_shape() -> None:
    """Two web processes, one worker, one beat, PostgreSQL and Redis, after the release step."""
    import yaml

    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    assert {"web-1", "web-2", "worker", "beat", "postgres", "redis", "migrate"} <= set(services)
    assert [s for s in services if services[s].get("command", [""])[:2] == ["stint", "beat"]] == ["beat"]
    assert services["migrate"]["command"] == ["stint", "db", "upgrade"]
    for web in ("web-1", "web-2", "worker", "beat"):
        assert services[web]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.count("FROM ") >= 2 and "USER stint" in dockerfile and "HEALTHCHECK" in dockerfile


@pytest.mark.skipif(shutil.which("docker") is None, reason="docker is not installed")
def test_the_compose_file_is_valid() -> None:
    """`docker compose config` parses and resolves compose.yaml (needs the compose plugin)."""
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("docker has no compose plugin here")
    checked = subprocess.run(["docker", "compose", "-f", str(ROOT / "compose.yaml"), "config", "--quiet"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
