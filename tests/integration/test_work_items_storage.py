"""The work items mirror on both engines and in memory: the migration's backfill, and one
behaviour contract run against the Piccolo repository and the fake alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from core.work_items import Assignee, Iteration, StateCategory, WorkItem, WorkItemDraft
from core.work_items.ports import SyncState, WorkItemFilter, WorkItemRepository
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import MIGRATIONS, upgrade
from plugins.storage.tracking_tables import LocalWorkItem, TrackingTimer, WorkItemOutbox, WorklogRow
from plugins.storage.work_items_repo import PiccoloWorkItemRepo
from plugins.storage.work_items_tables import WorkItemCounter, WorkItemRow
from tests.fakes.unit_of_work import FakeDatabase
from tests.fakes.work_items import FakeWorkItemRepository
from tests.integration.test_storage import ENGINES, empty_engine  # noqa: F401 - a fixture

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def _worklog(tenant: str, row_id: str, work_item: str | None, length_s: int = 600) -> None:
    # Raw, naming only the columns m0015 had: the table class has later columns (m0017's
    # activity_type_id) that the schema before m0016 does not.
    await WorklogRow.raw(
        "INSERT INTO worklog (id, tenant_id, user_id, started_at, length_s, billable_length_s, work_item, "
        "added_by, flags, created_at, updated_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        row_id, tenant, "use1", NOW, length_s, 0, work_item, "use1", "manual", NOW, NOW,
    )


@ENGINES
async def test_the_backfill_turns_every_named_work_item_into_a_mirror_row_and_renames_text_ones(
    empty_engine: Any,  # noqa: F811 - the fixture
) -> None:
    """Numbers keep their id; text gets the next ids (in text order) and stays as the title;
    the worklogs, timers and outbox rows that named text now name the new id; estimates move."""
    before = [m.ID for m in MIGRATIONS if m.ID < "0016"][-1]
    await upgrade(empty_engine, target=before)
    await _worklog("ten1", "wl1", "42")
    await _worklog("ten1", "wl2", "W-1")
    await _worklog("ten1", "wl3", "Fix login")
    await _worklog("ten1", "wl4", None)
    await _worklog("ten2", "wl5", "W-1")
    await _worklog("ten1", "wl6", "007")
    await TrackingTimer.raw(
        "INSERT INTO tracking_timer (id, tenant_id, user_id, started_at, work_item, next_activity_check_at, "
        "updated_at) VALUES ({}, {}, {}, {}, {}, {}, {})",
        "tm1", "ten1", "use2", NOW, "W-1", NOW, NOW,
    )
    await WorkItemOutbox.insert(
        WorkItemOutbox(id="ob1", tenant_id="ten1", work_item="Fix login", effect_key="wl3", created_at=NOW)
    )
    await LocalWorkItem.insert(
        LocalWorkItem(id="lw1", tenant_id="ten1", item="42", title="Login page", completed_centihours=25,
                      remaining_centihours=150, rev=3, updated_at=NOW),
        LocalWorkItem(id="lw2", tenant_id="ten1", item="Spec", title="", remaining_centihours=800, rev=1,
                      updated_at=NOW),
    )

    await upgrade(empty_engine)

    rows = await WorkItemRow.select(
        WorkItemRow.tenant_id, WorkItemRow.item_id, WorkItemRow.title, WorkItemRow.type,
        WorkItemRow.remaining_centihours, WorkItemRow.completed_centihours, WorkItemRow.rev,
    ).order_by(WorkItemRow.tenant_id).order_by(WorkItemRow.item_id)
    assert [(r["tenant_id"], r["item_id"], r["title"]) for r in rows] == [
        ("ten1", 42, "Login page"),
        ("ten1", 43, "007"),
        ("ten1", 44, "Fix login"),
        ("ten1", 45, "Spec"),
        ("ten1", 46, "W-1"),
        ("ten2", 1, "W-1"),
    ]
    assert {r["type"] for r in rows} == {"Task"}
    first = rows[0]
    assert (first["remaining_centihours"], first["completed_centihours"], first["rev"]) == (150, 25, 3)
    assert rows[3]["remaining_centihours"] == 800
    named = await WorklogRow.select(WorklogRow.id, WorklogRow.work_item).order_by(WorklogRow.id)
    assert [(r["id"], r["work_item"]) for r in named] == [
        ("wl1", "42"), ("wl2", "46"), ("wl3", "44"), ("wl4", None), ("wl5", "1"), ("wl6", "43"),
    ]
    assert await TrackingTimer.select(TrackingTimer.work_item) == [{"work_item": "46"}]
    assert await WorkItemOutbox.select(WorkItemOutbox.work_item) == [{"work_item": "44"}]
    counters = await WorkItemCounter.select().order_by(WorkItemCounter.tenant_id)
    assert [(c["tenant_id"], c["next_work_item_id"]) for c in counters] == [("ten1", 47), ("ten2", 2)]
    # The next standalone item comes after them.
    created = await PiccoloWorkItemRepo("ten1").create(WorkItemDraft("New", "Bug"), NOW)
    assert created.id == 47

    # A reinstall without the ledger runs the backfill again: it finds everything in place.
    await empty_engine.run_ddl("DELETE FROM stint_schema_migration")
    await upgrade(empty_engine)
    assert await WorkItemRow.count() == 7


# The contract: the same behaviour from the real repository and the fake. ------------------


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def repos(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[tuple[Any, Any]]:
    """(tenant one's repository, tenant two's) over the fake store or a migrated database."""
    if request.param == "fake":
        store = FakeDatabase()
        yield FakeWorkItemRepository(store, "ten1"), FakeWorkItemRepository(store, "ten2")
        return
    name = None
    if request.param == "sqlite":
        engine = await storage_engine.open_engine(f"sqlite:///{tmp_path / 'wi.sqlite3'}")
    else:
        from tests.support import databases

        name, url = databases.create_empty()
        engine = await storage_engine.open_engine(url, pool_size=2)
    storage_engine.bind(engine)
    await upgrade(engine)
    yield PiccoloWorkItemRepo("ten1"), PiccoloWorkItemRepo("ten2")
    await storage_engine.close(engine)
    if name:
        from tests.support import databases

        databases.drop(name)


def _item(item_id: int, title: str, **extra: Any) -> WorkItem:
    values: dict[str, Any] = {"type": "Task", "state": "Active", "state_category": StateCategory.IN_PROGRESS}
    values.update(extra)
    return WorkItem(id=item_id, title=title, changed_at=NOW, **values)


async def test_items_are_created_with_the_next_id_and_read_back_whole(repos: tuple[Any, Any]) -> None:
    one, two = repos
    repo: WorkItemRepository = one
    draft = WorkItemDraft(
        "Checkout", "User Story", state="Active", area_path="Shop\\Web",
        assigned_to=Assignee("Ann", "use1", "ann@acme.test"), original_estimate_h=Decimal("8.5"),
        remaining_h=Decimal("3.25"),
    )
    first = await repo.create(draft, NOW)
    second = await repo.create(WorkItemDraft("Pay", "Task", parent_id=first.id), NOW)
    assert (first.id, second.id) == (1, 2)
    assert await repo.get(first.id) == first
    assert first.state_category is StateCategory.IN_PROGRESS and first.remaining_h == Decimal("3.25")
    assert await repo.get(99) is None
    assert await two.get(first.id) is None  # the other tenant sees nothing
    assert (await two.create(WorkItemDraft("Theirs", "Bug"), NOW)).id == 1
    assert await repo.many([2, 1, 7]) == {1: first, 2: second}
    assert await repo.parents() == {1: None, 2: 1}
    # A mirrored item far ahead: the next standalone id goes past it.
    await repo.upsert([_item(500, "From DevOps")])
    assert (await repo.create(WorkItemDraft("After", "Task"), NOW)).id == 501


async def test_find_pages_by_id_filters_and_searches_title_and_id(repos: tuple[Any, Any]) -> None:
    repo, other = repos
    await repo.upsert([
        _item(3, "Login page", iteration_id=1, assigned_to=Assignee("Ann", "use1")),
        _item(1, "LOGIN API", type="Bug", state="New", state_category=StateCategory.PROPOSED),
        _item(12, "Logout", parent_id=3, assigned_to=Assignee("Outside Bob")),
        _item(7, "100% done_ish", parent_id=3, iteration_id=1),
        _item(30, "Issue 12 follow-up"),
    ])
    await other.upsert([_item(2, "Login elsewhere")])

    async def ids(where: WorkItemFilter = WorkItemFilter(), limit: int = 50) -> list[int]:
        return [item.id for item in (await repo.find(where, None, limit)).items]

    assert await ids() == [1, 3, 7, 12, 30]
    assert await ids(WorkItemFilter(search="login")) == [1, 3]
    assert await ids(WorkItemFilter(search="12")) == [12, 30]  # the id, and a title
    assert await ids(WorkItemFilter(search="100%")) == [7]
    assert await ids(WorkItemFilter(search="_")) == [7]  # LIKE's wildcards are plain text
    assert await ids(WorkItemFilter(type="Bug")) == [1]
    assert await ids(WorkItemFilter(state="Active", iteration_id=1)) == [3, 7]
    assert await ids(WorkItemFilter(assigned_to_user="use1")) == [3]
    assert await ids(WorkItemFilter(parent_id=3)) == [7, 12]

    page = await repo.find(WorkItemFilter(), None, 2)
    assert [i.id for i in page.items] == [1, 3] and page.next_cursor == "3"
    page = await repo.find(WorkItemFilter(), page.next_cursor, 2)
    assert [i.id for i in page.items] == [7, 12] and page.next_cursor == "12"
    page = await repo.find(WorkItemFilter(), page.next_cursor, 2)
    assert [i.id for i in page.items] == [30] and page.next_cursor is None
    with pytest.raises(ValueError):
        await repo.find(WorkItemFilter(), "abc", 2)


async def test_upsert_replaces_by_id_and_save_changes_one_item(repos: tuple[Any, Any]) -> None:
    repo, _ = repos
    await repo.upsert([_item(5, "Old", tags=("a", "b"))])
    await repo.upsert([_item(5, "New", rev=4, remaining_h=Decimal("1.5")), _item(6, "Six")])
    five = await repo.get(5)
    assert five is not None
    assert (five.title, five.rev, five.remaining_h, five.tags) == ("New", 4, Decimal("1.5"), ())
    from dataclasses import replace

    await repo.save(replace(five, title="Renamed", completed_h=Decimal("0.25")))
    saved = await repo.get(5)
    assert saved is not None and (saved.title, saved.completed_h) == ("Renamed", Decimal("0.25"))
    assert (await repo.get(6)) is not None


async def test_iterations_sync_state_and_tracked_seconds(repos: tuple[Any, Any], tmp_path: Any) -> None:
    repo, other = repos
    sprint2 = await repo.create_iteration("Shop\\Sprint 2", date(2026, 12, 14), date(2026, 12, 25), NOW)
    sprint1 = await repo.create_iteration("Shop\\Sprint 1", date(2026, 12, 1), date(2026, 12, 12), NOW)
    backlog = await repo.create_iteration("Shop", None, None, NOW)
    assert (sprint2.id, sprint1.id, backlog.id) == (1, 2, 3)
    assert await repo.iterations() == [sprint1, sprint2, backlog]
    assert await repo.iteration(2) == sprint1 and await other.iteration(2) is None
    await repo.upsert_iterations([Iteration(9, "Shop\\Sprint 9", external_id="guid-9")])
    assert await repo.iteration(9) == Iteration(9, "Shop\\Sprint 9", external_id="guid-9")
    assert (await repo.create_iteration("Next", None, None, NOW)).id == 10

    assert await repo.sync_state() == SyncState()
    state = SyncState(watermark=NOW, last_run_at=NOW, last_success_at=NOW, last_error=None, items_seen=12)
    await repo.save_sync_state(state)
    await repo.save_sync_state(state)
    assert await repo.sync_state() == state and await other.sync_state() == SyncState()

    if isinstance(repo, FakeWorkItemRepository):
        from core.tracking import Worklog, WorklogFlag

        for n, (item, length) in enumerate([("4", 600), ("4", 300), ("5", 60)]):
            repo._store.worklogs.setdefault("ten1", {})[f"wl{n}"] = Worklog(
                id=f"wl{n}", user_id="use1", started_at=NOW, length_s=length, billable_length_s=0,
                work_item=item, comment=None, activity_type=None, added_by="use1",
                flags=frozenset({WorklogFlag.MANUAL}),
            )
    else:
        for n, (item, length) in enumerate([("4", 600), ("4", 300), ("5", 60)]):
            await _worklog("ten1", f"wl{n}", item, length)
    assert await repo.tracked([4, 5, 6]) == {4: 900, 5: 60}
    assert await other.tracked([4, 5]) == {}


@ENGINES
async def test_simultaneous_standalone_creates_get_distinct_ids_in_one_sequence(
    empty_engine: Any,  # noqa: F811 - the fixture
) -> None:
    """Eight creates at once through the use case (each its own write unit of work): ids 1–8,
    none lost or doubled; the counter's row serialises them on PostgreSQL, the write lock on SQLite."""
    import asyncio

    from core.clock import FixedClock
    from core.services.planning import NewWorkItem, create_work_item
    from core.services.signup import signup
    from plugins.identity.passwords import Argon2Hasher
    from plugins.storage.devops_repo import PiccoloDevOpsConnections
    from plugins.storage.uow import PiccoloUnitOfWorkFactory

    await upgrade(empty_engine)
    uow = PiccoloUnitOfWorkFactory(empty_engine)
    clock = FixedClock(NOW)
    made = await signup(uow, Argon2Hasher(fast=True), clock, slug="acme", name="Acme", deployment="cloud",
                        admin_email="admin@acme.test", admin_password="correct horse battery",
                        admin_name="Admin", trial_days=28)
    views = await asyncio.gather(*(
        create_work_item(uow, clock, PiccoloDevOpsConnections(), tenant=made.tenant,
                         new=NewWorkItem(f"Item {n}", "Task"))
        for n in range(8)
    ))
    assert sorted(view.item.id for view in views) == list(range(1, 9))
    assert await WorkItemRow.count() == 8


async def test_the_longest_title_and_e_mail_are_stored_even_where_lower_casing_lengthens_them(
    repos: tuple[Any, Any],
) -> None:
    """255 × 'İ' lower-cases to 510 characters (the search column holds 255); an assignee's
    e-mail may have 320."""
    repo, _ = repos
    email = "a" * 64 + "@" + "b" * 251 + ".com"
    draft = WorkItemDraft("İ" * 255, "Task", assigned_to=Assignee("Ann", "use1", email))
    item = await repo.create(draft, NOW)
    stored = await repo.get(item.id)
    assert stored is not None and stored.title == "İ" * 255
    assert stored.assigned_to == Assignee("Ann", "use1", email)
