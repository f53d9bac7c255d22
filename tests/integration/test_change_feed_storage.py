"""Timer and worklog writes are published on the change feed once, after their commit, and
never when the transaction rolls back (both engines)."""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

import pytest

from core.ids import new_id
from core.tracking import Worklog, WorklogFlag
from core.tracking.feed import Subscription, TrackingChange
from plugins.storage.uow import PiccoloUnitOfWorkFactory


class RecordingFeed:
    """A fake of the ``ChangeFeed`` port: what was published, batch by batch."""

    def __init__(self) -> None:
        self.published: list[set[TrackingChange]] = []

    async def publish(self, changes: Collection[TrackingChange]) -> None:
        self.published.append(set(changes))

    def subscribe(self, tenant_id: str, user_id: str) -> AbstractAsyncContextManager[Subscription]:
        raise NotImplementedError("the storage publishes; it never subscribes")


async def test_a_rolled_back_timer_change_publishes_nothing(engine: Any) -> None:
    feed = RecordingFeed()
    uow = PiccoloUnitOfWorkFactory(engine, feed=feed)
    async with uow(write=True) as work:
        await work.tenant("t1").tracking().delete_timer("ann")
        # no commit: rolled back
    with pytest.raises(RuntimeError, match="refused"):
        async with uow(write=True) as work:
            await work.tenant("t1").tracking().delete_timer("ann")
            raise RuntimeError("refused")
    assert feed.published == []


async def test_a_committed_timer_and_worklog_change_is_published_once_after_the_commit(engine: Any) -> None:
    feed = RecordingFeed()
    uow = PiccoloUnitOfWorkFactory(engine, feed=feed)
    async with uow(write=True) as work:
        repo = work.tenant("t1").tracking()
        await repo.delete_timer("ann")
        await repo.delete_timer("ann")
        assert feed.published == []  # not before the commit
        await work.commit()
    # One change, with the timer it leaves (none).
    assert feed.published == [{TrackingChange("t1", "ann", timer=True, state=None, carries_state=True)}]


async def test_a_read_unit_of_work_publishes_nothing(engine: Any) -> None:
    feed = RecordingFeed()
    uow = PiccoloUnitOfWorkFactory(engine, feed=feed)
    async with uow() as work:
        assert await work.tenant("t1").tracking().timer("ann") is None
    assert feed.published == []


async def test_added_and_deleted_worklogs_are_published_as_their_owners_worklog_changes(engine: Any) -> None:
    feed = RecordingFeed()
    uow = PiccoloUnitOfWorkFactory(engine, feed=feed)
    worklog = Worklog(id=new_id(), user_id="ann", started_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
                      length_s=3600, billable_length_s=0, work_item=None, comment="review",
                      activity_type=None, added_by="ann", flags=frozenset({WorklogFlag.MANUAL}))
    async with uow(write=True) as work:
        await work.tenant("t1").tracking().add_worklogs([worklog], datetime(2026, 1, 5, 10, tzinfo=UTC))
        await work.commit()
    async with uow(write=True) as work:
        await work.tenant("t1").tracking().delete_worklog(worklog.id, datetime(2026, 1, 5, 11, tzinfo=UTC))
        await work.commit()
    assert feed.published == [{TrackingChange("t1", "ann", timer=False)}] * 2
