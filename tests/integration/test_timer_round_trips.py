"""PostgreSQL: a timer start or stop begins its transaction holding the user's lock, in one
round trip (``uow(lock_user=…)``, ``plugins/storage/user_lock.py``), and that lock is a real
one: a second start waits for it, a start given up while waiting gives its connection back
and leaves no transaction open, and ids the statement could not carry take the usual way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from asyncpg.connection import Connection

from core.clock import FixedClock
from core.services.signup import signup
from core.services.tracking import start_tracking, stop_tracking
from core.tenancy import Tenant, User
from plugins.identity.passwords import Argon2Hasher
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade
from plugins.storage.uow import PiccoloUnitOfWorkFactory
from plugins.storage.user_lock import locking_transaction

pytestmark = pytest.mark.postgres

World = tuple[PiccoloUnitOfWorkFactory, FixedClock, Tenant, User, str]


@pytest.fixture
async def world(postgres_url: str) -> AsyncIterator[World]:
    engine = await storage_engine.open_engine(postgres_url, pool_size=1)
    storage_engine.bind(engine)
    await upgrade(engine)
    uow = PiccoloUnitOfWorkFactory(engine)
    clock = FixedClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    made = await signup(uow, Argon2Hasher(fast=True), clock, slug="acme", name="Acme", deployment="cloud",
                        admin_email="admin@acme.test", admin_password="correct horse battery",
                        admin_name="Admin", trial_days=28)
    yield uow, clock, made.tenant, made.admin, postgres_url
    await storage_engine.close(engine)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement asyncpg sends, as text."""
    statements: list[str] = []
    for name in ("execute", "fetch"):
        original = getattr(Connection, name)

        def wrapped(original: Any = original) -> Any:
            async def call(self: Connection, query: str, *args: Any, **kwargs: Any) -> Any:
                statements.append(query)
                return await original(self, query, *args, **kwargs)
            return call

        monkeypatch.setattr(Connection, name, wrapped())
    return statements


async def test_a_start_and_a_stop_are_four_round_trips_the_first_begins_with_the_lock(
    world: World, sent: list[str]
) -> None:
    uow, clock, tenant, user, _ = world
    await start_tracking(uow, clock, tenant=tenant, user=user, work_item=None, comment=None)
    started = list(sent)
    sent.clear()
    clock.advance(minutes=30)
    stopped = await stop_tracking(uow, clock, tenant=tenant, user=user)
    assert stopped.worklog is not None and stopped.worklog.length_s == 1800
    for statements in (started, sent):
        assert len(statements) == 4, statements
        assert statements[0].startswith("BEGIN; SELECT id FROM tenant_user")
        assert statements[0].endswith("FOR UPDATE")
        assert f"tenant_id = '{tenant.id}' AND id = '{user.id}'" in statements[0]
        assert statements[-1] == "COMMIT"
        assert not any("FOR UPDATE" in s for s in statements[1:])


async def test_the_lock_is_held_a_start_waits_for_it_and_one_given_up_gives_its_connection_back(
    world: World,
) -> None:
    uow, clock, tenant, user, url = world
    holder = await asyncpg.connect(url)
    try:
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("SELECT id FROM tenant_user WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
                             tenant.id, user.id)
        waiting = asyncio.ensure_future(
            start_tracking(uow, clock, tenant=tenant, user=user, work_item=None, comment=None))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # it waits for the lock the other connection holds
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await transaction.rollback()
    finally:
        await holder.close()
    # The pool has one connection: had the given-up start kept it, this would never begin.
    timer, _ = await asyncio.wait_for(
        start_tracking(uow, clock, tenant=tenant, user=user, work_item=None, comment=None), 10)
    assert timer.user_id == user.id
    async with uow() as work:
        assert len(await work.tenant(tenant.id).tracking().timers()) == 1


async def test_only_plain_ids_go_into_the_statements_text(world: World) -> None:
    engine = world[0].engine
    assert locking_transaction(engine, "t-1_A", "0f" * 16) is not None
    for tenant_id, user_id in (("t'1", "u"), ("t", "u\\"), ("t", ""), ("t", "u 1"), ("t" * 65, "u")):
        assert locking_transaction(engine, tenant_id, user_id) is None
