"""``stint-tracker`` as a user runs it: a subprocess against a live ``stint serve``, paired by
confirming its code on the ``/device`` page in Chromium (issue #20, Done when 2 and 3).

One served Stint for the module; each test pairs its own tracker (its own config dir), so
either runs alone. ``watch`` runs in a pseudo-terminal, as in a user's terminal window.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Api,
    Server,
    _free_port,
    base_env,
    htmx_settled,
    require_chromium,
    serve_stint,
    sign_in,
)

pytestmark = pytest.mark.browser

TRACKER = Path(sys.executable).parent / "stint-tracker"
SLUG = "terminal-co"
ADMIN = f"admin@{SLUG}.test"


@pytest.fixture(scope="module")
def stint_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_chromium()
    home = tmp_path_factory.mktemp("stint-tracker-e2e")
    port = _free_port()
    with serve_stint(home, port, base_env(home, port)) as served:
        Api(served).signup(SLUG)
        yield served


@pytest.fixture(scope="module")
def chromium(stint_server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(chromium: Any, stint_server: Server) -> Iterator[Any]:
    """The user's browser, signed in."""
    context = chromium.new_context(base_url=stint_server.base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    sign_in(opened, SLUG, ADMIN)
    yield opened
    context.close()


@pytest.fixture
def api(stint_server: Server) -> Iterator[Api]:
    client = Api(stint_server)
    yield client
    client.http.close()


def tracker_env(config: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CONFIG_HOME": str(config)}


def tracker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TRACKER), *args], env=env, capture_output=True, text=True, timeout=60)


def pair(page: Any, server: Server, env: dict[str, str]) -> str:
    """``stint-tracker login URL``, its code confirmed on /device in the browser; its output."""
    process = subprocess.Popen([str(TRACKER), "login", server.base], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        shown = re.search(r"Open (\S+) and enter the code (\S+)", process.stdout.readline())
        assert shown, "login printed no code"
        assert shown.group(1) == f"{server.base}/device"
        page.goto("/device")
        page.get_by_role("textbox", name="Code").fill(shown.group(2))
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Approve").click()
        page.get_by_text("Stint tracker is connected").wait_for()
        out, err = process.communicate(timeout=60)  # it polls every 5 s
    finally:
        process.kill()
    assert process.returncode == 0, err
    return out


def test_a_paired_tracker_starts_and_stops_one_worklog_and_says_so_once_unpaired(
    page: Any, api: Api, stint_server: Server, tmp_path: Path
) -> None:
    env = tracker_env(tmp_path)
    item = api.work_item(SLUG, "Terminal task")
    said = pair(page, stint_server, env)
    assert f"Paired as {ADMIN}" in said
    tokens = tmp_path / "stint-tracker" / "tokens.json"
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    kept = json.loads(tokens.read_text())
    secrets = [kept["access_token"], kept["refresh_token"]]
    printed = [said]

    started = tracker(env, "start", "--work-item", str(item), "--comment", "from the terminal")
    assert started.returncode == 0, started.stderr
    assert f"Tracking #{item} Terminal task" in started.stdout
    status = tracker(env, "status")
    assert status.returncode == 0 and f"Tracking #{item} Terminal task" in status.stdout
    time.sleep(1.1)  # a timer stopped within the second it started makes no worklog, by design
    stopped = tracker(env, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert "Stopped:" in stopped.stdout
    printed += [r.stdout + r.stderr for r in (started, status, stopped)]

    admin = {"Authorization": f"Bearer {api.token(SLUG, ADMIN)}"}
    worklogs = api.http.get("/api/v1/worklogs", headers=admin).json()["items"]
    assert [(w["work_item"], w["comment"]) for w in worklogs] == [(str(item), "from the terminal")]

    page.goto("/settings/apps")
    revoke_tracker = page.get_by_role("button", name=re.compile(r"^Revoke Stint tracker"))
    expect(revoke_tracker).to_have_count(1)  # the pairing is listed
    page.once("dialog", lambda dialog: dialog.accept())  # hx-confirm asks first
    page.get_by_role("button", name="Unpair all apps").click()
    expect(revoke_tracker).to_have_count(0)

    after = tracker(env, "status")
    assert after.returncode == 3
    assert "unpaired" in after.stderr and "run `stint-tracker login` again" in after.stderr
    assert after.stdout == ""

    # Done when 5: neither the tracker's output nor the server's log lines carry a token.
    logged = (stint_server.home / "server.log").read_text()
    assert "/oauth/token" in logged, "the server log shows no token requests: the check would be empty"
    for secret in secrets:
        assert all(secret not in text for text in [*printed, after.stderr, logged])


class Terminal:
    """The other end of the pseudo-terminal a program writes to: what it has shown so far."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.shown = ""

    def wait_for(self, text: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.shown:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} not shown within {seconds} s; the screen: {self.shown[-500:]!r}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    self.shown += os.read(self.fd, 4096).decode(errors="replace")
                except OSError:  # the program ended and closed its side
                    break
        assert text in self.shown, f"{text!r} never shown; the screen: {self.shown[-500:]!r}"


def test_watch_in_a_terminal_shows_a_timer_started_in_the_browser_within_two_seconds(
    page: Any, api: Api, stint_server: Server, tmp_path: Path
) -> None:
    env = tracker_env(tmp_path)
    item = api.work_item(SLUG, "Watched task")
    pair(page, stint_server, env)
    main, secondary = pty.openpty()
    # Ctrl-C must reach it as a terminal's would: a process started with SIGINT ignored (a
    # background job, some test runners' workers) passes that on, and Python then never
    # raises KeyboardInterrupt in the child — the watch would outlive its Ctrl-C.
    inherited = signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        watch = subprocess.Popen([str(TRACKER), "watch"], env=env, stdin=secondary, stdout=secondary,
                                 stderr=secondary, close_fds=True)
    finally:
        signal.signal(signal.SIGINT, inherited)
    os.close(secondary)
    try:
        screen = Terminal(main)
        screen.wait_for("Not tracking.", seconds=30)  # started, connected, first event drawn

        page.goto("/time")
        timer_form = page.locator("form.start")
        timer_form.get_by_label("Work item", exact=True).fill(str(item))
        timer_form.get_by_role("button", name="Start", exact=True).click()
        htmx_settled(page)
        # Done when 3: the browser's timer is on the terminal within 2 s (the server looks
        # for changes every second; the stream pushes at once).
        screen.wait_for(f"Tracking #{item} Watched task", seconds=2)
        screen.wait_for("0:00:0", seconds=2)  # and it counts

        watch.send_signal(signal.SIGINT)  # Ctrl-C
        assert watch.wait(timeout=10) == 0
    finally:
        watch.kill()
        os.close(main)
        api.http.post("/api/v1/tracking/stop",
                      headers={"Authorization": f"Bearer {api.token(SLUG, ADMIN)}"})
