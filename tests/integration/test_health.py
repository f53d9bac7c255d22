"""Liveness, readiness and the public /health (issue #22)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from server.app import create_app
from tests.conftest import make_settings
from tests.support import databases
from tests.support.api import api_client, bearer, operator_token
from tests.support.services import POSTGRES_ADMIN_URL

PROBLEM = "application/problem+json"


def _admin(sql: str) -> None:
    import asyncpg

    async def go() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    databases._run(go())


def test_live_answers_without_touching_anything(tmp_path: Path, clock: FixedClock) -> None:
    with api_client(make_settings(f"sqlite:///{tmp_path / 's.sqlite3'}", tmp_path), clock) as client:
        response = client.get("/health/live")
        assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_the_public_health_shows_no_job_internals_and_operators_see_them(
    tmp_path: Path, clock: FixedClock
) -> None:
    """/health names the database and Redis state only; the jobs' runs are the operator API's."""
    with api_client(make_settings(f"sqlite:///{tmp_path / 's.sqlite3'}", tmp_path), clock) as client:
        body = client.get("/health").json()
        assert set(body["checks"]) == {"database", "clock"}
        assert "worker" not in client.get("/health").text and "jobs" not in body["checks"]
        assert client.get("/api/v1/operator/jobs").status_code == 401
        jobs = client.get("/api/v1/operator/jobs", headers=bearer(operator_token(client)))
        assert jobs.status_code == 200, jobs.text
        assert jobs.json()["mode"] == "embedded" and "renewals" in jobs.json()["never_run"]


def test_ready_is_503_while_migrations_are_pending(tmp_path: Path, clock: FixedClock) -> None:
    """A process started on a database nobody upgraded is not ready, and says why."""
    settings = make_settings(f"sqlite:///{tmp_path / 's.sqlite3'}", tmp_path)
    from litestar.testing import TestClient

    app = create_app(settings, clock=clock, migrate=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/health/ready")
        assert response.status_code == 503
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["code"] == "not_ready"
        assert "stint db upgrade" in response.json()["detail"]
        assert response.json()["checks"]["database"]["schema_current"] is False
        assert client.get("/health/live").status_code == 200


def _ready_status(client: Any) -> int:
    return int(client.get("/health/ready").status_code)


def _until(client: Any, status: int, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while (seen := _ready_status(client)) != status:
        assert time.monotonic() < deadline, f"/health/ready stayed {seen}, expected {status}"
        time.sleep(0.2)


@pytest.mark.postgres
def test_ready_turns_503_when_postgresql_is_unreachable_and_200_when_it_returns(
    tmp_path: Path, clock: FixedClock, postgres_url: str
) -> None:
    """Connections to the database are cut and refused, then allowed again."""
    name = postgres_url.rsplit("/", 1)[1]
    with api_client(make_settings(postgres_url, tmp_path), clock) as client:
        assert _ready_status(client) == 200
        # ALLOW_CONNECTIONS false refuses new connections for every role, superusers too;
        # terminating the pool's sessions makes the app reconnect, which then fails.
        _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            _admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
            _until(client, 503)
            response = client.get("/health/ready")
            assert response.headers["content-type"].startswith(PROBLEM)
            assert response.json()["checks"]["database"]["ok"] is False
            assert "database" in response.json()["detail"]
            assert client.get("/health/live").status_code == 200
        finally:
            _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        _until(client, 200)


@pytest.mark.redis
def test_ready_needs_redis_when_it_is_configured(tmp_path: Path, clock: FixedClock) -> None:
    """Configured but unreachable Redis: not ready; the public /health still answers 200."""
    settings = make_settings(f"sqlite:///{tmp_path / 's.sqlite3'}", tmp_path,
                             STINT_REDIS_URL="redis://127.0.0.1:1/0")
    with api_client(settings, clock) as client:
        response = client.get("/health/ready")
        assert response.status_code == 503, response.text
        assert response.json()["checks"]["redis"]["ok"] is False
        assert client.get("/health").status_code == 200


def test_the_console_jobs_page_shows_the_runs_with_their_worker(tmp_path: Path, clock: FixedClock) -> None:
    """The job details left /health for the operator console (`/admin/jobs`)."""
    from plugins.jobs.registry import run_job
    from tests.support.api import current_code, enrolled_operator, run, stint

    with api_client(make_settings(f"sqlite:///{tmp_path / 's.sqlite3'}", tmp_path), clock) as client:
        run(client, run_job, stint(client), "renewals")
        assert client.get("/admin/jobs", follow_redirects=False).status_code in (302, 303, 401)
        secret, _ = enrolled_operator(client)
        client.get("/")
        form = {"email": "ops@vendor.test", "password": "correct horse battery",
                "code": current_code(client, secret), "_csrf_token": client.cookies["csrftoken"]}
        assert client.post("/admin/signin", data=form, follow_redirects=False).status_code == 303
        page = client.get("/admin/jobs")
        assert page.status_code == 200, page.text
        assert "renewals" in page.text and "embedded" in page.text and "aria-current" in page.text
        assert "renewals" not in client.get("/health").text
