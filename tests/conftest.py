"""Test-wide settings: Hypothesis profiles, real services, fresh databases.

Hypothesis profiles: ``ci`` is deterministic (derandomized, fixed example count, no
deadline), selected by ``.ci/run`` through ``HYPOTHESIS_PROFILE=ci``; ``dev`` (the
default) is the same size but random; ``deep`` is for long local runs.

Services: tests marked ``postgres`` or ``redis`` run against the real servers on
loopback. When one is down the run says so loudly at the top and the bottom and
skips those tests — except under ``STINT_REQUIRE_SERVICES=1`` (CI), where the run
stops with an error instead.
"""

from __future__ import annotations

import os

# Before any app import: cheap Argon2 parameters (hashing cost is not under test here).
os.environ.setdefault("STINT_FAST_PASSWORD_HASHING", "1")

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from core.clock import FixedClock
from plugins.settings import Settings, load_settings
from tests.support import databases, services

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=100,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("deep", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

_BANNER = "!" * 78


def _missing() -> list[str]:
    missing = []
    if not services.postgres_up():
        missing.append(f"PostgreSQL ({services.POSTGRES_ADMIN_URL})")
    if not services.redis_up():
        missing.append(f"Redis ({services.REDIS_URL})")
    return missing


def pytest_sessionstart(session: pytest.Session) -> None:
    missing = _missing()
    if missing and services.required():
        pytest.exit(
            f"STINT_REQUIRE_SERVICES=1 but these services are unreachable: {', '.join(missing)}. "
            "Start them (see ../shared/SERVICES.md) — CI does not skip them.",
            returncode=3,
        )


def pytest_report_header(config: pytest.Config) -> list[str]:
    missing = _missing()
    if not missing:
        return ["services: PostgreSQL and Redis are up; their tests run against them"]
    return [_BANNER, f"SERVICES DOWN: {', '.join(missing)} — THEIR TESTS WILL BE SKIPPED", _BANNER]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    missing = _missing()
    if missing:
        terminalreporter.write_line(_BANNER, red=True)
        terminalreporter.write_line(
            f"SERVICES DOWN: {', '.join(missing)} — tests that need them were SKIPPED, not passed.",
            red=True,
        )
        terminalreporter.write_line(_BANNER, red=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="PostgreSQL is unreachable")
    skip_redis = pytest.mark.skip(reason="Redis is unreachable")
    for item in items:
        if "postgres" in item.keywords and not services.postgres_up():
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not services.redis_up():
            item.add_marker(skip_redis)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    name = databases.create_template()
    yield name
    databases.drop(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    databases.create_sqlite_template(path)
    return path


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated SQLite database of the test's own."""
    path = tmp_path / "stint.sqlite3"
    databases.copy_sqlite(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    template = request.getfixturevalue("postgres_template")
    name, url = databases.create_from_template(template)
    yield url
    databases.drop(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test that uses it runs twice: on SQLite and on PostgreSQL, each on a fresh database."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


def make_settings(database_url: str, tmp_path: Path, **extra: str) -> Settings:
    env = {
        "STINT_DATABASE_URL": database_url,
        "STINT_SECRET_KEY": "test-secret-key-" + "x" * 32,
        "STINT_DATA_DIR": str(tmp_path / "data"),
        **extra,
    }
    return load_settings(env, dotenv=tmp_path / "no.env")


@pytest.fixture
def clock() -> FixedClock:
    """A clock that only moves when the test says so; starts 2026-01-01 09:00 UTC."""
    return FixedClock(datetime(2026, 1, 1, 9, 0, tzinfo=UTC))
