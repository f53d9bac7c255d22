"""A run that needs PostgreSQL fails — not skips — when it is down under STINT_REQUIRE_SERVICES=1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "postgres://postgres@127.0.0.1:1/postgres"
#: One storage test, on both engines: its SQLite half passes and its PostgreSQL half is the
#: one that needs the server (the file's other tests only add run time to the same proof).
STORAGE_TEST = "tests/integration/test_storage.py::test_upgrading_twice_changes_nothing_the_second_time"


def run_storage_tests(**env: str) -> subprocess.CompletedProcess[str]:
    """A storage test in a child pytest whose PostgreSQL is an unreachable address."""
    child_env = {**os.environ, "STINT_TEST_POSTGRES": UNREACHABLE, **env}
    child_env.pop("STINT_REQUIRE_SERVICES", None)
    child_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", STORAGE_TEST],
        cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=300,
    )


def test_with_services_required_a_missing_postgresql_stops_the_run_with_an_error() -> None:
    """Exit code 3 and a message naming PostgreSQL; no test is reported as passed."""
    result = run_storage_tests(STINT_REQUIRE_SERVICES="1")
    assert result.returncode == 3, result.stdout[-2000:]
    assert "STINT_REQUIRE_SERVICES=1" in result.stdout + result.stderr
    assert "PostgreSQL" in result.stdout + result.stderr
    assert " passed" not in result.stdout


def test_without_the_requirement_the_run_skips_them_and_says_so_loudly() -> None:
    """The SQLite half runs, the PostgreSQL half is skipped, and the banner says SKIPPED."""
    result = run_storage_tests()
    assert result.returncode == 0, result.stdout[-2000:]
    assert "SERVICES DOWN" in result.stdout
    assert "skipped" in result.stdout and "passed" in result.stdout
