"""Notification mails at a real SMTP server (aiosmtpd), on SQLite and PostgreSQL (issue #19):
multipart text + HTML, RFC 8058 one-click unsubscribe that turns off exactly that kind, and
display names or subjects that cannot add a header."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from core.clock import FixedClock
from core.ids import new_id
from core.jobs.ports import MailDraft
from core.tenancy import Person, User
from plugins.jobs.registry import run_job
from tests.conftest import make_settings
from tests.support.api import api_client, bearer, run, signup, stint, token
from tests.support.mail import Inbox

HOSTILE = 'Eve "the admin"\r\nBcc: victim@evil.test\r\nX-Injected: yes'


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock, inbox: tuple[Inbox, int]) -> Any:
    settings = make_settings(
        database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440", STINT_SMTP_URL=f"smtp://127.0.0.1:{inbox[1]}",
        STINT_BASE_URL="https://stint.test",
    )
    with api_client(settings, clock) as c:
        yield c


def on(clock: FixedClock, day: str) -> None:
    clock.set(datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC))


def received(inbox: Inbox, address: str) -> list[EmailMessage]:
    return [
        email.message_from_bytes(envelope.original_content or envelope.content, policy=default)  # type: ignore[misc]
        for envelope in inbox.messages if address in envelope.rcpt_tos
    ]


def job(client: Any, name: str) -> dict[str, int]:
    return dict(run(client, run_job, stint(client), name))


def queue(client: Any, slug: str, recipient: str, subject: str, kind: str | None = "trial_ending") -> bool:
    s = stint(client)

    async def go() -> bool:
        async with s.uow(write=True) as work:
            tenant = await work.directory.tenant_by_slug(slug)
            draft = MailDraft("test_notice", tenant.id, date(2026, 1, 30), recipient, subject,
                              "Hello.\n\nSee https://stint.test/settings/subscription for more.\n",
                              preference=kind)
            queued: bool = await s.jobs.queue_mail(draft, s.clock.now())
            await work.commit()
        return queued

    return bool(run(client, go))


def test_a_notification_is_multipart_and_its_one_click_unsubscribe_stops_that_kind_only(
    client: Any, clock: FixedClock, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    on(clock, "2026-01-01")
    signup(client, "acme")
    on(clock, "2026-01-26")
    me = bearer(token(client, "acme", "admin@acme.test"))
    assert job(client, "trial_reminders")["queued"] == 1
    assert job(client, "mail")["sent"] == 1
    [mail] = received(mails, "admin@acme.test")
    assert mail.is_multipart()
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]
    link = mail["List-Unsubscribe"].strip("<>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link.startswith("https://stint.test/unsubscribe?token=")
    text, html = (part.get_content() for part in mail.iter_parts())
    assert link in text and f'href="{link}"' in html.replace("&amp;", "&")
    path = urlparse(link)
    token_value = parse_qs(path.query)["token"][0]

    # A link scanner's GET changes nothing; the mail client's one-click POST turns the kind off.
    shown = client.get("/unsubscribe", params={"token": token_value})
    assert shown.status_code == 200 and "trial is ending" in shown.text
    assert client.get("/api/v1/me/notifications", headers=me).json()["kinds"]["trial_ending"] is True
    done = client.post("/unsubscribe", params={"token": token_value},
                       content=b"List-Unsubscribe=One-Click",
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200, done.text
    kinds = client.get("/api/v1/me/notifications", headers=me).json()["kinds"]
    assert kinds["trial_ending"] is False and kinds["invoice_issued"] is True

    # Never sent again: the outbox refuses it, delivery sends nothing more.
    assert queue(client, "acme", "admin@acme.test", "Your Stint trial ends in 1 day") is False
    assert queue(client, "acme", "admin@acme.test", "An invoice", kind="invoice_issued") is True
    assert job(client, "mail")["sent"] == 1
    assert [m["Subject"] for m in received(mails, "admin@acme.test")] == [
        "Your Stint trial ends in 3 days", "An invoice"]


def test_a_forged_or_widened_unsubscribe_token_is_refused_and_changes_nothing(
    client: Any, clock: FixedClock
) -> None:
    on(clock, "2026-01-01")
    signup(client, "acme")
    me = bearer(token(client, "acme", "admin@acme.test"))
    s = stint(client)
    good = s.unsubscribe.issue("x", "y", "trial_ending")
    kid, payload, mac = good.split(".")
    for forged in ("", "nonsense", f"{kid}.{payload}.{mac[:-2]}AA", f"{kid}.{payload[:-2]}.{mac}"):
        assert client.post("/unsubscribe", params={"token": forged}).status_code == 400
        assert client.get("/unsubscribe", params={"token": forged}).status_code == 400
    kinds = client.get("/api/v1/me/notifications", headers=me).json()["kinds"]
    assert all(kinds.values())


def test_a_hostile_display_name_or_subject_cannot_add_a_header(
    client: Any, clock: FixedClock, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    on(clock, "2026-01-01")
    signup(client, "acme")
    s = stint(client)

    async def add_eve() -> None:
        async with s.uow(write=True) as work:
            tenant = await work.directory.tenant_by_slug("acme")
            person = Person(id=new_id(), email="eve@acme.test", name=HOSTILE)
            await work.directory.add_person(person, s.clock.now())
            user = User(id=new_id(), tenant_id=tenant.id, person_id=person.id, email=person.email,
                        name=HOSTILE, role="team", collection_admin=False, approval_manager=False,
                        last_used_at=None)
            password = s.hasher.hash("correct horse battery")
            await work.tenant(tenant.id).users().add(user, password, s.clock.now())
            await work.commit()

    run(client, add_eve)
    assert queue(client, "acme", "eve@acme.test", "Hi\r\nX-Injected: subject") is True
    assert job(client, "mail") == {"sent": 1, "failed": 0, "in_doubt": 0}
    [envelope] = mails.messages
    assert envelope.rcpt_tos == ["eve@acme.test"]
    [mail] = received(mails, "eve@acme.test")
    assert mail["X-Injected"] is None and mail["Bcc"] is None
    assert mail["To"].addresses[0].addr_spec == "eve@acme.test"
    assert mail["To"].addresses[0].display_name.startswith('Eve "the admin"')
    assert "\n" not in mail["Subject"] and mail["Subject"].startswith("Hi")
