"""Graceful shutdown: once the process is told to stop, it drains.

``stint serve`` installs :func:`drain_on_signals` at start-up: on SIGTERM or SIGINT the
process marks itself draining before uvicorn's own handling (which stops accepting
connections and waits for in-flight requests to finish). While draining,
``/health/ready`` answers 503, so a balancer stops sending new requests, and the timer's
event streams end at once (``on_drain`` wakes them; each also looks at least once a second),
cleanly, so browsers reconnect to another process instead of being cut off when the grace
period runs out.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

__all__ = ["drain_on_signals", "draining", "on_drain", "start_draining"]

_draining = threading.Event()
#: Called when draining starts (from the signal handler: each must be quick and thread-safe).
_on_drain: list[Callable[[], None]] = []


def on_drain(callback: Callable[[], None]) -> Callable[[], None]:
    """Call ``callback`` when the process starts draining; returns its removal."""
    _on_drain.append(callback)
    return lambda: _on_drain.remove(callback) if callback in _on_drain else None


def draining() -> bool:
    return _draining.is_set()


def start_draining() -> None:
    _draining.set()
    for callback in list(_on_drain):
        # A failed wake-up must not stop the shutdown: the streams still look within a second.
        with contextlib.suppress(Exception):
            callback()


def drain_on_signals() -> None:
    """Chain a "start draining" in front of the server's own SIGTERM/SIGINT handlers.

    Only from the main thread (where a server installs its handlers); elsewhere, e.g. under
    a test client, it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)

        def handler(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
            start_draining()
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL:
                signal.default_int_handler(signum, frame)

        signal.signal(sig, handler)
