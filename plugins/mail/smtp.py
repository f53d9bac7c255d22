"""The mailer port over SMTP (stdlib ``smtplib`` on a worker thread)."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

from plugins.settings import Settings

__all__ = ["LogMailer", "SmtpMailer", "mailer_from_settings"]

log = logging.getLogger("stint.mail")

#: Seconds to wait for the mail server before the job gives up (and retries later).
_TIMEOUT = 10


class SmtpMailer:
    """Sends through ``smtp://user:pass@host:port`` (STARTTLS is not forced) or ``smtps://``."""

    def __init__(self, url: str, sender: str) -> None:
        parsed = urlparse(url)
        self._tls = parsed.scheme == "smtps"
        self._host = parsed.hostname or "127.0.0.1"
        self._port = parsed.port or (465 if self._tls else 25)
        self._user = unquote(parsed.username) if parsed.username else None
        self._password = unquote(parsed.password) if parsed.password else None
        self.sender = sender

    def _send(self, message: EmailMessage) -> None:
        kind = smtplib.SMTP_SSL if self._tls else smtplib.SMTP
        with kind(self._host, self._port, timeout=_TIMEOUT) as server:
            if self._user is not None:
                server.login(self._user, self._password or "")
            server.send_message(message)

    async def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        await asyncio.to_thread(self._send, message)


class LogMailer:
    """No mail server configured: the mail is logged (without its body) and dropped."""

    async def send(self, to: str, subject: str, body: str) -> None:
        log.info("mail not sent (no STINT_SMTP_URL)", extra={"subject": subject})


def mailer_from_settings(settings: Settings) -> SmtpMailer | LogMailer:
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url, settings.smtp_from)
    return LogMailer()
