"""Killing the mail worker mid-send and running it again sends no mail twice (issue #19, Done
when 4), against a real SMTP server (aiosmtpd), on PostgreSQL (the claims are the same
statements on SQLite; three process starts per engine would cost CI more than they tell).

The worker is a real process (``stint jobs run mail``) on the test's database and clock
file. The SMTP server SIGKILLs it while receiving the second mail — the server has that
mail, the worker never recorded it: the window between "accepted" and "recorded as sent".
The next run, once the dead claim has lapsed, sends the mails nobody had tried and marks the
one in doubt instead of sending it again (docs/jobs.md: at most once per mail).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from core.jobs.ports import MailDraft
from core.services.notifications import MAIL_LEASE_SECONDS
from plugins.clock import FileClock
from plugins.jobs.registry import run_job
from plugins.storage.jobs_tables import MailOutbox
from tests.conftest import make_settings
from tests.support.api import api_client, run, signup, stint
from tests.support.mail import Inbox, free_port

pytestmark = pytest.mark.postgres

STINT = str(Path(sys.executable).parent / "stint")
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
RECIPIENTS = ("a@acme.test", "b@acme.test", "c@acme.test")


class KillingInbox(Inbox):
    """Keeps every mail; on receiving the ``kill_on``-th it SIGKILLs the sender's process
    before answering, so the sender dies with the mail delivered and unrecorded."""

    def __init__(self, kill_on: int) -> None:
        super().__init__()
        self.kill_on = kill_on
        self.victim: subprocess.Popen[bytes] | None = None
        self.armed = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        if len(self.messages) == self.kill_on:
            assert self.armed.wait(30), "the worker's pid was never handed over"
            assert self.victim is not None
            os.kill(self.victim.pid, signal.SIGKILL)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[KillingInbox, int]]:
    handler = KillingInbox(kill_on=2)
    port = free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    yield handler, port
    server.stop()


def test_killing_the_mail_worker_mid_send_and_running_it_again_sends_no_mail_twice(
    postgres_url: str, tmp_path: Path, smtp: tuple[KillingInbox, int],
) -> None:
    database_url = postgres_url
    inbox, port = smtp
    clock = FileClock(tmp_path / "now")
    clock.set(START)
    env = {
        "STINT_DATABASE_URL": database_url, "STINT_SECRET_KEY": "test-secret-key-" + "x" * 32,
        "STINT_DATA_DIR": str(tmp_path / "data"), "STINT_FAKE_CLOCK_FILE": str(clock.path),
        "STINT_SMTP_URL": f"smtp://127.0.0.1:{port}",
    }
    extra = {k: v for k, v in env.items() if k != "STINT_DATABASE_URL"}
    settings = make_settings(database_url, tmp_path, **extra)
    with api_client(settings, clock) as client:
        signup(client, "acme")
        app = stint(client)

        async def queue() -> str:
            async with app.uow(write=True) as work:
                tenant = await work.directory.tenant_by_slug("acme")
                assert tenant is not None
                for n, to in enumerate(RECIPIENTS):
                    clock.set(START + timedelta(seconds=n))  # queued in this order
                    draft = MailDraft("crash_test", tenant.id, date(2026, 1, 5), to, f"To {to}", "Hello.")
                    assert await app.jobs.queue_mail(draft, clock.now())
                await work.commit()
            return str(tenant.id)

        run(client, queue)

        def outbox() -> dict[str, tuple[bool, bool, bool]]:
            async def read() -> list[dict[str, Any]]:
                return list(await MailOutbox.select().where(MailOutbox.kind == "crash_test"))

            return {r["recipient"]: (r["sent_at"] is not None, r["claimed_at"] is not None,
                                     r["in_doubt_at"] is not None) for r in run(client, read)}

        worker_env = {**os.environ, **env}
        worker = subprocess.Popen([STINT, "jobs", "run", "mail"], env=worker_env, cwd=tmp_path,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        inbox.victim = worker
        inbox.armed.set()
        worker.communicate(timeout=120)
        assert worker.returncode == -signal.SIGKILL
        assert [e.rcpt_tos for e in inbox.messages] == [["a@acme.test"], ["b@acme.test"]]
        # (sent, claimed, in doubt): b's send was never recorded; c was never tried.
        assert outbox() == {"a@acme.test": (True, True, False), "b@acme.test": (False, True, False),
                            "c@acme.test": (False, False, False)}

        clock.set(START + timedelta(seconds=MAIL_LEASE_SECONDS + 60))  # the dead claim has lapsed
        again = subprocess.run([STINT, "jobs", "run", "mail"], env=worker_env, cwd=tmp_path,
                               capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "mail: sent=1, failed=0, in_doubt=1" in again.stdout
        # And once more (in the app's process, the same job): nothing left to send.
        assert run(client, run_job, app, "mail") == {"sent": 0, "failed": 0, "in_doubt": 0}

        assert sorted(to for e in inbox.messages for to in e.rcpt_tos) == sorted(RECIPIENTS)
        assert outbox() == {"a@acme.test": (True, True, False), "b@acme.test": (False, True, True),
                            "c@acme.test": (True, True, False)}
