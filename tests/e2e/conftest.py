"""Browser tests: a real ``stint serve`` on a free loopback port, driven by Debian's Chromium.

The server runs as a subprocess with its own SQLite file (the whole app, as users get
it); tests seed it through the public API. Chromium is ``/usr/bin/chromium`` with the
flags that keep it off the network — never a downloaded browser. Without Chromium the
tests are skipped loudly, or fail under ``STINT_REQUIRE_SERVICES=1`` (CI).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import services

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery"
_BANNER = "!" * 78


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not CHROMIUM.exists():
        terminalreporter.write_line(_BANNER, red=True)
        terminalreporter.write_line(
            f"CHROMIUM MISSING ({CHROMIUM}): browser tests were SKIPPED, not passed. "
            "Install it with: apt-get install -y chromium",
            red=True,
        )
        terminalreporter.write_line(_BANNER, red=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base: str
    env: dict[str, str]
    home: Path


def base_env(home: Path, port: int, **extra: str) -> dict[str, str]:
    """The settings every served Stint of the browser tests runs with, plus ``extra``."""
    env = {
        **os.environ,
        "STINT_DATABASE_URL": f"sqlite:///{home / 'stint.sqlite3'}",
        "STINT_DATA_DIR": str(home / ".stint"),
        "STINT_SECRET_KEY": "e2e-secret-key-that-is-long-enough-0123456789",
        "STINT_FAST_PASSWORD_HASHING": "1",
        # Every test signs in from 127.0.0.1; the per-client limit is not under test here.
        "STINT_RATE_LIMIT_CLIENT": "100000",
        "STINT_RATE_LIMIT_LOGIN": "100000",
        "STINT_BASE_URL": f"http://127.0.0.1:{port}",
        **extra,
    }
    env.pop("STINT_REDIS_URL", None)
    return env


@contextlib.contextmanager
def serve_stint(home: Path, port: int, env: dict[str, str]) -> Iterator[Server]:
    """``stint serve`` in ``home`` on ``port``, answering ``/health``; stopped on exit."""
    stint = Path(sys.executable).parent / "stint"
    log = (home / "server.log").open("w")
    process = subprocess.Popen(
        [str(stint), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=home,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"stint serve exited: {(home / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("stint serve did not answer /health within 30 s")
            time.sleep(0.2)
        yield Server(base, env, home)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def require_chromium() -> None:
    """Skip loudly without Debian's Chromium, or fail under ``STINT_REQUIRE_SERVICES=1``
    (CI): a browser test that silently skips there would look like a pass."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install -y chromium); browser tests cannot run"
        if services.required():
            pytest.fail(f"STINT_REQUIRE_SERVICES=1 but {message}")
        pytest.skip(f"!!! {message} !!!")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A ``stint serve`` started for this test session."""
    require_chromium()
    home = tmp_path_factory.mktemp("stint-e2e")
    port = _free_port()
    # Activation files are signed with the development key here, so this server must trust it.
    env = base_env(home, port, STINT_ACTIVATION_TRUST_DEV_KEY="1")
    with serve_stint(home, port, env) as served:
        yield served


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    """Chromium for one test module. Not for the session: Playwright's sync API keeps an event
    loop running on this thread while it is open, which the asyncio tests after it cannot share."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Api:
    """Seeds the server through its public API, as an integrator would."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base, timeout=10)

    def signup(self, slug: str, deployment: str = "cloud") -> str:
        response = self.http.post(
            "/api/v1/signup",
            json={
                "tenant": slug,
                "name": slug.replace("-", " ").title(),
                "deployment": deployment,
                "admin": {"email": f"admin@{slug}.test", "password": PASSWORD, "name": "Ada Admin"},
            },
        )
        assert response.status_code == 201, response.text
        return f"admin@{slug}.test"

    def token(self, slug: str, email: str) -> str:
        response = self.http.post(
            "/api/v1/auth/token", json={"tenant": slug, "email": email, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def work_item(self, slug: str, title: str, type_: str = "Task") -> int:
        """A standalone work item of the tenant (worklogs and timers name only existing ones)."""
        admin = self.token(slug, f"admin@{slug}.test")
        response = self.http.post("/api/v1/work-items", json={"title": title, "type": type_},
                                  headers={"Authorization": f"Bearer {admin}"})
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def add_user(self, slug: str, email: str, role: str, name: str = "") -> dict[str, Any]:
        admin = self.token(slug, f"admin@{slug}.test")
        response = self.http.post(
            "/api/v1/users",
            headers={"Authorization": f"Bearer {admin}"},
            json={
                "email": email,
                "name": name or email.split("@")[0].title(),
                "password": PASSWORD,
                "role": role,
            },
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def operator(self, email: str) -> str:
        """The CLI is how operators are made (API.md); it shares the server's database.

        Returns the second factor's secret the CLI printed (``operator_code`` makes codes)."""
        stint = Path(sys.executable).parent / "stint"
        created = subprocess.run(
            [str(stint), "operator", "create", "--email", email, "--password", PASSWORD],
            check=True,
            env=self.server.env,
            cwd=self.server.home,
            capture_output=True,
            text=True,
        )
        found = re.search(r"secret: ([A-Z2-7]+)", created.stdout)
        assert found, created.stdout
        return found.group(1)


def operator_code(secret: str) -> str:
    """The code an authenticator app shows now (the server runs on the real clock)."""
    import pyotp

    return str(pyotp.TOTP(secret).now())


@pytest.fixture(scope="session")
def api(server: Server) -> Iterator[Api]:
    client = Api(server)
    yield client
    client.http.close()


@pytest.fixture
def new_page(browser: Any, server: Server) -> Iterator[Any]:
    """Open pages in fresh browser contexts (separate cookie jars, like separate devices)."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(base_url=server.base, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Any, slug: str, email: str, password: str = PASSWORD) -> None:
    page.goto("/")
    page.get_by_label("Organisation or server").fill(slug)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("domcontentloaded")


def htmx_settled(page: Any) -> None:
    """Wait until htmx has swapped, settled and wired up what it just put on the page.

    htmx binds the attributes of swapped-in content only when it settles (a timer after the
    swap): text can already be visible while its inputs still ignore events, so a test that
    types into freshly swapped content waits for this first.
    """
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )
