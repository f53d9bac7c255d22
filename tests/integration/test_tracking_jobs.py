"""Activity checks and the max-length stop as job functions, and the stop mail over SMTP."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from core.services.tracking import run_timer_checks
from plugins.mail import LogMailer, mailer_from_settings
from plugins.storage.tracking_repo import PiccoloTrackingDirectory
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org, run, stint_of
from tests.support.api import api_client
from tests.support.mail import Inbox


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock, inbox: tuple[Inbox, int]) -> Iterator[Org]:
    settings = make_settings(
        database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440",
        STINT_SMTP_URL=f"smtp://127.0.0.1:{inbox[1]}", STINT_SMTP_FROM="time@stint.test",
    )
    with api_client(settings, clock) as client:
        yield make_org(client)


def _text(mail: Message) -> str:
    assert isinstance(mail, EmailMessage)
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _check(org: Org) -> list[Any]:
    stint = stint_of(org.client)
    return list(run(org.client, run_timer_checks, stint.uow, stint.clock,
                    PiccoloTrackingDirectory(stint.engine), mailer_from_settings(stint.settings)))


def test_an_unanswered_check_stops_the_timer_at_the_check_and_mails_the_user(
    org: Org, clock: FixedClock, inbox: tuple[Inbox, int]
) -> None:
    """Started 09:00, check at 10:00 unanswered until 10:10: a 1-hour worklog and a mail."""
    org.client.put("/api/v1/tracking/preferences", json={"mail_on_system_stop": True}, headers=org.admin)
    org.work_items(5)
    org.client.post("/api/v1/tracking/start", json={"work_item": "5"}, headers=org.admin)
    clock.advance(minutes=65)
    assert _check(org) == []  # asked at 10:00; the answer window is still open
    assert org.client.get("/api/v1/tracking/current", headers=org.admin).json()["check_due"] is True

    clock.advance(minutes=6)
    stopped = _check(org)

    assert [(s.reason.value, s.worklog.length_s) for s in stopped] == [("activity_check", 3600)]
    worklogs = org.client.get("/api/v1/worklogs", headers=org.admin).json()["items"]
    assert [(w["started_at"], w["length_s"]) for w in worklogs] == [("2026-01-01T09:00:00Z", 3600)]
    assert org.client.get("/api/v1/tracking/current", headers=org.admin).json()["running"] is False
    (envelope,) = inbox[0].messages
    mail = message_from_bytes(envelope.content, policy=default)
    assert envelope.rcpt_tos == ["admin@acme.test"]
    assert mail["From"] == "time@stint.test"
    # Mails are multipart (text and HTML); the text part says why.
    assert "activity check" in _text(mail)
    assert _check(org) == []  # run again: nothing more is stopped or mailed
    assert len(inbox[0].messages) == 1


def test_a_deferred_check_does_not_stop_the_timer(org: Org, clock: FixedClock) -> None:
    """Deferring by one hour at the check moves it: the old check's window passes harmlessly."""
    org.client.post("/api/v1/tracking/start", headers=org.admin)
    clock.advance(minutes=62)
    deferred = org.client.post("/api/v1/tracking/activity-check", json={"defer": "one_hour"},
                               headers=org.admin)
    assert deferred.status_code == 200, deferred.text
    assert deferred.json()["next_activity_check_at"] == "2026-01-01T11:02:00Z"

    clock.advance(minutes=30)

    assert _check(org) == []
    assert org.client.get("/api/v1/tracking/current", headers=org.admin).json()["running"] is True


def test_a_check_deferred_to_tomorrow_is_asked_at_nine_in_the_users_zone(org: Org, clock: FixedClock) -> None:
    """Tomorrow means 09:00 in the user's own zone (here Berlin, so 08:00 UTC)."""
    org.client.put("/api/v1/tracking/preferences", json={"time_zone": "Europe/Berlin"}, headers=org.admin)
    org.client.post("/api/v1/tracking/start", headers=org.admin)
    clock.advance(minutes=61)

    deferred = org.client.post("/api/v1/tracking/activity-check", json={"defer": "tomorrow"},
                               headers=org.admin)

    assert deferred.json()["next_activity_check_at"] == "2026-01-02T08:00:00Z"


def test_the_max_length_stops_a_timer_whose_checks_are_deferred(org: Org, clock: FixedClock) -> None:
    """Deferring to next Monday does not lift the 12-hour cap."""
    org.client.post("/api/v1/tracking/start", headers=org.admin)
    org.client.post("/api/v1/tracking/activity-check", json={"defer": "next_monday"}, headers=org.admin)
    clock.advance(hours=13)

    stopped = _check(org)

    assert [(s.reason.value, s.worklog.length_s) for s in stopped] == [("max_length", 12 * 3600)]


def test_answering_after_the_window_is_a_conflict_and_the_stop_stands(org: Org, clock: FixedClock) -> None:
    """Too late: 409, and the timer is stopped at the check, not at the click."""
    org.client.post("/api/v1/tracking/start", headers=org.admin)
    clock.advance(minutes=75)

    late = org.client.post("/api/v1/tracking/activity-check", headers=org.admin)

    assert late.status_code == 409
    assert late.json()["reason"] == "activity_check"
    worklogs = org.client.get("/api/v1/worklogs", headers=org.admin).json()["items"]
    assert [w["length_s"] for w in worklogs] == [3600]


def test_without_a_mail_server_mail_is_only_logged(tmp_path: Path) -> None:
    """STINT_SMTP_URL unset gives the log mailer, which sends nothing and never fails a stop."""
    mailer = mailer_from_settings(make_settings(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path))
    assert isinstance(mailer, LogMailer)


def test_a_timer_running_when_the_trial_ends_stops_at_that_moment_with_reason_subscription(
    org: Org, clock: FixedClock, inbox: tuple[Inbox, int]
) -> None:
    """Trial from January 1st ends at midnight starting January 29th: a timer started at 23:30
    is stopped at midnight (30 minutes, reason ``subscription``), not when the job noticed."""
    from datetime import UTC, datetime

    from tests.support.api import bearer, signup, token

    org.client.put("/api/v1/tracking/preferences", json={"mail_on_system_stop": True}, headers=org.admin)
    clock.set(datetime(2026, 1, 20, 9, 0, tzinfo=UTC))
    signup(org.client, "globex")  # its trial runs on to February 17th
    clock.set(datetime(2026, 1, 28, 23, 30, tzinfo=UTC))
    acme = bearer(token(org.client, "acme", "admin@acme.test"))
    globex = bearer(token(org.client, "globex", "admin@globex.test"))
    for headers in (acme, globex):
        assert org.client.post("/api/v1/tracking/start", headers=headers).status_code in (200, 201)

    clock.set(datetime(2026, 1, 29, 0, 20, tzinfo=UTC))
    stopped = _check(org)

    assert [(s.reason.value, s.worklog.length_s) for s in stopped] == [("subscription", 1800)]
    assert _check(org) == []  # once
    assert org.client.get("/api/v1/tracking/current", headers=globex).json()["running"] is True
    (envelope,) = inbox[0].messages
    assert envelope.rcpt_tos == ["admin@acme.test"]
    body = _text(message_from_bytes(envelope.content, policy=default))
    assert "subscription or trial ended" in body and "30 minutes" in body
