"""Exactly one beat: ``stint beat`` holds a lease in Redis while it runs.

Two beats would send every tick twice. Nothing would happen twice (every effect has a
unique key), but the work would double and the second beat is nearly always a mistake
(a second Procfile process, a deploy that did not stop the old one). So a beat takes a
lease before it starts: ``SET key holder NX EX ttl``, renewed by a thread every third of
the ttl while the beat lives. A second beat finds the lease taken and refuses to start;
a beat that died without letting go loses its lease after ``ttl`` seconds, and a new
beat can start then.

The lease is redis-py's ``redis.lock.Lock`` (owner-checked renew and release in its own
scripts), with this process's name as the token so a refused beat can say who holds it.
What stays here is what the lock does not do: renew itself, take the lease back when it was
lost, and wait for Redis at start.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

import redis
from redis.exceptions import LockNotOwnedError

__all__ = ["BeatAlreadyRunning", "BeatLease"]

log = logging.getLogger("stint.jobs")

class BeatAlreadyRunning(RuntimeError):
    def __init__(self, holder: str) -> None:
        super().__init__(
            f"another `stint beat` is running ({holder}); run exactly one. If it died, its lease "
            "expires by itself within a minute."
        )
        self.holder = holder


class BeatLease:
    def __init__(self, client: Any, prefix: str, *, ttl: int = 60) -> None:
        self._redis = client
        self.key = f"{prefix}beat:lease"
        self.ttl = ttl
        # Unique per lease, not just per process: a late release must only drop its own.
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Not thread-local: the renewing thread must see the token the starting thread took.
        self._lock = client.lock(self.key, timeout=ttl, thread_local=False)

    def acquire(self, *, retry_for: float = float("inf")) -> None:
        """Take the lease and keep renewing it, or raise :class:`BeatAlreadyRunning`.

        While Redis is unreachable it waits (a beat cannot send anything without Redis
        either, and Celery's own beat waits for its broker the same way), up to ``retry_for``
        seconds.
        """
        deadline = time.monotonic() + retry_for
        pause = 0.5
        while True:
            try:
                taken = self._lock.acquire(blocking=False, token=self.holder)
                break
            except (redis.ConnectionError, redis.TimeoutError):
                if time.monotonic() + pause > deadline:
                    raise
                log.warning("Redis is unreachable; waiting %.1f s to take the beat lease", pause)
                time.sleep(pause)
                pause = min(pause * 2, 10.0)
        if not taken:
            holder = self._redis.get(self.key)
            raise BeatAlreadyRunning(holder.decode() if isinstance(holder, bytes) else str(holder))
        self._thread = threading.Thread(target=self._keep, name="stint-beat-lease", daemon=True)
        self._thread.start()

    def _keep(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                self._lock.reacquire()
            except LockNotOwnedError:
                # Lost (Redis was flushed, or down longer than the ttl): take it back if it
                # is free, or say loudly that another beat now holds it.
                if not self._lock.acquire(blocking=False, token=self.holder):
                    holder = self._redis.get(self.key)
                    log.error("beat lease lost to %s; two beats may now be running", holder)
            except Exception:
                # Redis away: beat itself cannot send either; renew when it is back.
                log.warning("could not renew the beat lease", exc_info=True)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self._lock.release()
        except LockNotOwnedError:
            pass  # expired, or another beat holds it now: nothing of ours to drop
        except Exception:
            log.warning("could not release the beat lease; it expires in %s s", self.ttl, exc_info=True)
