"""The timer on the server through the API (SPEC §8; API.md tracking)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org
from tests.support.api import api_client, bearer, token


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield make_org(client)


def test_a_timer_started_on_one_client_and_stopped_an_hour_later_on_another_leaves_one_hour(
    org: Org, clock: FixedClock
) -> None:
    """Start on the laptop, stop on the phone an hour later: one worklog of exactly an hour."""
    phone = bearer(token(org.client, org.slug, "admin@acme.test"))
    org.work_items(42)
    started = org.client.post("/api/v1/tracking/start", json={"work_item": "42"}, headers=org.admin)
    assert started.status_code == 201, started.text
    assert started.json()["running"] is True

    clock.advance(hours=1)
    assert org.client.get("/api/v1/tracking/current", headers=phone).json()["work_item"] == "42"
    stopped = org.client.post("/api/v1/tracking/stop", headers=phone)

    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["length_s"] == 3600
    assert stopped.json()["stop_reason"] == "user"
    assert stopped.json()["flags"] == ["tracked"]
    worklogs = org.client.get("/api/v1/worklogs", headers=org.admin).json()["items"]
    assert [(w["length_s"], w["work_item"]) for w in worklogs] == [(3600, "42")]
    assert org.client.get("/api/v1/tracking/current", headers=org.admin).json() == {
        "running": False, "started_at": None, "work_item": None, "comment": None,
        "next_activity_check_at": None, "check_due": False, "stopped": None, "stop_reason": None,
        "work_item_title": None, "activity_type_id": None, "activity_type": None,
    }


def test_starting_a_second_timer_stops_the_first_with_reason_concurrency(org: Org, clock: FixedClock) -> None:
    """One running timer per user: the second start stops the first and says so."""
    org.work_items(1, 2)
    org.client.post("/api/v1/tracking/start", json={"work_item": "1"}, headers=org.admin)
    clock.advance(minutes=30)

    second = org.client.post("/api/v1/tracking/start", json={"work_item": "2"}, headers=org.admin)

    assert second.status_code == 201
    assert second.json()["stop_reason"] == "concurrency"
    assert second.json()["stopped"]["length_s"] == 1800
    assert second.json()["work_item"] == "2"
    worklogs = org.client.get("/api/v1/worklogs", headers=org.admin).json()["items"]
    assert [(w["work_item"], w["length_s"]) for w in worklogs] == [("1", 1800)]


def test_stopping_when_nothing_runs_is_a_conflict(org: Org) -> None:
    """Stop without a running timer is 409, not a worklog of nothing."""
    response = org.client.post("/api/v1/tracking/stop", headers=org.admin)
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


def test_without_the_no_work_item_rule_a_start_needs_a_work_item_or_comment(org: Org) -> None:
    """With 'tracking without work item' off, an empty start is refused and a commented one runs."""
    rules = org.client.put(
        "/api/v1/settings/tracking", json={"tracking_without_work_item": False}, headers=org.admin
    )
    assert rules.status_code == 200, rules.text

    refused = org.client.post("/api/v1/tracking/start", json={}, headers=org.admin)
    allowed = org.client.post("/api/v1/tracking/start", json={"comment": "planning"}, headers=org.admin)

    assert refused.status_code == 422
    assert refused.json()["code"] == "validation_error"
    assert allowed.status_code == 201


def test_a_timer_runs_on_with_every_client_closed_until_the_max_length_stops_it(
    org: Org, clock: FixedClock
) -> None:
    """Confirmed checks keep it going; at 12 hours it stops with reason max_length."""
    org.client.post("/api/v1/tracking/start", headers=org.admin)
    for _ in range(12):
        clock.advance(minutes=59)
        assert org.client.post("/api/v1/tracking/activity-check", headers=org.admin).status_code == 200
    clock.advance(hours=1)

    assert org.client.get("/api/v1/tracking/current", headers=org.admin).json()["running"] is False
    worklogs = org.client.get("/api/v1/worklogs", headers=org.admin).json()["items"]
    assert [w["length_s"] for w in worklogs] == [12 * 3600]


def test_a_team_user_cannot_change_the_tracking_rules(org: Org) -> None:
    """Rules belong to administrators: a Team user gets 403 not_permitted."""
    team, _ = org.add_user("tom")
    response = org.client.put("/api/v1/settings/tracking", json={}, headers=team)
    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"


def test_the_event_stream_sends_the_current_timer_at_once(org: Org) -> None:
    """GET /tracking/events opens with a timer event holding what /current shows."""
    org.work_items(7)
    org.client.post("/api/v1/tracking/start", json={"work_item": "7"}, headers=org.admin)
    streaming = {**org.admin, "Accept": "text/event-stream"}
    with org.client.stream("GET", "/api/v1/tracking/events?limit=1", headers=streaming) as stream:
        body = "".join(stream.iter_text())
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert "event: timer" in body
    assert '"work_item":"7"' in body


def test_a_client_reconnecting_with_last_event_id_is_not_sent_what_it_shows_again(org: Org) -> None:
    """Each event's id names its state: a client reconnecting (stint-tracker watch after the
    server restarted) with the id of what it shows gets the next change, not a repeat."""
    org.work_items(7)
    org.client.post("/api/v1/tracking/start", json={"work_item": "7"}, headers=org.admin)
    streaming = {**org.admin, "Accept": "text/event-stream"}
    with org.client.stream("GET", "/api/v1/tracking/events?limit=1", headers=streaming) as stream:
        running = "".join(stream.iter_text())
    shown = re.search(r"^id: (\w+)", running, re.MULTILINE)
    assert shown and '"running":true' in running

    got: list[str] = []

    def reconnect() -> None:
        with org.client.stream("GET", "/api/v1/tracking/events?limit=1",
                               headers={**streaming, "Last-Event-ID": shown.group(1)}) as again:
            got.append("".join(again.iter_text()))

    reader = threading.Thread(target=reconnect)
    reader.start()
    # Whether the stream looks before or after this stop, its one event is the stopped timer.
    org.client.post("/api/v1/tracking/stop", headers=org.admin)
    reader.join(timeout=30)
    assert got and '"running":false' in got[0]
    assert shown.group(1) not in got[0]


def test_an_open_stream_ends_in_time_and_a_revoked_token_cannot_open_it_again(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stream re-authenticates by ending (after ``STREAM_SECONDS``) and being reopened:
    a token revoked while its stream was open gets nothing more after that."""
    from web import lifecycle
    from web.api import tracking

    monkeypatch.setattr(tracking, "STREAM_SECONDS", 1.5)
    made = org.client.post("/api/v1/me/tokens", json={"name": "wall", "expires_in_days": 5},
                           headers=org.admin)
    assert made.status_code == 201, made.text
    app = {"Authorization": f"Bearer {made.json()['token']}", "Accept": "text/event-stream"}
    org.client.post("/api/v1/tracking/start", json={}, headers=org.admin)  # a running timer: 1 s waits

    got: list[str] = []

    def read_to_the_end() -> None:
        with org.client.stream("GET", "/api/v1/tracking/events", headers=app) as stream:
            got.append("".join(stream.iter_text()))

    # It must end by itself: read in a thread, so a stream that never ends fails the test
    # instead of hanging the suite.
    reader = threading.Thread(target=read_to_the_end, daemon=True)
    reader.start()
    reader.join(30)
    if reader.is_alive():
        # Drain this test's app (its own flag), so the stream ends and the client closes.
        monkeypatch.setattr(lifecycle, "_draining", threading.Event())
        lifecycle.start_draining()
        reader.join(10)
        pytest.fail("the stream did not end after STREAM_SECONDS")
    [seen] = got
    assert '"running":true' in seen

    assert org.client.delete(f"/api/v1/me/tokens/{made.json()['id']}", headers=org.admin).status_code == 204
    assert org.client.get("/api/v1/tracking/events", headers=app).status_code == 401


def test_the_event_stream_is_documented_as_text_event_stream(org: Org) -> None:
    """The OpenAPI schema says what the route sends: an event stream, not JSON."""
    schema = org.client.get("/schema/openapi.json").json()
    answer = schema["paths"]["/api/v1/tracking/events"]["get"]["responses"]["200"]
    assert list(answer["content"]) == ["text/event-stream"]



def test_a_client_that_does_not_accept_event_streams_gets_the_state_once(org: Org) -> None:
    """Without Accept: text/event-stream the answer is one event and the response ends."""
    response = org.client.get("/api/v1/tracking/events", headers=org.admin)
    assert response.status_code == 200
    assert response.text.count("event: timer") == 1
    assert '"running":false' in response.text


def test_tracking_follows_the_access_decision_when_the_trial_has_ended(org: Org, clock: FixedClock) -> None:
    """After the 28-day trial, starting a timer is refused with 402 trial_expired."""
    clock.advance(days=30)
    fresh = bearer(token(org.client, org.slug, "admin@acme.test"))
    response = org.client.post("/api/v1/tracking/start", headers=fresh)
    assert response.status_code == 402
    assert response.json()["code"] == "trial_expired"
