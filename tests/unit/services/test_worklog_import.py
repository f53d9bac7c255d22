"""The big import's path (core.services.worklog_import), on the fakes: every row is checked
before the write unit of work is taken, the rules are read again under it and a change
meanwhile is honoured, weeks are counted in each user's zone, and the worklogs go in
with one effect per work item, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from core.clock import FixedClock
from core.services import worklog_import
from core.services.worklog_import import ImportRejected, import_worklogs
from core.tenancy import Tenant, User
from core.tracking import NumberedRow, WeekStatus
from tests.fakes import FakeDatabase, FakeUnitOfWork, FakeUnitOfWorkFactory

from .conftest import Seed
from .tracking_builders import THIS_WEEK, Tracking


class Meanwhile(FakeUnitOfWorkFactory):
    """Another transaction commits ``change`` between the check and the write: just before
    the import's write unit of work is handed out."""

    def __init__(self, store: FakeDatabase, change: Callable[[], object]) -> None:
        super().__init__(store)
        self._change: Callable[[], object] | None = change

    def __call__(self, *, write: bool = False, staged: Any = None) -> FakeUnitOfWork:
        if write and self._change is not None:
            self._change()
            self._change = None
        return super().__call__(write=write, staged=staged)


@pytest.fixture
def tracking(store: FakeDatabase) -> Tracking:
    return Tracking(store)


@pytest.fixture
def acme(seed: Seed) -> Tenant:
    return seed.tenant("acme")


@pytest.fixture
def boss(seed: Seed, acme: Tenant) -> User:
    return seed.admin(acme)


@pytest.fixture
def ann(seed: Seed, acme: Tenant) -> User:
    return seed.user(acme, "ann@acme.test")


def _row(line: int, email: str = "ann@acme.test", timestamp: str = "2026-03-09T08:00:00",
         hours: str = "1", **more: str) -> NumberedRow:
    return NumberedRow(line, {"User": email, "Timestamp": timestamp, "Duration (hours)": hours, **more})


async def _import(uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, actor: User,
                  rows: list[NumberedRow], **options: Any) -> list[Any]:
    return await import_worklogs(uow, clock, tenant=tenant, actor=actor, rows=rows,
                                 may_import_for_others=options.get("for_others", True),
                                 time_zone=options.get("time_zone", "UTC"))


def _lines(rejected: pytest.ExceptionInfo[ImportRejected]) -> list[int]:
    return [error["line"] for error in rejected.value.extra["errors"]]


async def test_checks_every_row_before_taking_the_write_unit_of_work_once(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tracking: Tracking, acme: Tenant, boss: User, ann: User
) -> None:
    stored = await _import(uow, clock, acme, boss, [_row(2), _row(3, "boss@acme.test")])
    assert [unit.write for unit in uow.units] == [False, True] and uow.commits == 1
    assert {w.id for w in tracking.worklogs(acme)} == {w.id for w in stored}


async def test_an_imports_ids_ascend_with_its_rows_across_check_steps(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, acme: Tenant, boss: User, ann: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Handed out in row order, so that the indexes take the import's rows as appends.
    monkeypatch.setattr(worklog_import, "CHECK_STEP", 2)
    rows = [_row(line, timestamp=f"2026-03-09T{line:02}:00:00") for line in range(2, 9)]
    stored = await _import(uow, clock, acme, boss, rows)
    ids = [w.id for w in stored]
    assert ids == sorted(ids) and len(set(ids)) == len(rows)
    assert [w.started_at.hour for w in stored] == list(range(2, 9))


async def test_a_file_with_a_bad_row_never_takes_the_write_unit_of_work(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tracking: Tracking, acme: Tenant, boss: User, ann: User
) -> None:
    with pytest.raises(ImportRejected) as rejected:
        await _import(uow, clock, acme, boss, [_row(2), _row(3, "nobody@acme.test"), _row(4, hours="x")])
    assert rejected.value.code == "import_rejected" and _lines(rejected) == [3, 4]
    assert uow.writes == 0 and tracking.worklogs(acme) == []


async def test_a_week_approved_meanwhile_rejects_its_rows_under_the_lock(
    store: FakeDatabase, clock: FixedClock, tracking: Tracking, acme: Tenant, boss: User, ann: User
) -> None:
    uow = Meanwhile(store, lambda: tracking.week(acme, ann, WeekStatus.APPROVED))
    with pytest.raises(ImportRejected) as rejected:
        await _import(uow, clock, acme, boss, [_row(2, timestamp="2026-03-02T08:00:00"), _row(3)])
    assert _lines(rejected) == [3] and "locked week" in rejected.value.extra["errors"][0]["reason"]
    assert uow.commits == 0 and tracking.worklogs(acme) == [] and tracking.outbox(acme) == []


async def test_a_lock_date_set_meanwhile_rejects_the_rows_up_to_it(
    store: FakeDatabase, clock: FixedClock, tracking: Tracking, acme: Tenant, boss: User, ann: User
) -> None:
    uow = Meanwhile(store, lambda: tracking.rules(acme, locked_until=date(2026, 3, 9)))
    rows = [_row(2, timestamp="2026-03-09T23:00:00"), _row(3, timestamp="2026-03-10T00:30:00")]
    with pytest.raises(ImportRejected) as rejected:
        await _import(uow, clock, acme, boss, rows)
    assert _lines(rejected) == [2] and tracking.worklogs(acme) == []


async def test_a_user_removed_meanwhile_can_no_longer_be_named(
    store: FakeDatabase, clock: FixedClock, tracking: Tracking, acme: Tenant, boss: User, ann: User
) -> None:
    uow = Meanwhile(store, lambda: store.users[acme.id].pop(ann.id))
    with pytest.raises(ImportRejected) as rejected:
        await _import(uow, clock, acme, boss, [_row(2, "boss@acme.test"), _row(3)])
    assert _lines(rejected) == [3] and tracking.worklogs(acme) == []


async def test_a_change_meanwhile_that_touches_no_row_lets_the_import_through(
    store: FakeDatabase, clock: FixedClock, tracking: Tracking, acme: Tenant, boss: User, ann: User
) -> None:
    uow = Meanwhile(store, lambda: tracking.week(acme, boss, WeekStatus.CLOSED))
    stored = await _import(uow, clock, acme, boss, [_row(2), _row(3, timestamp="2026-03-02T08:00:00")])
    assert len(stored) == 2 and len(tracking.worklogs(acme)) == 2


async def test_a_week_is_counted_in_the_users_own_zone(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tracking: Tracking, acme: Tenant, boss: User, ann: User
) -> None:
    tracking.preference(acme, ann, time_zone="Pacific/Auckland")
    tracking.week(acme, ann, WeekStatus.APPROVED, THIS_WEEK)
    # Sunday noon in UTC is already Monday 01:00 in Auckland: inside the approved week.
    sunday_utc = "2026-03-08T12:00:00+00:00"
    rows = [_row(2, timestamp=sunday_utc), _row(3, "boss@acme.test", sunday_utc)]
    with pytest.raises(ImportRejected) as rejected:
        await _import(uow, clock, acme, boss, rows)
    assert _lines(rejected) == [2]


async def test_an_import_queues_one_effect_per_work_item_with_all_its_time(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tracking: Tracking, acme: Tenant, boss: User, ann: User,
    seed: Seed,
) -> None:
    seed.work_items(acme, 42, 7)
    rows = [
        _row(2, hours="1", **{"Work item": "42"}),
        _row(3, "boss@acme.test", hours="2", **{"Work item": "42"}),
        _row(4, hours="0.5", **{"Work item": "7"}),
        _row(5, hours="3"),
    ]
    await _import(uow, clock, acme, boss, rows)
    assert tracking.effects(acme) == [("42", "import", 3 * 3600), ("7", "import", 1800)]
    assert len({entry.effect_key.split(":")[1] for entry in tracking.outbox(acme)}) == 1  # one import id
    assert len(tracking.worklogs(acme)) == 4


async def test_an_importer_without_the_right_to_import_for_others_names_only_themselves(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tracking: Tracking, acme: Tenant, boss: User, ann: User
) -> None:
    with pytest.raises(ImportRejected) as rejected:
        await _import(uow, clock, acme, ann, [_row(2), _row(3, "boss@acme.test")], for_others=False)
    assert _lines(rejected) == [3] and uow.writes == 0


async def test_rows_naming_work_items_the_mirror_lacks_reject_the_import_with_their_lines(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tracking: Tracking, acme: Tenant, boss: User, ann: User,
    seed: Seed,
) -> None:
    seed.work_items(acme, 42)
    rows = [
        _row(2, hours="1", **{"Work item": "42"}),
        _row(3, hours="1", **{"Work item": "W-1"}),
        _row(4, hours="1", **{"Work item": "43"}),
        _row(5, hours="1", **{"Work item": "W-1"}),
    ]
    with pytest.raises(ImportRejected) as rejected:
        await _import(uow, clock, acme, boss, rows)
    assert rejected.value.code == "unknown_work_item"
    assert _lines(rejected) == [3, 4, 5]
    assert tracking.worklogs(acme) == [] and tracking.outbox(acme) == []
