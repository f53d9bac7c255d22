"""PATCH /worklogs/batch's use case on real storage, both engines (issue #17 done-when 2 for
a batch edit): 1,000 worklogs with two in a locked week change nothing and both are named;
without them all change in one transaction, and a write failing at the 999th worklog takes
the 998 before it back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from piccolo.querystring import QueryString

from core.clock import FixedClock
from core.errors import WeekLocked
from core.ids import new_id
from core.services.signup import signup
from core.services.worklog_batch_edit import BatchChanges, update_worklogs
from core.tracking import WeekStatus, create_worklog, draft_worklog
from plugins.identity.passwords import Argon2Hasher
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade
from plugins.storage.uow import PiccoloUnitOfWorkFactory

FIRST = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)  # Monday of 2026-W06
LOCKED_DAY = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)  # 2026-W02, approved below

World = tuple[PiccoloUnitOfWorkFactory, FixedClock, Any, Any, Any]


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    engine = await storage_engine.open_engine(database_url, pool_size=4)
    storage_engine.bind(engine)
    await upgrade(engine)
    uow = PiccoloUnitOfWorkFactory(engine)
    clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    made = await signup(uow, Argon2Hasher(fast=True), clock, slug="acme", name="Acme", deployment="cloud",
                        admin_email="admin@acme.test", admin_password="correct horse battery",
                        admin_name="Admin", trial_days=28)
    yield uow, clock, made.tenant, made.admin, engine
    await storage_engine.close(engine)


async def _seed(world: World) -> list[str]:
    """1,000 one-minute worklogs of the admin's, the 18th and the 999th in a locked week."""
    uow, clock, tenant, admin, _ = world
    worklogs = [
        create_worklog(draft_worklog(admin.id, FIRST + timedelta(minutes=2 * n), 60, comment=f"row {n}"),
                       new_id())
        for n in range(1000)
    ]
    for index in (17, 998):
        worklogs[index] = create_worklog(
            draft_worklog(admin.id, LOCKED_DAY + timedelta(minutes=index), 60, comment=f"row {index}"),
            new_id())
    async with uow(write=True) as work:
        repo = work.tenant(tenant.id).tracking()
        await repo.add_worklogs(worklogs, clock.now())
        await repo.save_week_status(admin.id, "2026-W02", WeekStatus.APPROVED, admin.id, clock.now())
        await work.commit()
    return [w.id for w in worklogs]


async def _billable(world: World) -> int:
    uow, _, tenant, _, _ = world
    async with uow() as work:
        return sum(w.billable_length_s for w in await work.tenant(tenant.id).tracking().worklogs())


async def test_a_batch_of_a_thousand_with_two_in_a_locked_week_changes_nothing_and_names_both(
    world: World,
) -> None:
    uow, clock, tenant, admin, _ = world
    ids = await _seed(world)

    with pytest.raises(WeekLocked) as locked:
        await update_worklogs(uow, clock, tenant=tenant, actor=admin, ids=ids,
                              changes=BatchChanges(billable=True), actor_can_edit_others=True)
    assert [(e["index"], e["id"], e["code"]) for e in locked.value.extra["errors"]] == [
        (17, ids[17], "week_locked"), (998, ids[998], "week_locked")]
    assert await _billable(world) == 0

    clean = [wid for n, wid in enumerate(ids) if n not in (17, 998)]
    assert await update_worklogs(uow, clock, tenant=tenant, actor=admin, ids=clean,
                                 changes=BatchChanges(billable=True), actor_can_edit_others=True) == 998
    assert await _billable(world) == 998 * 60
    async with uow() as work:
        assert await work.tenant(tenant.id).audit().recorded_since(
            "worklogs.batch_updated", tenant.id, clock.now() - timedelta(days=1))


_SQLITE_TRIGGER = (
    "CREATE TRIGGER fail_on_999 BEFORE UPDATE ON worklog WHEN NEW.id = '{id}' "
    "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
)
_PG_FUNCTION = (
    "CREATE FUNCTION fail_on_999() RETURNS trigger AS $$ BEGIN "
    "IF NEW.id = '{id}' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
)
_PG_TRIGGER = (
    "CREATE TRIGGER fail_on_999 BEFORE UPDATE ON worklog FOR EACH ROW EXECUTE FUNCTION fail_on_999()"
)


async def test_a_write_failing_at_the_999th_worklog_leaves_nothing_of_the_batch_behind(world: World) -> None:
    """The database refuses the 999th UPDATE (a trigger planted for the test): the batch is one
    transaction, so the 998 worklogs saved before it are back as they were."""
    uow, clock, tenant, admin, engine = world
    ids = [wid for n, wid in enumerate(await _seed(world)) if n not in (17, 998)]
    victim = ids[-1]  # the 998th of the clean batch, saved last
    statements = ([_PG_FUNCTION, _PG_TRIGGER] if engine.engine_type == "postgres" else [_SQLITE_TRIGGER])
    for statement in statements:
        await engine.run_querystring(QueryString(statement.replace("{id}", victim)))

    with pytest.raises(Exception, match="injected failure"):
        await update_worklogs(uow, clock, tenant=tenant, actor=admin, ids=ids,
                              changes=BatchChanges(billable=True), actor_can_edit_others=True)
    assert await _billable(world) == 0
    async with uow() as work:
        audited = await work.tenant(tenant.id).audit().recorded_since(
            "worklogs.batch_updated", tenant.id, clock.now() - timedelta(days=1))
    assert not audited
