"""Concurrency: starts and stops from several clients at once leave one timer per user."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from core.clock import FixedClock
from core.errors import Conflict
from core.services.signup import signup
from core.services.tracking import start_tracking, stop_tracking
from core.tenancy import Tenant, User
from core.work_items import StateCategory, WorkItem
from plugins.identity.passwords import Argon2Hasher
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade
from plugins.storage.uow import PiccoloUnitOfWorkFactory

World = tuple[PiccoloUnitOfWorkFactory, FixedClock, Tenant, User]


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    engine = await storage_engine.open_engine(database_url, pool_size=8)
    storage_engine.bind(engine)
    await upgrade(engine)
    uow = PiccoloUnitOfWorkFactory(engine)
    clock = FixedClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    made = await signup(uow, Argon2Hasher(fast=True), clock, slug="acme", name="Acme", deployment="cloud",
                        admin_email="admin@acme.test", admin_password="correct horse battery",
                        admin_name="Admin", trial_days=28)
    yield uow, clock, made.tenant, made.admin
    await storage_engine.close(engine)


async def test_eight_simultaneous_starts_leave_one_timer_and_seven_concurrency_stops(world: Any) -> None:
    """Each start stops the one before it, in some order: one runs, the others stopped as concurrency."""
    uow, clock, tenant, user = world
    # Nine items of the mirror (a timer names only those): "9" first, then 1 to 8 at once.
    async with uow(write=True) as work:
        await work.tenant(tenant.id).work_items().upsert([
            WorkItem(id=n, title=f"Item {n}", type="Task", state="New", state_category=StateCategory.PROPOSED,
                     changed_at=clock.now())
            for n in range(1, 10)
        ])
        await work.commit()
    await start_tracking(uow, clock, tenant=tenant, user=user, work_item="9", comment=None)
    clock.advance(minutes=5)

    results = await asyncio.gather(*(
        start_tracking(uow, clock, tenant=tenant, user=user, work_item=str(n), comment=None)
        for n in range(1, 9)
    ))

    stops = [stopped for _, stopped in results if stopped is not None]
    assert len(stops) == 8 and {s.reason.value for s in stops} == {"concurrency"}
    async with uow() as work:
        repo = work.tenant(tenant.id).tracking()
        assert len(await repo.timers()) == 1
        # Only the first timer ran for a while; the others stopped within their second.
        assert [w.length_s for w in await repo.worklogs()] == [300]


async def test_two_simultaneous_stops_make_one_worklog_and_one_conflict(world: Any) -> None:
    """Stop pressed on two clients at once: one worklog; the other stop finds nothing running."""
    uow, clock, tenant, user = world
    await start_tracking(uow, clock, tenant=tenant, user=user, work_item=None, comment=None)
    clock.advance(hours=1)

    results = await asyncio.gather(
        stop_tracking(uow, clock, tenant=tenant, user=user),
        stop_tracking(uow, clock, tenant=tenant, user=user),
        return_exceptions=True,
    )

    assert sorted(type(r).__name__ for r in results) == ["Conflict", "StoppedTrack"]
    assert any(isinstance(r, Conflict) for r in results)
    async with uow() as work:
        assert [w.length_s for w in await work.tenant(tenant.id).tracking().worklogs()] == [3600]
