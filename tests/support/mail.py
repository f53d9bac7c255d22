"""A real SMTP server for mail tests (aiosmtpd on a free loopback port) and what it received."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller

__all__ = ["Inbox", "free_port", "smtp_inbox"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"

    def to(self, address: str) -> list[str]:
        """Subjects of the mails sent to ``address``."""
        subjects = []
        for envelope in self.messages:
            if address in envelope.rcpt_tos:
                text = envelope.content.decode()
                subjects.append(next(line[9:] for line in text.splitlines() if line.startswith("Subject: ")))
        return subjects


@contextmanager
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
    """(the inbox, its port) while an SMTP server runs on loopback."""
    handler = Inbox()
    port = free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    try:
        yield handler, port
    finally:
        server.stop()
