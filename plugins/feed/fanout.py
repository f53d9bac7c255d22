"""One process's open event streams, and the in-process feed (no Redis: one process).

:class:`Fanout` keeps a bounded queue per open stream, keyed by tenant and user, so a change
reaches exactly the streams of the user it concerns (and, for a tenant-wide change, of its
tenant) in one dictionary lookup, whatever the number of streams. Delivery never waits: a
stream whose queue is full (its client stopped reading) is dropped — it ends, and its client
reconnects and reads the current state — instead of holding up everyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection
from contextlib import AbstractAsyncContextManager

from core.tracking.feed import FeedItem, FellBehind, Resync, TrackingChange

__all__ = ["QUEUE_SIZE", "Fanout", "InProcessFeed"]

#: Items a stream may have waiting before it counts as stuck. A stream reads its own user's
#: changes only, so even a burst (a batch edit) rarely queues more than a few.
QUEUE_SIZE = 64


class _Subscriber:
    __slots__ = ("dropped", "queue")

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[FeedItem] = asyncio.Queue(maxsize=size)
        self.dropped = False

    def offer(self, item: FeedItem) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped = True

    async def next(self, timeout: float) -> FeedItem | None:
        if self.dropped:
            raise FellBehind("the stream did not keep up with its changes")
        try:
            async with asyncio.timeout(timeout):
                return await self.queue.get()
        except TimeoutError:
            return None


class Fanout:
    """The open streams of this process, by tenant and user."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self._size = queue_size
        self._streams: dict[str, dict[str, set[_Subscriber]]] = {}
        #: The event loop the streams wait on: a publisher on another thread hands over to it.
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def open_streams(self) -> int:
        return sum(len(subs) for users in self._streams.values() for subs in users.values())

    @contextlib.asynccontextmanager
    async def subscribe(self, tenant_id: str, user_id: str) -> AsyncIterator[_Subscriber]:
        self._loop = asyncio.get_running_loop()
        subscriber = _Subscriber(self._size)
        self._streams.setdefault(tenant_id, {}).setdefault(user_id, set()).add(subscriber)
        try:
            yield subscriber
        finally:
            users = self._streams.get(tenant_id, {})
            subs = users.get(user_id, set())
            subs.discard(subscriber)
            if not subs:
                users.pop(user_id, None)
            if not users:
                self._streams.pop(tenant_id, None)

    def deliver(self, changes: Collection[TrackingChange]) -> None:
        """Hand each change to the streams it concerns (from any thread)."""
        loop = self._loop
        if loop is None or not self._streams:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not loop:
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._deliver, list(changes))
            return
        self._deliver(changes)

    def _deliver(self, changes: Collection[TrackingChange]) -> None:
        for change in changes:
            users = self._streams.get(change.tenant_id)
            if not users:
                continue
            if change.user_id is None:
                targets = [s for subs in users.values() for s in subs]
            else:
                targets = list(users.get(change.user_id, ()))
            for subscriber in targets:
                subscriber.offer(change)

    def wake_all(self) -> None:
        """Wake every stream (from any thread, a signal handler included): the process is
        stopping, and each ends at its next look."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.resync)

    def resync(self) -> None:
        """Every stream reads its state again (the feed may have missed changes)."""
        for users in self._streams.values():
            for subs in users.values():
                for subscriber in subs:
                    subscriber.offer(Resync())


class InProcessFeed:
    """The feed of a single process (SQLite, or PostgreSQL without Redis): publishing is a
    hand-over to this process's streams."""

    def __init__(self, fanout: Fanout | None = None) -> None:
        self.fanout = fanout or Fanout()

    async def publish(self, changes: Collection[TrackingChange]) -> None:
        self.fanout.deliver(changes)

    def subscribe(self, tenant_id: str, user_id: str) -> AbstractAsyncContextManager[_Subscriber]:
        return self.fanout.subscribe(tenant_id, user_id)

    async def close(self) -> None:
        return None
