"""A worklog's history through the use cases on the fakes (core.services.worklog_history):
the fake tracking repository records changes as the real one does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.clock import FixedClock
from core.errors import NotFound
from core.origin import Origin, Source, acting, sourced
from core.services.worklog_history import worklog_history
from core.services.worklogs import NewWorklog, add_worklog, delete_worklog, edit_worklog
from core.tracking import WorklogChanges
from tests.fakes import FakeUnitOfWorkFactory

from .conftest import Seed

MONDAY = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


async def test_the_use_cases_leave_a_history_under_the_origin_the_edge_set(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    with acting(Origin(Source.PAGE, ann.id)):
        worklog = await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id,
                                    new=NewWorklog(MONDAY, 600, comment="draft"), may_add_for_others=False)
        await edit_worklog(uow, clock, tenant=tenant, actor=ann, worklog_id=worklog.id,
                           changes=WorklogChanges(comment="final"), actor_can_edit_others=False)
    with acting(Origin(Source.API, ann.id)), sourced(Source.APP):
        await delete_worklog(uow, clock, tenant=tenant, actor=ann, worklog_id=worklog.id,
                             actor_can_edit_others=False)

    history = await worklog_history(uow, tenant=tenant, worklog_id=worklog.id)

    assert history.owner_id == ann.id
    assert history.actor_names == {ann.id: ann.name}
    assert [(c.action.value, c.source) for c in history.changes] == [
        ("added", "page"), ("edited", "page"), ("deleted", "app"),
    ]
    assert history.changes[1].changes["comment"].before == "draft"
    assert history.changes[1].changes["comment"].after == "final"


async def test_a_worklog_the_tenant_never_had_has_no_history(uow: FakeUnitOfWorkFactory, seed: Seed) -> None:
    acme, globex = seed.tenant("acme"), seed.tenant("globex")
    with pytest.raises(NotFound):
        await worklog_history(uow, tenant=acme, worklog_id="nope")
    with pytest.raises(NotFound):
        await worklog_history(uow, tenant=globex, worklog_id="nope")


async def test_a_change_without_an_edge_is_the_systems(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    """A job sets no origin: its changes are the system's, with no actor."""
    tenant = seed.tenant()
    ann = seed.user(tenant)
    worklog = await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id,
                                new=NewWorklog(MONDAY, 600), may_add_for_others=False)

    [added] = (await worklog_history(uow, tenant=tenant, worklog_id=worklog.id)).changes

    assert (added.source, added.actor_id) == ("system", None)
