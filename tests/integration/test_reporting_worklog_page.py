"""A workLogs page that names only the worklog's own columns is read by the index alone and
completed in Python (``plugins/reporting/worklog_completion.py``); any other query joins the
same values in SQL (``sources.py``'s ``_worklogs``). The two give the same rows, value for
value: activity type names, budgets by the resolution rule, amounts and currencies by the
rates rule, approval states by the user's week windows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.clock import FixedClock
from tests.integration.reporting_support import ODATA, Seeded, every_row, odata, ok, seeded_world, sql


@pytest.fixture
def world(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Seeded]:
    with seeded_world(database_url, tmp_path, clock) as seeded:
        yield seeded


#: Names a derived property, so the page is joined in SQL; every row meets it (``ne`` is
#: IS DISTINCT FROM: a worklog without an activity type meets it too).
_JOINED = "ActivityTypeName ne '~'"


_SOME = "Id,Amount,ApprovalState,BudgetId,BudgetAssignmentType,WorkItemId,Currency"


@pytest.mark.parametrize("select", ["", _SOME])
def test_the_index_page_gives_what_the_joined_page_gives(world: Seeded, select: str) -> None:
    s, c = world, world.client
    tenant = sql(c, "SELECT tenant_id FROM tenant_user WHERE id = {}", s.users["admin"])[0]["tenant_id"]
    ok(c.post("/api/v1/weeks/2026-W02/submit", headers=s.headers["tina"]))
    # A work item that is no mirror id, one that is (with leading zeros), a worklog without an
    # activity type: the derived values' edge cases.
    sql(c, "UPDATE worklog SET work_item = {} WHERE id = {}", "not a number", s.worklogs[0]["id"])
    padded = "0" + str(s.worklogs[1]["work_item"])
    sql(c, "UPDATE worklog SET work_item = {} WHERE id = {}", padded, s.worklogs[1]["id"])
    sql(c, "UPDATE worklog SET activity_type_id = NULL WHERE id = {}", s.worklogs[4]["id"])
    options = {"$select": select} if select else {}
    for round_ in ("as seeded", "without", "with"):
        if round_ == "without":
            sql(c, "DELETE FROM rate_setting WHERE tenant_id = {}", tenant)
        if round_ == "with":
            # The tenant's rate currency wins over every other one.
            sql(c, "INSERT INTO rate_setting (tenant_id, currency, updated_at) VALUES ({}, 'EUR', {})",
                tenant, datetime(2026, 1, 1, tzinfo=UTC))
        for headers in (s.headers["admin"], s.headers["tina"]):
            index = every_row(c, headers, "workLogs", page_size=7, **options)
            joined = every_row(c, headers, "workLogs", page_size=7, **options, **{"$filter": _JOINED})
            assert index == joined and index, round_
        everyone = every_row(c, s.headers["admin"], "workLogs", page_size=7, **options)
        assert {"submitted", "open"} <= {r["ApprovalState"] for r in everyone}
        assert {"DirectlyAssigned", "NoBudget"} <= {r["BudgetAssignmentType"] for r in everyone}
        assert {None} < {r["Amount"] for r in everyone}


def test_the_index_page_places_worklogs_in_weeks_by_the_users_and_the_tenants_zones(world: Seeded) -> None:
    """A week's window is the user's own zone's, else the tenant's: the index page reads both
    with its rows (only when some week has a status) and gives what the joined page gives."""
    s, c = world, world.client
    tina = s.users["tina"]
    tenant = sql(c, "SELECT tenant_id FROM tenant_user WHERE id = {}", tina)[0]["tenant_id"]
    mine = [w["id"] for w in s.worklogs if w["user"] == "tina"]
    # Sunday evening of 2026-W02 in UTC, Monday of W03 at UTC+14; Sunday noon of W01 in UTC,
    # Monday of W02 at UTC+14.
    late, early = mine[1], mine[2]
    sql(c, "UPDATE worklog SET started_at = {} WHERE id = {}", datetime(2026, 1, 11, 20, tzinfo=UTC), late)
    sql(c, "UPDATE worklog SET started_at = {} WHERE id = {}", datetime(2026, 1, 4, 12, tzinfo=UTC), early)
    ok(c.post("/api/v1/weeks/2026-W02/submit", headers=s.headers["tina"]))

    def states() -> dict[str, str]:
        index = every_row(c, s.headers["admin"], "workLogs", page_size=7)
        joined = every_row(c, s.headers["admin"], "workLogs", page_size=7, **{"$filter": _JOINED})
        assert index == joined and index
        return {r["Id"]: r["ApprovalState"] for r in index}

    assert (states()[late], states()[early]) == ("submitted", "open")  # both zones UTC
    sql(c, "UPDATE tenant SET time_zone = {} WHERE id = {}", "Pacific/Kiritimati", tenant)
    assert (states()[late], states()[early]) == ("open", "submitted")  # the tenant's zone
    sql(c, "INSERT INTO tracking_preference (id, tenant_id, user_id, time_zone, mail_on_system_stop, "
           "updated_at) VALUES ({}, {}, {}, {}, false, {})",
        "pref-tina", tenant, tina, "UTC", datetime(2026, 1, 1, tzinfo=UTC))
    assert (states()[late], states()[early]) == ("submitted", "open")  # her own zone wins


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_worklog_page_over_the_timeout_is_refused_with_400_and_the_next_one_answers(world: Seeded) -> None:
    """The index page runs without a transaction (no SET LOCAL): asyncpg's timeout cancels
    its statements on the server; the pooled connection serves the next request."""
    s = world
    reporting = s.client.app.state.stint.reporting
    reporting.timeout_ms = 0.001
    answer = s.client.get(f"{ODATA}/workLogs", headers=s.headers["admin"])
    assert answer.status_code == 400, answer.text
    assert "took too long" in answer.json()["error"]["message"]
    reporting.timeout_ms = 15_000
    for _ in range(3):
        assert len(odata(s.client, s.headers["admin"], "workLogs")["value"]) == len(s.worklogs)
