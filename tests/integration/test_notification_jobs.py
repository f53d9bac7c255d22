"""A week of activity under a controlled clock produces exactly the expected notification mails
at a real SMTP server (aiosmtpd), once each, on SQLite and PostgreSQL (issue #19, Done when 4):
re-running every job sends nothing more, and a kind someone turned off is never sent. (Killing
the mail worker mid-send: ``test_mail_crash.py``; hostile display names:
``test_notification_mails.py``.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest

from core.clock import FixedClock
from plugins.jobs.registry import run_job
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org, run, stint_of
from tests.support.api import api_client, bearer, token
from tests.support.mail import Inbox

JOBS = ("missing_time", "running_timers", "seat_requests", "billing_mails", "trial_reminders", "mail")


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock, inbox: tuple[Inbox, int]) -> Iterator[Org]:
    clock.set(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440",
                             STINT_SMTP_URL=f"smtp://127.0.0.1:{inbox[1]}", STINT_BASE_URL="https://stint.test")
    with api_client(settings, clock) as client:
        yield make_org(client)


def at(clock: FixedClock, moment: str) -> None:
    clock.set(datetime.fromisoformat(moment).replace(tzinfo=UTC))


def every_job(org: Org) -> dict[str, int]:
    """Run each notification job and the delivery once; what each queued or sent."""
    counts = {}
    for name in JOBS:
        answer = dict(run(org.client, run_job, stint_of(org.client), name))
        counts[name] = answer.get("queued", answer.get("sent", 0))
    return counts


def auth(org: Org, name: str) -> dict[str, str]:
    """Fresh credentials (the clock moves days between calls; tokens last one)."""
    return bearer(token(org.client, org.slug, f"{name}@{org.slug}.test"))


def licensed_user(org: Org, name: str, *, approval_manager: bool = False) -> dict[str, str]:
    headers, user_id = org.add_user(name, approval_manager=approval_manager)
    patched = org.client.patch(f"/api/v1/users/{user_id}", headers=org.admin, json={"licensed": True})
    assert patched.status_code == 200, patched.text
    return headers


def log_hours(org: Org, headers: dict[str, str], days: list[str], hours: float) -> None:
    for day in days:
        made = org.client.post("/api/v1/worklogs", headers=headers, json={
            "started_at": f"{day}T09:00:00Z", "length_s": int(hours * 3600), "comment": "work"})
        assert made.status_code == 201, made.text


def subjects(inbox: Inbox) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for envelope in inbox.messages:
        text = envelope.content.decode()
        subject = next(line[9:] for line in text.splitlines() if line.startswith("Subject: "))
        for rcpt in envelope.rcpt_tos:
            found.setdefault(rcpt, []).append(subject)
    return found


def test_a_week_of_activity_mails_exactly_the_expected_people_once(
    org: Org, clock: FixedClock, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    week = ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09"]
    ann = licensed_user(org, "ann")
    bob = licensed_user(org, "bob")
    mia = licensed_user(org, "mia", approval_manager=True)
    # The admin (an approval manager too) wants no missing-time mails at all.
    assert org.client.put("/api/v1/me/notifications", headers=org.admin,
                          json={"kinds": {"missing_time": False}}).status_code == 200
    # Ann works 32 h but took Friday off; Bob tracks 10 h; Mia her 40 h.
    assert org.client.put("/api/v1/me/working-hours", headers=ann, json={
        "hours": {"monday": 8, "tuesday": 8, "wednesday": 8, "thursday": 8, "friday": 8, "saturday": 0,
                  "sunday": 0}, "days_off": ["2026-01-09"]}).status_code == 200
    log_hours(org, ann, week[:4], 8)
    log_hours(org, bob, week[:1], 10)
    log_hours(org, mia, week, 8)

    at(clock, "2026-01-09T12:00:00")
    assert every_job(org)["missing_time"] == 0  # the week has not ended yet

    at(clock, "2026-01-12T07:00:00")  # Monday: last week is over everywhere (UTC)
    first = every_job(org)
    assert first["missing_time"] == 2 and first["mail"] == 2
    assert subjects(mails) == {
        "bob@acme.test": ["Your Stint time for 2026-W02 is missing 30 h"],
        "mia@acme.test": ["Missing time in Acme: 2 people (2026-W02)"],
    }
    # The digest names everyone short, the admin too (who only turned off mails to themself).
    [digest] = [e.content.decode() for e in mails.messages if "mia@acme.test" in e.rcpt_tos]
    assert "admin@acme.test" in digest and "bob@acme.test" in digest
    assert "ann@acme.test" not in digest and "- Mia" not in digest
    # Every job run again at once: nothing more is queued or sent.
    assert every_job(org) == dict.fromkeys(JOBS, 0)
    assert len(mails.messages) == 2

    # Bob's timer runs past the end of his working day (09:00 + 8 h) — one mail that day.
    at(clock, "2026-01-13T10:00:00")
    started = org.client.post("/api/v1/tracking/start", headers=auth(org, "bob"), json={"comment": "late"})
    assert started.status_code == 201, started.text
    at(clock, "2026-01-13T16:59:00")
    assert every_job(org)["running_timers"] == 0
    at(clock, "2026-01-13T17:30:00")
    assert every_job(org)["running_timers"] == 1
    at(clock, "2026-01-13T22:00:00")
    assert every_job(org) == dict.fromkeys(JOBS, 0)
    assert subjects(mails)["bob@acme.test"] == [
        "Your Stint time for 2026-W02 is missing 30 h", "Your Stint timer is still running"]

    # Bob turns timer mails off with the link in that mail: the next evening brings nothing.
    [reminder] = [e for e in mails.messages if b"timer is still running" in e.content]
    link = str(message_from_bytes(reminder.content, policy=default)["List-Unsubscribe"]).strip("<>")
    assert org.client.post(link.removeprefix("https://stint.test")).status_code == 200
    at(clock, "2026-01-14T18:00:00")
    assert every_job(org) == dict.fromkeys(JOBS, 0)
    assert len(mails.messages) == 3
    assert "admin@acme.test" not in subjects(mails)
