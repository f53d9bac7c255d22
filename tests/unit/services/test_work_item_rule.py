"""The require-work-item rule on the use cases that create worklogs by hand (the API and
the pages) and by import (the timer's is in test_tracking.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.clock import FixedClock
from core.errors import ValidationFailed
from core.services.worklog_import import ImportRejected, import_worklogs
from core.services.worklogs import NewWorklog, add_worklog
from core.tenancy import Tenant
from core.tracking import LockPolicy, TrackingRules
from core.tracking.ports import TrackingSettings
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory

from .conftest import Seed

MONDAY = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
RULE = "tracking without a work item is off: give a work item or a comment"


@pytest.fixture
def tenant(store: FakeDatabase, seed: Seed) -> Tenant:
    made = seed.tenant()
    seed.work_items(made, 42)
    store.tracking_settings[made.id] = TrackingSettings(
        TrackingRules(tracking_without_work_item=False), LockPolicy()
    )
    return made


async def test_a_bare_worklog_is_refused_and_nothing_is_written(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, store: FakeDatabase
) -> None:
    ann = seed.user(tenant)
    with pytest.raises(ValidationFailed) as refused:
        await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id,
                          new=NewWorklog(MONDAY, 600), may_add_for_others=False)
    assert (refused.value.detail, refused.value.field) == (RULE, "work_item")
    assert store.worklogs.get(tenant.id, {}) == {}
    for new in (NewWorklog(MONDAY, 600, comment="standup"), NewWorklog(MONDAY, 600, work_item="42")):
        await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, new=new,
                          may_add_for_others=False)
    assert len(store.worklogs[tenant.id]) == 2


async def test_an_import_names_every_bare_row_and_stores_nothing(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, store: FakeDatabase
) -> None:
    ann = seed.user(tenant, "ann@acme.test")

    def row(**more: str) -> dict[str, object]:
        return {"User": "ann@acme.test", "Timestamp": "2026-03-09T08:00:00", "Duration (hours)": "1", **more}

    rows = [(2, row(Comment="review")), (3, row()), (4, row(**{"Work item": "42"})), (5, row(Comment=" "))]
    with pytest.raises(ImportRejected) as refused:
        await import_worklogs(uow, clock, tenant=tenant, actor=ann, rows=rows,
                              may_import_for_others=False, time_zone="UTC")
    assert refused.value.extra["errors"] == [{"line": 3, "reason": RULE}, {"line": 5, "reason": RULE}]
    assert store.worklogs.get(tenant.id, {}) == {}
