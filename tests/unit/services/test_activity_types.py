"""The activity type catalogue (core.services.activity_types) and its use by worklogs, timers
and imports: by id or by name, active entries only, renames keep every worklog."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.activities import (
    DEFAULT_CATALOGUE,
    ActivityTypeChanges,
    ActivityTypeExists,
    UnknownActivityType,
)
from core.clock import FixedClock
from core.errors import NotFound, ValidationFailed
from core.money import Money
from core.rates import RateCurrencyMismatch
from core.services.activity_types import (
    create_activity_type,
    list_activity_types,
    update_activity_type,
)
from core.services.signup import signup
from core.services.tracking import start_tracking, stop_tracking
from core.services.worklog_import import ImportRejected, import_worklogs
from core.services.worklogs import NewWorklog, add_worklog, edit_worklog
from core.tenancy import Tenant
from core.tracking import WorklogChanges, WorklogFlag
from tests.fakes import FakeDatabase, FakePasswordHasher, FakeUnitOfWorkFactory

from .conftest import PASSWORD, Seed

MONDAY = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


async def test_a_new_tenant_starts_with_the_default_catalogue(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock
) -> None:
    result = await signup(
        uow, hasher, clock, slug="acme", name="Acme", deployment="cloud",
        admin_email="ann@acme.test", admin_password=PASSWORD, admin_name="Ann", trial_days=28,
    )
    entries = await list_activity_types(uow, tenant=result.tenant)
    assert sorted(e.name for e in entries) == sorted(name for name, _, _ in DEFAULT_CATALOGUE)
    billable = {e.name for e in entries if e.billable_by_default}
    assert "Development" in billable and "Meeting" not in billable
    assert all(e.active and e.hourly_rate is None for e in entries)


async def test_names_are_trimmed_and_unique_ignoring_case(uow: FakeUnitOfWorkFactory, seed: Seed) -> None:
    tenant = seed.tenant()
    review = await create_activity_type(uow, tenant=tenant, name="  Code review ", color="#a0b0c0")
    assert (review.name, review.color, review.billable_by_default) == ("Code review", "#A0B0C0", False)
    with pytest.raises(ActivityTypeExists) as taken:
        await create_activity_type(uow, tenant=tenant, name="CODE REVIEW")
    assert taken.value.code == "activity_type_exists"
    with pytest.raises(ActivityTypeExists):
        await update_activity_type(
            uow, tenant=tenant, activity_type_id=review.id, changes=ActivityTypeChanges(name="design")
        )
    # Another tenant may use the same name.
    other = seed.tenant("globex")
    assert (await create_activity_type(uow, tenant=other, name="Code review")).name == "Code review"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "two\nlines"])
async def test_a_name_of_1_to_100_characters_on_one_line_is_required(
    uow: FakeUnitOfWorkFactory, seed: Seed, name: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await create_activity_type(uow, tenant=seed.tenant(), name=name)
    assert refused.value.field == "name"


@pytest.mark.parametrize("color", ["red", "#12345", "#1234567", "#GGGGGG", "123456"])
async def test_a_colour_must_be_hash_rrggbb(uow: FakeUnitOfWorkFactory, seed: Seed, color: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await create_activity_type(uow, tenant=seed.tenant(), name="Review", color=color)
    assert refused.value.field == "color"


async def test_changing_an_unknown_or_another_tenants_entry_is_not_found(
    uow: FakeUnitOfWorkFactory, seed: Seed
) -> None:
    acme, globex = seed.tenant(), seed.tenant("globex")
    theirs = await create_activity_type(uow, tenant=globex, name="Secret")
    with pytest.raises(NotFound):
        await update_activity_type(
            uow, tenant=acme, activity_type_id=theirs.id, changes=ActivityTypeChanges(active=False)
        )


async def _entry(uow: FakeUnitOfWorkFactory, tenant: Tenant, name: str) -> str:
    return next(e.id for e in await list_activity_types(uow, tenant=tenant) if e.name == name)


async def test_a_worklog_names_its_type_by_id_or_by_name_in_any_case(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    design = await _entry(uow, tenant, "Design")
    by_id = await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id,
                              new=NewWorklog(MONDAY, 600, activity_type_id=design), may_add_for_others=False)
    by_name = await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id,
                                new=NewWorklog(MONDAY, 600, activity_type=" design"),
                                may_add_for_others=False)
    assert (by_id.activity_type, by_id.activity_type_id) == ("Design", design)
    assert (by_name.activity_type, by_name.activity_type_id) == ("Design", design)


@pytest.mark.parametrize(
    "new",
    [
        NewWorklog(MONDAY, 600, activity_type="Totally-made-up-type"),
        NewWorklog(MONDAY, 600, activity_type_id="no-such-id"),
    ],
)
async def test_an_unknown_activity_type_is_refused_and_nothing_is_stored(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, store: FakeDatabase, new: NewWorklog
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    with pytest.raises(UnknownActivityType) as refused:
        await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, new=new,
                          may_add_for_others=False)
    assert refused.value.code == "unknown_activity_type"
    assert store.worklogs.get(tenant.id, {}) == {}


async def test_another_tenants_entry_is_as_unknown_as_a_made_up_one(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    acme, globex = seed.tenant(), seed.tenant("globex")
    ann = seed.user(acme)
    theirs = await create_activity_type(uow, tenant=globex, name="Secret")
    with pytest.raises(UnknownActivityType):
        await add_worklog(uow, clock, tenant=acme, actor=ann, owner_id=ann.id,
                          new=NewWorklog(MONDAY, 600, activity_type_id=theirs.id), may_add_for_others=False)


async def test_a_rename_keeps_every_worklog_on_the_entry_and_shows_the_new_name(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    design = await _entry(uow, tenant, "Design")
    worklog = await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id,
                                new=NewWorklog(MONDAY, 600, activity_type_id=design),
                                may_add_for_others=False)
    await update_activity_type(
        uow, tenant=tenant, activity_type_id=design, changes=ActivityTypeChanges(name="UX design")
    )
    stored = store.worklogs[tenant.id][worklog.id]
    assert (stored.activity_type, stored.activity_type_id) == ("UX design", design)


async def test_a_deactivated_entry_stays_on_history_but_takes_no_new_use(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    meeting = await _entry(uow, tenant, "Meeting")
    old = await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id,
                            new=NewWorklog(MONDAY, 600, activity_type_id=meeting), may_add_for_others=False)
    await update_activity_type(
        uow, tenant=tenant, activity_type_id=meeting, changes=ActivityTypeChanges(active=False)
    )
    assert meeting not in {e.id for e in await list_activity_types(uow, tenant=tenant)}
    assert meeting in {e.id for e in await list_activity_types(uow, tenant=tenant, include_inactive=True)}
    with pytest.raises(UnknownActivityType):
        await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id,
                          new=NewWorklog(MONDAY, 600, activity_type="meeting"), may_add_for_others=False)
    # Editing another field keeps the inactive entry, and so does naming the entry the
    # worklog has already (a form sent back as it was); putting it on another one is refused.
    edited = await edit_worklog(uow, clock, tenant=tenant, actor=ann, worklog_id=old.id,
                                changes=WorklogChanges(comment="standup"), actor_can_edit_others=False)
    assert (edited.activity_type, edited.activity_type_id) == ("Meeting", meeting)
    again = await edit_worklog(uow, clock, tenant=tenant, actor=ann, worklog_id=old.id,
                               changes=WorklogChanges(length_s=900, activity_type_id=meeting),
                               actor_can_edit_others=False)
    assert (again.activity_type_id, again.length_s) == (meeting, 900)
    other = await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id,
                              new=NewWorklog(MONDAY, 600), may_add_for_others=False)
    with pytest.raises(UnknownActivityType):
        await edit_worklog(uow, clock, tenant=tenant, actor=ann, worklog_id=other.id,
                           changes=WorklogChanges(activity_type_id=meeting), actor_can_edit_others=False)
    # Clearing it is allowed.
    cleared = await edit_worklog(uow, clock, tenant=tenant, actor=ann, worklog_id=old.id,
                                 changes=WorklogChanges(activity_type=None), actor_can_edit_others=False)
    assert (cleared.activity_type, cleared.activity_type_id) == (None, None)
    assert store.worklogs[tenant.id][old.id] == cleared


async def test_an_edit_to_a_type_by_name_stores_its_id(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    worklog = await add_worklog(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id,
                                new=NewWorklog(MONDAY, 600), may_add_for_others=False)
    edited = await edit_worklog(uow, clock, tenant=tenant, actor=ann, worklog_id=worklog.id,
                                changes=WorklogChanges(activity_type="TESTING"), actor_can_edit_others=False)
    testing = await _entry(uow, tenant, "Testing")
    assert (edited.activity_type, edited.activity_type_id) == ("Testing", testing)


async def test_a_timer_on_a_billable_by_default_type_leaves_a_billable_worklog(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    """Timers had no activity type before, so its billable default decides (SPEC §8 leaves
    the tracked worklog's billable length to us); a non-billable type leaves 0."""
    tenant = seed.tenant()
    ann = seed.user(tenant)
    seed.work_items(tenant, 42)  # timers name only items of the mirror
    development = await _entry(uow, tenant, "Development")
    timer, _ = await start_tracking(uow, clock, tenant=tenant, user=ann, work_item="42", comment=None,
                                    activity_type_id=development)
    assert (timer.activity_type, timer.billable) == ("Development", True)
    clock.advance(minutes=30)
    stopped = await stop_tracking(uow, clock, tenant=tenant, user=ann)
    assert stopped.worklog is not None
    assert stopped.worklog.billable_length_s == stopped.worklog.length_s == 1800
    assert stopped.worklog.activity_type_id == development
    assert WorklogFlag.BILLABLE in stopped.worklog.flags

    await start_tracking(uow, clock, tenant=tenant, user=ann, work_item="42", comment=None,
                         activity_type="meeting")
    clock.advance(minutes=10)
    stopped = await stop_tracking(uow, clock, tenant=tenant, user=ann)
    assert stopped.worklog is not None
    assert (stopped.worklog.activity_type, stopped.worklog.billable_length_s) == ("Meeting", 0)


async def test_a_timer_with_an_unknown_type_does_not_start(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    with pytest.raises(UnknownActivityType):
        await start_tracking(uow, clock, tenant=tenant, user=ann, work_item="42", comment=None,
                             activity_type="Nope")
    assert store.timers.get(tenant.id, {}) == {}


async def test_an_import_resolves_type_names_to_entries_and_rejects_unknown_ones(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant, "ann@acme.test")
    row = {"User": "ann@acme.test", "Timestamp": "2026-03-09T08:00:00", "Duration (hours)": "1"}
    stored = await import_worklogs(
        uow, clock, tenant=tenant, actor=ann, rows=[(2, {**row, "Activity type": "research"})],
        may_import_for_others=False, time_zone="UTC",
    )
    research = await _entry(uow, tenant, "Research")
    assert (stored[0].activity_type, stored[0].activity_type_id) == ("Research", research)
    with pytest.raises(ImportRejected) as rejected:
        await import_worklogs(
            uow, clock, tenant=tenant, actor=ann,
            rows=[(2, row), (3, {**row, "Activity type": "Totally-made-up-type"})],
            may_import_for_others=False, time_zone="UTC",
        )
    assert [e["line"] for e in rejected.value.extra["errors"]] == [3]
    assert len(store.worklogs[tenant.id]) == 1


async def test_an_entry_rate_is_in_the_tenants_one_rate_currency(
    uow: FakeUnitOfWorkFactory, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant()
    first = await create_activity_type(uow, tenant=tenant, name="Audit", hourly_rate=Money(12000, "EUR"))
    assert first.hourly_rate == Money(12000, "EUR") and store.rate_currencies[tenant.id] == "EUR"
    with pytest.raises(RateCurrencyMismatch):
        await update_activity_type(
            uow, tenant=tenant, activity_type_id=first.id,
            changes=ActivityTypeChanges(hourly_rate=Money(100, "USD")),
        )
    removed = await update_activity_type(
        uow, tenant=tenant, activity_type_id=first.id, changes=ActivityTypeChanges(hourly_rate=None)
    )
    assert removed.hourly_rate is None
