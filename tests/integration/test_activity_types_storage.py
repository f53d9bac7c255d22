"""Activity types and rates in storage, on both engines: the m0017 backfill of existing
worklogs, renames reaching every worklog, and the one rate currency per tenant."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from core.activities import DEFAULT_CATALOGUE, ActivityType
from core.money import Money
from plugins.storage.activities_repo import PiccoloActivityTypeRepo, PiccoloRateRepo
from plugins.storage.activities_tables import ActivityTypeRow
from plugins.storage.migrations import MIGRATIONS, upgrade
from plugins.storage.tables import Enterprise, Subscription, Tenant
from plugins.storage.tracking_repo import PiccoloTrackingRepo
from plugins.storage.tracking_tables import WorklogRow

from . import test_storage
from .test_storage import ENGINES

#: The fresh database of either engine that test_storage's tests take.
empty_engine = test_storage.empty_engine

NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


async def _tenant(tenant_id: str, slug: str) -> None:
    await Tenant.raw(
        "INSERT INTO tenant (id, slug, name, deployment, enterprise_id, subscription_id, created_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {})",
        tenant_id, slug, slug.title(), "cloud", "ent1", "sub1", NOW,
    )


async def _worklog(worklog_id: str, tenant_id: str, activity_type: str | None) -> None:
    await WorklogRow.raw(
        "INSERT INTO worklog (id, tenant_id, user_id, started_at, length_s, billable_length_s, "
        "activity_type, added_by, flags, owner_edited, created_at, updated_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        worklog_id, tenant_id, "use1", NOW, 3600, 0, activity_type, "use1", "manual", False, NOW, NOW,
    )


async def _before_0017(engine: Any) -> None:
    before = [m.ID for m in MIGRATIONS if m.ID < "0017"]
    assert await upgrade(engine, target=before[-1]) == before
    await _account()


async def _account() -> None:
    await Enterprise.insert(Enterprise(id="ent1", name="Acme Group", created_at=NOW))
    await Subscription.insert(
        Subscription(id="sub1", enterprise_id="ent1", plan_id="team", status="active",
                     trial_ends_on=date(2026, 1, 29), created_at=NOW, updated_at=NOW)
    )


@ENGINES
async def test_free_text_activity_types_become_one_catalogue_entry_per_name_ignoring_case(
    empty_engine: Any,
) -> None:
    """'Review', 'review ' and 'REVIEW' merge into one entry named after the most used spelling;
    'testing' joins the default 'Testing'; the other tenant's names stay its own."""
    await _before_0017(empty_engine)
    await _tenant("ten1", "acme")
    await _tenant("ten2", "globex")
    for n, name in enumerate(["Review", "review ", "Review", "REVIEW", "testing", None]):
        await _worklog(f"a{n}", "ten1", name)
    await _worklog("b0", "ten2", "Review")

    assert "0017" in await upgrade(empty_engine)

    acme = {e.name: e for e in await PiccoloActivityTypeRepo("ten1").all()}
    defaults = {name for name, _, _ in DEFAULT_CATALOGUE}
    assert set(acme) == defaults | {"Review"}
    assert acme["Development"].billable_by_default and not acme["Meeting"].billable_by_default
    worklogs = {w.id: w for w in await PiccoloTrackingRepo(empty_engine, "ten1").worklogs()}
    for n in range(4):
        assert (worklogs[f"a{n}"].activity_type, worklogs[f"a{n}"].activity_type_id) == (
            "Review", acme["Review"].id,
        )
    assert (worklogs["a4"].activity_type, worklogs["a4"].activity_type_id) == ("Testing", acme["Testing"].id)
    assert (worklogs["a5"].activity_type, worklogs["a5"].activity_type_id) == (None, None)

    globex = {e.name: e for e in await PiccoloActivityTypeRepo("ten2").all()}
    [other] = await PiccoloTrackingRepo(empty_engine, "ten2").worklogs()
    assert other.activity_type_id == globex["Review"].id != acme["Review"].id


@ENGINES
async def test_running_the_backfill_again_adds_nothing(empty_engine: Any) -> None:
    """A reinstall over the data (ledger lost) finds every entry there and changes nothing."""
    await _before_0017(empty_engine)
    await _tenant("ten1", "acme")
    await _worklog("a0", "ten1", "Review")
    await upgrade(empty_engine)
    before = await ActivityTypeRow.select().order_by(ActivityTypeRow.id)
    await empty_engine.run_ddl("DELETE FROM stint_schema_migration")
    await upgrade(empty_engine)
    assert await ActivityTypeRow.select().order_by(ActivityTypeRow.id) == before


@ENGINES
async def test_a_rename_reaches_every_worklog_and_the_currency_is_fixed_once(empty_engine: Any) -> None:
    await upgrade(empty_engine)
    await _account()
    await _tenant("ten1", "acme")
    repo = PiccoloActivityTypeRepo("ten1")
    await repo.add([ActivityType(id="at1", name="Review")])
    await _worklog("w1", "ten1", "Review")
    await WorklogRow.update({WorklogRow.activity_type_id: "at1"}).where(WorklogRow.id == "w1")

    await repo.save(ActivityType(id="at1", name="Code review", hourly_rate=Money(9000, "EUR")))

    [worklog] = await PiccoloTrackingRepo(empty_engine, "ten1").worklogs()
    assert (worklog.activity_type, worklog.activity_type_id) == ("Code review", "at1")
    renamed = ActivityType(id="at1", name="Code review", hourly_rate=Money(9000, "EUR"))
    assert await repo.get("at1") == renamed
    assert await PiccoloActivityTypeRepo("ten2").get("at1") is None

    rates = PiccoloRateRepo("ten1")
    assert await rates.currency() is None
    assert await rates.fix_currency("EUR") == "EUR"
    assert await rates.fix_currency("USD") == "EUR"
    await rates.set_user_rate("use1", Money(5000, "EUR"))
    await rates.set_user_rate("use1", Money(6000, "EUR"))
    assert await rates.user_rates() == {"use1": Money(6000, "EUR")}
    assert await PiccoloRateRepo("ten2").user_rates() == {}
    await rates.set_user_rate("use1", None)
    assert await rates.user_rate("use1") is None
