"""A controlled clock shared by processes, for tests: "now" is read from a file.

A web process and its Celery workers are separate processes; to make them agree on a
moved clock, both read the instant kept in ``STINT_FAKE_CLOCK_FILE``. It is never on by
default, and when it is on Stint says so loudly: a WARNING at start (every process), and
``/health`` reports ``clock.fake: true``. Production must never set it.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

from core.clock import Clock, SystemClock

__all__ = ["FileClock", "clock_from_settings"]

log = logging.getLogger("stint.clock")


class FileClock:
    """Reads the ISO instant in ``path`` (re-read when the file changes)."""

    fake = True

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._seen: tuple[int, int, int] | None = None
        self._now: datetime | None = None

    def now(self) -> datetime:
        stat = os.stat(self.path)
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # a rename makes a new inode
        if key != self._seen or self._now is None:
            value = datetime.fromisoformat(self.path.read_text(encoding="utf-8").strip())
            if value.tzinfo is None:
                raise ValueError(f"{self.path} must hold an aware ISO instant (2026-01-01T09:00:00+00:00)")
            self._now, self._seen = value, key
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FileClock needs an aware datetime")
        # Write-then-rename: a reader never sees half an instant.
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(when.isoformat(), encoding="utf-8")
        os.replace(tmp, self.path)
        # The mtime may not move within its resolution; forget the cached value.
        self._seen = None

    def advance(self, **delta: float) -> None:
        self.set(self.now() + timedelta(**delta))


def clock_from_settings(fake_clock_file: Path | None) -> Clock:
    if fake_clock_file is None:
        return SystemClock()
    clock = FileClock(fake_clock_file)
    log.warning(
        "FAKE CLOCK: 'now' is read from %s (STINT_FAKE_CLOCK_FILE) — for tests only, never in production",
        fake_clock_file,
    )
    clock.now()  # a missing or bad file fails at start, not at the first request
    return clock
