"""The embedded scheduler: without Redis, ``stint serve`` runs every job in-process.

One asyncio task on the web app's loop, started in its ``on_startup`` and cancelled on
shutdown. Jobs run one after another (never two at once in this process), each at its
own period; a failing job is logged and recorded, and runs again at its next period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from .registry import JOBS, period, run_job

__all__ = ["EmbeddedScheduler"]

log = logging.getLogger("stint.jobs")

#: Seconds shutdown waits for a running job to notice it is cancelled.
_STOP_SECONDS = 5
#: How often the scheduler wakes to see what is due.
_TICK_SECONDS = 0.5


class EmbeddedScheduler:
    def __init__(self, stint: Any) -> None:
        self._stint = stint
        self._task: asyncio.Task[None] | None = None
        self._next: dict[str, float] = {name: 0.0 for name in JOBS}

    def start(self) -> None:
        if self._task is None:
            log.info("background jobs run in-process (no STINT_REDIS_URL)")
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="stint-jobs")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            # A job stuck in a driver call must not hold the server's shutdown hostage.
            done, _ = await asyncio.wait({self._task}, timeout=_STOP_SECONDS)
            if not done:
                log.warning("a background job did not stop within %ss; leaving it", _STOP_SECONDS)
            else:
                with contextlib.suppress(asyncio.CancelledError):
                    self._task.result()
            self._task = None

    async def run_due(self) -> list[str]:
        """Run every job whose period has come; the names run."""
        ran = []
        for name, job in JOBS.items():
            if time.monotonic() < self._next[name]:
                continue
            try:
                await run_job(self._stint, name)
            except asyncio.CancelledError:
                raise
            except Exception:
                pass  # logged and recorded by run_job; tried again at its next period
            self._next[name] = time.monotonic() + period(self._stint.settings, job)
            ran.append(name)
        return ran

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # the scheduler itself must outlive anything a job does
                log.exception("embedded scheduler tick failed")
            await asyncio.sleep(_TICK_SECONDS)
