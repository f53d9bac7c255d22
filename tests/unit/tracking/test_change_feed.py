"""The in-process fan-out of the change feed: each change reaches exactly the streams of the
user (or tenant) it concerns, and a stream that stops reading is dropped, not waited for."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest

from core.tracking import Timer
from core.tracking.feed import FellBehind, Resync, TrackingChange
from plugins.feed import Fanout, InProcessFeed
from plugins.feed.redis_feed import decode, encode


async def test_a_change_reaches_its_users_streams_and_no_one_elses() -> None:
    feed = InProcessFeed()
    async with feed.subscribe("t1", "ann") as ann, feed.subscribe("t1", "ann") as ann_phone, \
            feed.subscribe("t1", "bob") as bob, feed.subscribe("t2", "ann") as other_tenants_ann:
        await feed.publish([TrackingChange("t1", "ann", timer=True)])
        await feed.publish([TrackingChange("t1", "bob", timer=False)])
        await feed.publish([TrackingChange("t2", "ann", timer=False)])

        assert await ann.next(1) == TrackingChange("t1", "ann", timer=True)
        assert await ann_phone.next(1) == TrackingChange("t1", "ann", timer=True)
        assert await bob.next(1) == TrackingChange("t1", "bob", timer=False)
        assert await other_tenants_ann.next(1) == TrackingChange("t2", "ann", timer=False)
        # Each got exactly its own: nothing else is waiting.
        assert [await s.next(0) for s in (ann, ann_phone, bob, other_tenants_ann)] == [None] * 4


async def test_a_tenant_wide_change_reaches_every_stream_of_that_tenant_only() -> None:
    feed = InProcessFeed()
    async with feed.subscribe("t1", "ann") as ann, feed.subscribe("t1", "bob") as bob, \
            feed.subscribe("t2", "cy") as cy:
        await feed.publish([TrackingChange("t1", None, timer=True)])
        assert await ann.next(1) == TrackingChange("t1", None, timer=True)
        assert await bob.next(1) == TrackingChange("t1", None, timer=True)
        assert await cy.next(0) is None


async def test_a_stream_that_stops_reading_is_dropped_and_the_others_still_get_every_change() -> None:
    fanout = Fanout(queue_size=2)
    async with fanout.subscribe("t1", "ann") as stuck, fanout.subscribe("t1", "ann") as reading:
        for _ in range(3):
            fanout.deliver([TrackingChange("t1", "ann", timer=True)])
            assert await reading.next(1) == TrackingChange("t1", "ann", timer=True)
        with pytest.raises(FellBehind):
            await stuck.next(1)


async def test_a_closed_stream_is_forgotten() -> None:
    fanout = Fanout()
    async with fanout.subscribe("t1", "ann"):
        assert fanout.open_streams == 1
    assert fanout.open_streams == 0
    fanout.deliver([TrackingChange("t1", "ann", timer=True)])  # nobody left: nothing to do


async def test_a_resync_reaches_every_open_stream() -> None:
    fanout = Fanout()
    async with fanout.subscribe("t1", "ann") as ann, fanout.subscribe("t2", "bob") as bob:
        fanout.resync()
        assert isinstance(await ann.next(1), Resync)
        assert isinstance(await bob.next(1), Resync)


async def test_a_change_published_from_another_thread_is_handed_to_the_streams_loop() -> None:
    fanout = Fanout()
    async with fanout.subscribe("t1", "ann") as ann:
        publisher = threading.Thread(target=fanout.deliver, args=([TrackingChange("t1", "ann", timer=True)],))
        publisher.start()
        await asyncio.to_thread(publisher.join)
        assert await ann.next(5) == TrackingChange("t1", "ann", timer=True)


def test_a_redis_message_carries_who_what_and_the_committed_timer() -> None:
    running = Timer(user_id="ann", started_at=datetime(2026, 1, 1, 9, tzinfo=UTC), work_item="7",
                    comment="review", next_activity_check_at=datetime(2026, 1, 1, 11, tzinfo=UTC),
                    activity_type="Dev", billable=True)
    changes = [
        TrackingChange("t1", "ann", timer=True, state=running, carries_state=True),
        TrackingChange("t1", "bob", timer=True, state=None, carries_state=True),
        TrackingChange("t1", None, timer=False),
    ]
    assert decode("t1", encode(changes)) == changes
