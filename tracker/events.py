"""The server-sent event stream (``GET /api/v1/tracking/events``), parsed and kept open.

The parser follows the HTML event-stream rules: ``event``, ``data`` (joined by newlines),
``id`` (remembered, and sent back as ``Last-Event-ID`` on reconnecting) and ``retry`` (the
reconnection delay the server asks for); a blank line dispatches; ``:`` lines are comments.
When the stream drops (the server restarting, the network), `follow` reconnects, backing off
while the server stays away.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import httpx

from tracker.session import Session

PATH = "/api/v1/tracking/events"
MAX_BACKOFF_S = 30.0


@dataclass(frozen=True)
class Event:
    event: str
    data: str
    id: str | None


class EventParser:
    def __init__(self) -> None:
        self.last_id: str | None = None
        self.retry_s: float | None = None
        self._event = ""
        self._data: list[str] = []

    def feed(self, lines: Iterable[str]) -> Iterator[Event]:
        for line in lines:
            if line == "":
                if self._data:
                    yield Event(self._event or "message", "\n".join(self._data), self.last_id)
                self._event, self._data = "", []
                continue
            if line.startswith(":"):
                continue  # a comment, e.g. a keep-alive
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                self._event = value
            elif name == "data":
                self._data.append(value)
            elif name == "id" and "\0" not in value:
                self.last_id = value
            elif name == "retry" and value.isdigit():
                self.retry_s = int(value) / 1000


def follow(
    session: Session, on_event: Callable[[Event], None], on_status: Callable[[str], None],
    stop: threading.Event, sleep: Callable[[float], object] | None = None,
) -> None:
    """Feed ``on_event`` every event until ``stop`` is set, reconnecting when the stream ends.

    `Unpaired` and `Refused` from the session are raised: reconnecting cannot cure them."""
    parser = EventParser()
    wait = sleep or stop.wait
    backoff = 1.0
    while not stop.is_set():
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if parser.last_id is not None:
            headers["Last-Event-ID"] = parser.last_id
        try:
            # No read timeout: the server writes only when the timer changes.
            with session.stream("GET", PATH, headers=headers,
                                timeout=httpx.Timeout(10.0, read=None)) as answer:
                on_status("")
                backoff = 1.0
                for event in parser.feed(answer.iter_lines()):
                    on_event(event)
                    if stop.is_set():
                        return
        except httpx.TransportError:
            pass
        if stop.is_set():
            return
        on_status("reconnecting…")
        delay = parser.retry_s if parser.retry_s is not None else backoff
        wait(delay)
        backoff = min(backoff * 2, MAX_BACKOFF_S)
