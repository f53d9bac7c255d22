"""``stint-tracker`` against the real app in-process: pairing through the device grant, the
token kept fresh and on disk, what it says when unpaired, and the event stream's parser and
reconnection. The app runs on a fixed clock, so the tracker's polling is driven by a sleep
that moves that clock; the browser-and-terminal version is tests/e2e/test_tracker_terminal.py.
"""

from __future__ import annotations

import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.integration.test_oauth import form_of
from tests.support.api import PASSWORD, api_client, bearer, signup, token
from tracker import cli, device
from tracker.events import Event, EventParser, follow
from tracker.session import Session, Unpaired
from tracker.store import Tokens, TokenStore

BASE = "http://testserver.local"


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[TestClient[Any]]:
    settings = make_settings(sqlite_url, tmp_path, STINT_RATE_LIMIT_API="1000000",
                             STINT_RATE_LIMIT_CLIENT="1000000", STINT_BASE_URL=BASE)
    with api_client(settings, clock) as c:
        signup(c, "acme")
        yield c


def approve(client: TestClient[Any], user_code: str) -> None:
    """The user, signed in on Stint's pages, confirms the code on /device; then the cookies
    go, so the tracker's own requests carry nothing but its bearer token."""
    client.get("/")
    client.post("/signin", data={"tenant": "acme", "email": "admin@acme.test", "password": PASSWORD,
                                 "next": "", "_csrf_token": client.cookies["csrftoken"]})
    page = client.get("/device", params={"user_code": user_code})
    done = client.post("/device", data={**form_of(page.text, "/device"), "decision": "approve"})
    assert "Stint tracker is connected" in done.text
    client.cookies.clear()


def pair(client: TestClient[Any], clock: FixedClock, store: TokenStore) -> Tokens:
    shown: dict[str, Any] = {}

    def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)
        if not shown.get("approved"):
            approve(client, shown["user_code"])
            shown["approved"] = True

    tokens = device.login(client, BASE, shown.update, sleep=sleep)
    store.save(tokens)
    return tokens


def test_login_polls_at_the_servers_interval_and_five_seconds_slower_after_slow_down(
    client: TestClient[Any], clock: FixedClock
) -> None:
    shown: dict[str, Any] = {}
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        # The second wait ends early (a laptop waking up): the server answers slow_down.
        clock.advance(seconds=1 if len(slept) == 2 else seconds)
        if len(slept) == 3:
            approve(client, shown["user_code"])

    tokens = device.login(client, BASE, shown.update, sleep=sleep)
    assert shown["verification_uri"] == f"{BASE}/device"
    assert slept == [5, 5, 10]
    assert tokens.scope == "tracking worklogs:read worklogs:write"
    assert client.get("/api/v1/me", headers=bearer(tokens.access_token)).json()["email"] == "admin@acme.test"


def test_the_tokens_file_is_for_its_owner_only(
    client: TestClient[Any], clock: FixedClock, tmp_path: Path
) -> None:
    store = TokenStore(tmp_path / "config" / "stint-tracker")
    pair(client, clock, store)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    assert "refresh_token" not in repr(store.load())


def test_an_expired_access_token_is_refreshed_silently_and_the_new_pair_saved(
    client: TestClient[Any], clock: FixedClock, tmp_path: Path
) -> None:
    store = TokenStore(tmp_path / "tracker")
    first = pair(client, clock, store)
    session = Session(store, http=client)
    session.tokens.expires_at = 0  # as if the access token ran out
    started = session.request("POST", "/api/v1/tracking/start", json={"comment": "refreshed"})
    assert started.json()["running"] is True
    saved = store.load()
    assert saved is not None
    assert saved.refresh_token != first.refresh_token  # rotated, and the new one kept
    assert saved.access_token == session.tokens.access_token


def test_a_second_tracker_process_takes_the_refreshed_pair_instead_of_spending_the_old_token(
    client: TestClient[Any], clock: FixedClock, tmp_path: Path
) -> None:
    """``watch`` and ``start`` share the file: had the second refreshed with the spent token,
    the server would take it for theft and end the pairing for both."""
    store = TokenStore(tmp_path / "tracker")
    pair(client, clock, store)
    watch, start = Session(store, http=client), Session(store, http=client)
    watch.refresh()
    start.refresh()
    assert start.tokens.refresh_token == watch.tokens.refresh_token
    for s in (watch, start):
        assert s.request("GET", "/api/v1/tracking/current").status_code == 200


def test_after_unpair_all_the_next_call_says_unpaired_and_exits_with_3(
    client: TestClient[Any], clock: FixedClock, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    store = TokenStore(tmp_path / "stint-tracker")  # where XDG_CONFIG_HOME=tmp_path puts it
    pair(client, clock, store)
    admin = token(client, "acme", "admin@acme.test")
    assert client.post("/api/v1/me/apps/revoke-all", headers=bearer(admin)).status_code == 200
    session = Session(store, http=client)
    with pytest.raises(Unpaired) as refused:
        session.request("GET", "/api/v1/tracking/current")
    assert refused.value.exit_code == 3
    saved = store.load()
    assert saved is not None and saved.server == BASE and not saved.paired and saved.unpaired

    # And the command line says so on stderr, with the code the docs promise.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert cli.main(["status"]) == 3
    said = capsys.readouterr().err
    assert "unpaired" in said and "run `stint-tracker login` again" in said


def test_a_copied_refresh_token_used_after_the_tracker_refreshed_unpairs_the_tracker(
    client: TestClient[Any], clock: FixedClock, tmp_path: Path
) -> None:
    """Done when 5, from the tracker's side: someone copied tokens.json; the tracker refreshed
    since; the copy's use ends the whole pairing, and the tracker says to log in again."""
    store = TokenStore(tmp_path / "tracker")
    stolen = pair(client, clock, store).refresh_token
    session = Session(store, http=client)
    session.refresh()
    thief = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": stolen,
                                              "client_id": "stint-tracker"})
    assert thief.status_code == 400 and thief.json()["error"] == "invalid_grant"
    with pytest.raises(Unpaired):
        session.request("GET", "/api/v1/tracking/current")


def test_the_event_parser_follows_the_event_stream_format() -> None:
    parser = EventParser()
    lines = [": keep-alive", "retry: 2500", "id: 7", "event: timer", "data: {\"running\":", "data: true}", "",
             "data: plain", ""]
    assert list(parser.feed(lines)) == [
        Event("timer", '{"running":\ntrue}', "7"), Event("message", "plain", "7"),
    ]
    assert parser.retry_s == 2.5


def test_watch_reconnects_with_the_last_event_id_when_the_stream_drops(tmp_path: Path) -> None:
    """The stream ends twice (a server restarting): each reconnection says where it was."""
    store = TokenStore(tmp_path)
    store.save(Tokens(server=BASE, access_token="a", refresh_token="r", expires_at=4e9))
    asked: list[str | None] = []

    def server(request: httpx.Request) -> httpx.Response:
        asked.append(request.headers.get("last-event-id"))
        n = len(asked)
        return httpx.Response(200, headers={"content-type": "text/event-stream"},
                              content=f"id: {n}\nevent: timer\ndata: {{\"n\": {n}}}\n\n".encode())

    seen: list[Event] = []
    stop = threading.Event()

    def on_event(event: Event) -> None:
        seen.append(event)
        if len(seen) == 3:
            stop.set()

    http = httpx.Client(base_url=BASE, transport=httpx.MockTransport(server))
    follow(Session(store, http=http), on_event, lambda _: None, stop, sleep=lambda _: None)
    assert asked == [None, "1", "2"]
    assert [e.data for e in seen] == ['{"n": 1}', '{"n": 2}', '{"n": 3}']
