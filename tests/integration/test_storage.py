"""Storage on both engines: install, reinstall and upgrade never lose data (SPEC §3)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from plugins.storage import engine as storage_engine
from plugins.storage.migrations import MIGRATIONS, applied_migrations, upgrade
from plugins.storage.tables import ALL_TABLES, Enterprise, Person, Subscription, Tenant

NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


async def columns_of(engine: Any) -> dict[str, set[str]]:
    """Every table's columns as the database itself reports them."""
    if engine.engine_type == "sqlite":
        tables = await engine.run_ddl("SELECT name FROM sqlite_master WHERE type = 'table'")
        found = {}
        for row in tables:
            info = await engine.run_ddl(f"PRAGMA table_info('{row['name']}')")
            found[row["name"]] = {col["name"] for col in info}
        return found
    rows = await engine.run_ddl(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
    )
    found = {}
    for row in rows:
        found.setdefault(row["table_name"], set()).add(row["column_name"])
    return found


@pytest.fixture
async def empty_engine(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    """A brand-new, empty database of the parametrised kind (no migrations applied)."""
    if request.param == "sqlite":
        engine = await storage_engine.open_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        name = None
    else:
        from tests.support import databases

        name, url = databases.create_empty()
        engine = await storage_engine.open_engine(url, pool_size=2)
    storage_engine.bind(engine)
    yield engine
    await storage_engine.close(engine)
    if name:
        from tests.support import databases

        databases.drop(name)


async def _old_tenant() -> None:
    """A tenant row as the first schema holds it: ``Tenant.insert`` would name every column
    the current table has, some of which a later migration adds."""
    await Tenant.raw(
        "INSERT INTO tenant (id, slug, name, deployment, enterprise_id, subscription_id, created_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {})",
        "ten1", "acme", "Acme", "cloud", "ent1", "sub1", NOW,
    )


ENGINES = pytest.mark.parametrize(
    "empty_engine", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@ENGINES
async def test_upgrading_twice_changes_nothing_the_second_time(empty_engine: Any) -> None:
    """The first run applies every migration; the second applies none and the schema is identical."""
    assert await upgrade(empty_engine) == [m.ID for m in MIGRATIONS]
    before = await columns_of(empty_engine)
    assert await upgrade(empty_engine) == []
    assert await columns_of(empty_engine) == before
    assert await applied_migrations(empty_engine) == [m.ID for m in MIGRATIONS]


@ENGINES
async def test_an_older_schema_is_upgraded_in_place_keeping_its_rows(empty_engine: Any) -> None:
    """Built at the first migration, filled with rows, upgraded: every row is still there."""
    first = MIGRATIONS[0].ID
    assert await upgrade(empty_engine, target=first) == [first]
    await Enterprise.insert(Enterprise(id="ent1", name="Acme Group", created_at=NOW))
    await Subscription.insert(
        Subscription(
            id="sub1",
            enterprise_id="ent1",
            plan_id="team",
            status="trialing",
            trial_ends_on=date(2026, 1, 29),
            created_at=NOW,
            updated_at=NOW,
        )
    )
    await _old_tenant()
    await Person.insert(Person(id="per1", email="ann@acme.test", name="Ann", created_at=NOW))

    applied = await upgrade(empty_engine)

    assert applied == [m.ID for m in MIGRATIONS[1:]]
    assert await Tenant.select(Tenant.slug, Tenant.subscription_id) == [
        {"slug": "acme", "subscription_id": "sub1"}
    ]
    # Added by 0015: an existing tenant does not require a second factor.
    [flag] = await Tenant.select(Tenant.require_second_factor)
    assert not flag["require_second_factor"]
    sub = await Subscription.select(Subscription.status, Subscription.trial_ends_on).first()
    assert sub == {"status": "trialing", "trial_ends_on": date(2026, 1, 29)}
    assert await Person.count() == 1 and await Enterprise.count() == 1


@ENGINES
async def test_the_table_classes_match_the_migrated_schema_column_for_column(empty_engine: Any) -> None:
    """What the repositories read and write is exactly what the migrations created."""
    await upgrade(empty_engine)
    in_database = await columns_of(empty_engine)
    for table in ALL_TABLES:
        expected = {column._meta.db_column_name for column in table._meta.columns}
        assert in_database[table._meta.tablename] == expected, table._meta.tablename


@ENGINES
async def test_reinstalling_over_an_existing_database_leaves_it_alone(empty_engine: Any) -> None:
    """Installing again where Stint's tables already exist (even without the ledger) keeps the data."""
    await upgrade(empty_engine)
    await Enterprise.insert(Enterprise(id="ent1", name="Kept", created_at=NOW))
    await empty_engine.run_ddl("DELETE FROM stint_schema_migration")
    assert await upgrade(empty_engine) == [m.ID for m in MIGRATIONS]
    assert await Enterprise.select(Enterprise.name) == [{"name": "Kept"}]


@ENGINES
async def test_credit_entries_read_back_in_the_order_written_even_in_one_instant(empty_engine: Any) -> None:
    """Credit added then used at the same instant never reads back as used-before-added."""
    from core.proration.credit import CreditLedger
    from plugins.storage.billing_repo import InvoiceRepo

    await upgrade(empty_engine)
    await Enterprise.insert(Enterprise(id="ent1", name="Acme", created_at=NOW))
    await Subscription.insert(
        Subscription(
            id="sub1",
            enterprise_id="ent1",
            plan_id="team",
            status="trialing",
            trial_ends_on=date(2026, 1, 29),
            created_at=NOW,
            updated_at=NOW,
        )
    )
    class BillingAccount:
        # The account's subscription is known here; the tenant row is not what is tested.
        tenant_id = "ten1"

        async def subscription_id(self) -> str:
            return "sub1"

    repo = InvoiceRepo(BillingAccount())
    ledger = CreditLedger()
    for n in range(1, 30):
        before = ledger
        ledger = ledger.add_credit(n * 100, "credit", f"c{n}", date(2026, 1, 1))
        _, ledger = ledger.apply_to(n * 100 - 1, reference=f"i{n}", on=date(2026, 1, 1))
        await repo.save_ledger(before, ledger, NOW)
    assert await repo.ledger() == ledger
    assert (await repo.ledger()).balance == 29


@ENGINES
async def test_a_credit_note_lowers_its_invoice_in_one_guarded_statement_and_reads_back(
    empty_engine: Any,
) -> None:
    """Stored, read back with the invoice (list, get, unpaid_in), the amount due lowered; a note on a
    paid invoice, or larger than what is due, is a Conflict and writes nothing."""
    from fractions import Fraction

    from core.errors import Conflict
    from core.periods import Interval, first_period
    from core.proration import CREDIT_NOTE_REASON, CreditLedger, CreditNote, Terms, purchase_invoice
    from plugins.storage.billing_repo import InvoiceRepo

    await upgrade(empty_engine)
    await Enterprise.insert(Enterprise(id="ent1", name="Acme", created_at=NOW))
    await Subscription.insert(
        Subscription(id="sub1", enterprise_id="ent1", plan_id="team", status="active",
                     trial_ends_on=date(2026, 1, 29), created_at=NOW, updated_at=NOW)
    )
    await Tenant.insert(
        Tenant(id="ten1", slug="acme", name="Acme", deployment="cloud", enterprise_id="ent1",
               subscription_id="sub1", created_at=NOW)
    )

    class BillingAccount:
        tenant_id = "ten1"

        async def subscription_id(self) -> str:
            return "sub1"

    repo = InvoiceRepo(BillingAccount())
    year = first_period(date(2026, 1, 1), Interval.ANNUAL)
    invoice, _ = purchase_invoice("inv1", Terms("team", Interval.ANNUAL, 10, 14_400), year, CreditLedger())
    assert await repo.add(invoice, kind="purchase", idempotency_key="k1", at=NOW)

    def note(id: str, amount: int) -> CreditNote:
        return CreditNote(id, "inv1", amount, CREDIT_NOTE_REASON, "Team annual 10 → 5 seats", year.start,
                          365, 365, Fraction(-72_000), "USD")

    with pytest.raises(Conflict):
        await repo.add_credit_note(note("too-much", 144_001), reference="chg0", at=NOW)
    await repo.add_credit_note(note("cn1", 72_000), reference="chg1", at=NOW)
    stored = await repo.get("inv1")
    assert stored is not None
    assert (stored.invoice.total, stored.invoice.amount_due) == (144_000, 72_000)
    assert stored.invoice.status == "due"
    assert stored.invoice.credit_notes == (note("cn1", 72_000),)
    assert [listed.invoice for listed in await repo.list()] == [stored.invoice]
    assert await repo.unpaid_in(year.start, year.end) == [stored.invoice]
    assert await repo.unpaid_in(year.end, date(2028, 1, 1)) == []

    await repo.add_credit_note(note("cn2", 72_000), reference="chg2", at=NOW)
    settled = await repo.get("inv1")
    assert settled is not None and (settled.invoice.amount_due, settled.invoice.status) == (0, "paid")
    assert await repo.unpaid_in(year.start, year.end) == []
    with pytest.raises(Conflict):
        await repo.add_credit_note(note("cn3", 1), reference="chg3", at=NOW)
    final = await repo.get("inv1")
    assert final is not None and [n.id for n in final.invoice.credit_notes] == ["cn1", "cn2"]


@ENGINES
async def test_a_schema_from_before_devops_connections_is_upgraded_in_place(empty_engine: Any) -> None:
    """Built up to 0006 with a tenant and a worklog: 0007 adds the (empty) connection table,
    every tenant stays standalone and the rows are still there."""
    from plugins.storage.devops_repo import PiccoloDevOpsConnections
    from plugins.storage.tracking_tables import WorklogRow

    assert await upgrade(empty_engine, target="0006") == [m.ID for m in MIGRATIONS if m.ID <= "0006"]
    await Enterprise.insert(Enterprise(id="ent1", name="Acme Group", created_at=NOW))
    await Subscription.insert(
        Subscription(id="sub1", enterprise_id="ent1", plan_id="team", status="trialing",
                     trial_ends_on=date(2026, 1, 29), created_at=NOW, updated_at=NOW)
    )
    await _old_tenant()
    # Raw: ``WorklogRow.insert`` would name columns later migrations add (0017's activity_type_id).
    await WorklogRow.raw(
        "INSERT INTO worklog (id, tenant_id, user_id, started_at, length_s, billable_length_s, "
        "added_by, flags, owner_edited, created_at, updated_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        "wl1", "ten1", "use1", NOW, 3600, 3600, "use1", "manual", False, NOW, NOW,
    )
    assert "devops_connection" not in await columns_of(empty_engine)

    applied = await upgrade(empty_engine)

    assert applied[0] == "0007" and applied == [m.ID for m in MIGRATIONS if m.ID > "0006"]
    assert await Tenant.select(Tenant.slug) == [{"slug": "acme"}]
    assert await WorklogRow.select(WorklogRow.id, WorklogRow.length_s) == [{"id": "wl1", "length_s": 3600}]
    assert await PiccoloDevOpsConnections().load("ten1") is None
    assert await PiccoloDevOpsConnections().connected() == {}


@pytest.mark.postgres
def test_databases_an_interrupted_test_run_left_behind_are_dropped_and_live_runs_kept(
    postgres_url: str,
) -> None:
    """A killed run cannot drop its databases; the next run drops the ones whose creating
    process is gone, and never one a live run (this one) is using."""
    import subprocess
    import sys

    from tests.support import databases

    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    dead = f"stint_test_{int(finished.stdout)}_0a1b2c3d4e5f"
    databases._run(databases._admin(f'CREATE DATABASE "{dead}"'))
    live, _ = databases.create_empty()
    try:
        dropped = databases.drop_orphans()
        assert dead in dropped and live not in dropped
        assert postgres_url.rsplit("/", 1)[1] not in dropped  # this test's own database stays
    finally:
        databases.drop(dead)
        databases.drop(live)


@ENGINES
async def test_a_migration_whose_description_has_a_quote_is_applied_and_recorded_as_written(
    empty_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Descriptions are prose ("the tenant's rule"); the ledger records them as written."""
    import types

    from plugins.storage import migrations

    quoted = types.SimpleNamespace(ID="9999", DESCRIPTION="the tenant's rule; O'Brien's -- not SQL",
                                   STATEMENTS=["CREATE TABLE quote_probe (id INTEGER)"])
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, quoted))
    assert (await migrations.upgrade(empty_engine))[-1] == "9999"
    rows = await empty_engine.run_ddl("SELECT description FROM stint_schema_migration WHERE id = '9999'")
    assert [row["description"] for row in rows] == [quoted.DESCRIPTION]
