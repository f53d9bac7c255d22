"""The mailer port over SMTP (stdlib ``smtplib`` on a worker thread).

Every mail is multipart: the text as written, and an HTML alternative rendered from
``templates/mail.html`` (links made clickable, everything else escaped). A notification
carries RFC 8058 one-click unsubscribe headers. Names and subjects come from users and
tenants: control characters are removed before they reach a header, and the display name
is quoted by :class:`email.headerregistry.Address`, so no value can add a header.
"""

from __future__ import annotations

import asyncio
import logging
import re
import smtplib
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlparse

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from core.jobs.ports import MailInDoubt
from plugins.i18n import texts_for
from plugins.settings import Settings

__all__ = ["LogMailer", "SmtpMailer", "compose", "mailer_from_settings"]

log = logging.getLogger("stint.mail")

#: Seconds to wait for the mail server before the job gives up (and retries later).
_TIMEOUT = 10
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)
_URL = re.compile(r"https?://[^\s<>\"']+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def header_text(value: str) -> str:
    """``value`` on one line: CR, LF and other control characters become a space."""
    return _CONTROL.sub(" ", value).strip()


def _segments(line: str) -> list[tuple[str, str | None]]:
    """The line as (text, link or None) pieces."""
    pieces: list[tuple[str, str | None]] = []
    at = 0
    for found in _URL.finditer(line):
        url = found.group(0).rstrip(".,;:)")
        if found.start() > at:
            pieces.append((line[at:found.start()], None))
        pieces.append((url, url))
        at = found.start() + len(url)
    if at < len(line):
        pieces.append((line[at:], None))
    return pieces


def _html(subject: str, body: str, unsubscribe: str | None, locale: str = "en") -> str:
    paragraphs = [
        [_segments(line) for line in block.splitlines()]
        for block in re.split(r"\n\s*\n", body.strip()) if block.strip()
    ]
    texts = texts_for(locale)
    return _TEMPLATES.get_template("mail.html").render(
        subject=subject, paragraphs=paragraphs, unsubscribe=unsubscribe, locale=texts.locale,
        _=lambda message: Markup(texts.tr(message)),
    )


def compose(
    sender: str, to: str, subject: str, body: str, *, to_name: str = "", unsubscribe: str | None = None,
    locale: str = "en",
) -> EmailMessage:
    """The message as it goes on the wire (text and HTML; unsubscribe headers when given)."""
    message = EmailMessage()
    message["From"] = sender
    name = header_text(to_name)
    if name and "@" in to:
        local, _, domain = to.partition("@")
        message["To"] = Address(display_name=name, username=local, domain=domain)
    else:
        message["To"] = header_text(to)
    message["Subject"] = header_text(subject)
    if unsubscribe:
        link = header_text(unsubscribe)
        message["List-Unsubscribe"] = f"<{link}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(body)
    message.add_alternative(_html(header_text(subject), body, unsubscribe, locale), subtype="html")
    return message


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
        # Connecting and signing in send nothing: a failure there is a plain one (retried).
        server = kind(self._host, self._port, timeout=_TIMEOUT)
        try:
            if self._user is not None:
                server.login(self._user, self._password or "")
            try:
                server.send_message(message)
            except (smtplib.SMTPSenderRefused, smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError):
                raise  # the server said no: nothing was accepted, the next run may try again
            except (smtplib.SMTPException, OSError) as exc:
                # The connection broke while the message was on its way, or the answer to
                # DATA was lost: the server may have it. Sending it again could make two.
                raise MailInDoubt(f"{type(exc).__name__}: {exc}") from exc
        except BaseException:
            server.close()
            raise
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            server.close()  # accepted already: a failed goodbye changes nothing

    async def send(
        self, to: str, subject: str, body: str, *, to_name: str = "", unsubscribe: str | None = None,
        locale: str = "en",
    ) -> None:
        message = compose(self.sender, to, subject, body, to_name=to_name, unsubscribe=unsubscribe,
                          locale=locale)
        await asyncio.to_thread(self._send, message)


class LogMailer:
    """No mail server configured: the mail is logged (without its body) and dropped."""

    async def send(
        self, to: str, subject: str, body: str, *, to_name: str = "", unsubscribe: str | None = None,
        locale: str = "en",
    ) -> None:
        log.info("mail not sent (no STINT_SMTP_URL)", extra={"subject": subject})


def mailer_from_settings(settings: Settings) -> SmtpMailer | LogMailer:
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url, settings.smtp_from)
    return LogMailer()
