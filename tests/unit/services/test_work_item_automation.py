"""Work item automation settings (core.services.work_item_automation) and the outbox job
honouring them (core.services.work_items): each mode on the fakes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from core.clock import FixedClock
from core.services.work_item_automation import save_work_item_automation, work_item_automation
from core.services.work_items import AUTOMATION_OFF, run_work_item_outbox
from core.services.worklogs import NewWorklog, add_worklog
from core.tenancy import Tenant, User
from core.tracking import Worklog
from core.tracking.automation import FieldsWritten, RemainingMode, RemainingNotPerWorklog, WorkItemAutomation
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory
from tests.fakes.tracking import FakeDevOpsConnector, FakeTrackingDirectory

from .conftest import Seed
from .tracking_builders import Tracking

MONDAY = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
D = Decimal


class Automation:
    """One tenant, its Administrator, one platform item "42" (Remaining Work 8 h) and the job."""

    def __init__(
        self, uow: FakeUnitOfWorkFactory, clock: FixedClock, store: FakeDatabase, seed: Seed
    ) -> None:
        self.uow, self.clock, self.store = uow, clock, store
        self.tenant: Tenant = seed.tenant()
        self.admin: User = seed.user(self.tenant, role="administrator")
        seed.work_items(self.tenant, 42)  # worklogs name only items of the mirror
        self.platform = FakeDevOpsConnector()
        self.platform.add_item("42", remaining=D("8"))
        self.tracking = Tracking(store)

    async def set(self, **changes: object) -> None:
        settings = WorkItemAutomation(**changes)  # type: ignore[arg-type]
        await save_work_item_automation(
            self.uow, self.clock, tenant=self.tenant, actor=self.admin, settings=settings
        )

    async def log(self, seconds: int, remaining_h: Decimal | None = None) -> Worklog:
        new = NewWorklog(MONDAY, seconds, work_item="42", remaining_h=remaining_h)
        return await add_worklog(self.uow, self.clock, tenant=self.tenant, actor=self.admin,
                                 owner_id=self.admin.id, new=new, may_add_for_others=False)

    async def run(self) -> int:
        return await run_work_item_outbox(
            self.uow, self.clock, FakeTrackingDirectory(self.store), lambda tenant_id: self.platform
        )

    def fields(self) -> tuple[Decimal | None, Decimal | None]:
        state = self.platform.state("42")
        return state.completed_work, state.remaining_work


@pytest.fixture
def auto(uow: FakeUnitOfWorkFactory, clock: FixedClock, store: FakeDatabase, seed: Seed) -> Automation:
    return Automation(uow, clock, store, seed)


async def test_settings_never_saved_read_as_the_defaults_and_a_change_is_stored_and_audited(
    auto: Automation, seed: Seed
) -> None:
    assert await work_item_automation(auto.uow, tenant=auto.tenant) == WorkItemAutomation()
    await auto.set(enabled=True, fields=FieldsWritten.COMPLETED, remaining=RemainingMode.LEAVE)
    assert await work_item_automation(auto.uow, tenant=auto.tenant) == WorkItemAutomation(
        True, FieldsWritten.COMPLETED, RemainingMode.LEAVE
    )
    [audited] = seed.audit("work_items.automation_changed")
    assert audited.detail == {"enabled": True, "fields": "completed", "remaining": "leave"}


async def test_reduce_lowers_remaining_work_by_the_worklog_as_before(auto: Automation) -> None:
    await auto.log(5400)
    assert await auto.run() == 1
    assert auto.fields() == (D("1.5"), D("6.50"))


async def test_leave_remaining_work_writes_completed_work_only(auto: Automation) -> None:
    await auto.set(remaining=RemainingMode.LEAVE)
    await auto.log(5400)
    assert await auto.run() == 1
    assert auto.fields() == (D("1.5"), D("8"))
    assert auto.platform.writes == [("42", D("1.5"), None)]


async def test_per_worklog_writes_the_remaining_work_the_user_set(auto: Automation) -> None:
    await auto.set(remaining=RemainingMode.PER_WORKLOG)
    await auto.log(3600, remaining_h=D("2.5"))
    assert await auto.run() == 1
    assert auto.fields() == (D("1.0"), D("2.50"))
    # A worklog without a value leaves Remaining Work where the last one put it.
    await auto.log(1800)
    assert await auto.run() == 1
    assert auto.fields() == (D("1.5"), D("2.50"))


async def test_completed_only_leaves_remaining_work_and_remaining_only_leaves_completed_work(
    auto: Automation,
) -> None:
    await auto.set(fields=FieldsWritten.COMPLETED)
    await auto.log(3600)
    await auto.run()
    assert auto.fields() == (D("1.0"), D("8"))
    await auto.set(fields=FieldsWritten.REMAINING)
    await auto.log(3600)
    await auto.run()
    assert auto.fields() == (D("1.0"), D("7.00"))


async def test_with_automation_off_nothing_is_written_and_pending_effects_are_dropped_not_replayed(
    auto: Automation,
) -> None:
    await auto.set(enabled=False)
    await auto.log(3600)
    assert await auto.run() == 0
    assert auto.platform.writes == []
    assert auto.tracking.pending(auto.tenant) == []
    assert auto.tracking.errors(auto.tenant) == [AUTOMATION_OFF] * 2
    # On again: the hour logged while off does not lower Remaining Work now, but it counts
    # in Completed Work, the sum of every stored worklog, at the item's next change.
    await auto.set(enabled=True)
    assert await auto.run() == 0
    await auto.log(1800)
    assert await auto.run() == 1
    assert auto.fields() == (D("1.5"), D("7.50"))


async def test_writing_no_field_is_the_same_as_off(auto: Automation) -> None:
    await auto.set(fields=FieldsWritten.NONE)
    await auto.log(3600)
    assert await auto.run() == 0
    assert auto.platform.writes == [] and auto.tracking.pending(auto.tenant) == []


async def test_a_change_of_settings_applies_to_effects_the_next_run_finds(auto: Automation) -> None:
    await auto.log(3600)  # queued under "reduce"
    await auto.set(remaining=RemainingMode.LEAVE)
    assert await auto.run() == 1
    assert auto.fields() == (D("1.0"), D("8"))


async def test_effects_already_applied_are_not_applied_again_after_a_change_of_settings(
    auto: Automation,
) -> None:
    await auto.log(3600)
    assert await auto.run() == 1
    for remaining in RemainingMode:
        await auto.set(remaining=remaining)
        assert await auto.run() == 0
    assert auto.platform.writes == [("42", D("1.0"), D("7.00"))]


async def test_a_lost_reply_under_completed_only_is_recognised_and_not_written_again(
    auto: Automation,
) -> None:
    await auto.set(fields=FieldsWritten.COMPLETED)
    await auto.log(3600)
    auto.platform.lose_acknowledgements = 1
    assert await auto.run() == 0
    assert await auto.run() == 0
    assert auto.platform.writes == [("42", D("1.0"), None)]
    assert auto.tracking.pending(auto.tenant) == []


async def test_a_remaining_work_on_a_worklog_is_refused_unless_the_tenant_takes_it_per_worklog(
    auto: Automation,
) -> None:
    with pytest.raises(RemainingNotPerWorklog):
        await auto.log(3600, remaining_h=D("2"))
    assert auto.tracking.outbox(auto.tenant) == []
    assert auto.store.worklogs.get(auto.tenant.id, {}) == {}
