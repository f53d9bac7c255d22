"""The timesheet: the week grid and the monthly calendar, in the user's zone, Monday first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org
from tests.support.api import api_client


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield make_org(client)


def _add(org: Org, started_at: str, length_s: int, work_item: str | None = None) -> None:
    if work_item is not None:
        org.work_items(work_item)  # a worklog names an item of the mirror
    body = {"started_at": started_at, "length_s": length_s, "work_item": work_item}
    assert org.client.post("/api/v1/worklogs", json=body, headers=org.admin).status_code == 201


def test_the_week_grid_totals_each_day_work_item_and_the_week(org: Org) -> None:
    """Two items over Monday and Wednesday, one untitled row last; every total adds up."""
    _add(org, "2026-01-05T09:00:00Z", 3600, "42")
    _add(org, "2026-01-05T13:00:00Z", 1800, "7")
    _add(org, "2026-01-07T09:00:00Z", 900, "42")
    _add(org, "2026-01-11T22:00:00Z", 600)
    _add(org, "2026-01-12T09:00:00Z", 999, "42")  # next week: not shown

    sheet = org.client.get("/api/v1/timesheet?week=2026-W02", headers=org.admin).json()

    assert sheet["days"][0] == "2026-01-05" and sheet["days"][6] == "2026-01-11"
    assert [(r["work_item"], r["days_s"], r["total_s"]) for r in sheet["rows"]] == [
        ("42", [3600, 0, 900, 0, 0, 0, 0], 4500),
        ("7", [1800, 0, 0, 0, 0, 0, 0], 1800),
        (None, [0, 0, 0, 0, 0, 0, 600], 600),
    ]
    assert [r["work_item_title"] for r in sheet["rows"]] == ["Work item 42", "Work item 7", None]
    assert sheet["day_totals_s"] == [5400, 0, 900, 0, 0, 0, 600]
    assert sheet["total_s"] == 6900
    assert (sheet["status"], sheet["locked"]) == ("open", False)


def test_a_worklog_counts_on_its_start_day_in_the_users_own_zone(org: Org) -> None:
    """22:30 UTC on Sunday is Monday 07:30 in Tokyo: it moves into the next week's Monday."""
    _add(org, "2026-01-11T22:30:00Z", 3600, "1")
    utc_week = org.client.get("/api/v1/timesheet?week=2026-W02", headers=org.admin).json()
    assert utc_week["day_totals_s"][6] == 3600

    org.client.put("/api/v1/tracking/preferences", json={"time_zone": "Asia/Tokyo"}, headers=org.admin)
    tokyo = org.client.get("/api/v1/timesheet?week=2026-W03", headers=org.admin).json()

    assert tokyo["time_zone"] == "Asia/Tokyo"
    assert tokyo["day_totals_s"][0] == 3600
    assert org.client.get("/api/v1/timesheet?week=2026-W02", headers=org.admin).json()["total_s"] == 0


def test_the_monthly_view_is_whole_monday_weeks_with_the_months_total(org: Org) -> None:
    """January 2026 starts on a Thursday: the first line begins Monday 29 December."""
    _add(org, "2025-12-30T09:00:00Z", 7200)
    _add(org, "2026-01-02T09:00:00Z", 3600)
    _add(org, "2026-01-31T09:00:00Z", 1800)

    month = org.client.get("/api/v1/timesheet?month=2026-01", headers=org.admin).json()

    first = month["weeks"][0]
    assert first["week"] == "2026-W01"
    assert first["days"][0] == {"day": "2025-12-29", "in_month": False, "total_s": 0}
    assert first["days"][1]["total_s"] == 7200  # shown, but not counted in January
    assert first["total_s"] == 3600
    assert month["total_s"] == 5400
    assert {w["status"] for w in month["weeks"]} == {"open"}


def test_week_statuses_show_in_the_monthly_view(org: Org) -> None:
    """A submitted week says so in the month it belongs to."""
    assert org.client.post("/api/v1/weeks/2026-W03/submit", headers=org.admin).status_code == 200
    month = org.client.get("/api/v1/timesheet?month=2026-01", headers=org.admin).json()
    assert {w["week"]: w["status"] for w in month["weeks"]}["2026-W03"] == "submitted"


@pytest.mark.parametrize("query", ["week=2026-W54", "week=last", "month=2026-13", "month=jan"])
def test_a_bad_week_or_month_is_a_422(org: Org, query: str) -> None:
    """Malformed or impossible weeks and months are refused as input, never a 500."""
    response = org.client.get(f"/api/v1/timesheet?{query}", headers=org.admin)
    assert response.status_code == 422, response.text


def test_a_team_user_cannot_see_someone_elses_timesheet(org: Org) -> None:
    """?user= of another needs a role that sees everyone's worklogs or the approval-manager flag."""
    ann, _ = org.add_user("ann")
    response = org.client.get(f"/api/v1/timesheet?week=2026-W02&user={org.admin_id}", headers=ann)
    assert response.status_code == 403
    assert org.client.get(f"/api/v1/worklogs?user={org.admin_id}", headers=ann).status_code == 403


def test_one_tenant_never_sees_or_changes_anothers_worklogs(org: Org) -> None:
    """A worklog id from acme is not found for globex, for reading, editing or deleting."""
    _add(org, "2026-01-05T09:00:00Z", 3600, "1")
    (worklog,) = org.client.get("/api/v1/worklogs", headers=org.admin).json()["items"]
    globex = make_org(org.client, "globex")

    empty = {"items": [], "next_cursor": None}
    assert org.client.get("/api/v1/worklogs", headers=globex.admin).json() == empty
    assert org.client.get(f"/api/v1/worklogs?user={org.admin_id}", headers=globex.admin).json() == empty
    assert org.client.patch(f"/api/v1/worklogs/{worklog['id']}", json={"comment": "x"},
                            headers=globex.admin).status_code == 404
    assert org.client.delete(f"/api/v1/worklogs/{worklog['id']}", headers=globex.admin).status_code == 404
    export = org.client.get("/api/v1/worklogs/export?all=true", headers=globex.admin)
    assert export.content.decode("utf-8-sig").count("\n") == 1  # the header only


@pytest.mark.parametrize(
    ("query", "field"),
    [("week=0001-W01", "week"), ("week=9999-W52", "week"), ("week=1969-W52", "week"),
     ("month=9999-12", "month"), ("month=0001-01", "month"), ("month=3000-01", "month")],
)
def test_refuses_weeks_and_months_outside_1970_to_2999_naming_the_field(
    org: Org, query: str, field: str
) -> None:
    """Weeks and months at the calendar's edges were 500s (OverflowError): 422 with the range."""
    response = org.client.get(f"/api/v1/timesheet?{query}", headers=org.admin)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"][0]["field"] == field
    assert "dates must lie between 1970-01-01 and 2999-12-31" in problem["detail"]


def test_refuses_submitting_a_week_outside_the_range(org: Org) -> None:
    """The approval routes read the week the same way."""
    response = org.client.post("/api/v1/weeks/9999-W52/submit", headers=org.admin)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "week"


def test_the_first_and_last_accepted_weeks_and_months_are_shown(org: Org) -> None:
    """1970-W01, 1970-01 and 2999-12 are inside the range and answer 200."""
    for query in ("week=1970-W01", "month=1970-01", "month=2999-12"):
        assert org.client.get(f"/api/v1/timesheet?{query}", headers=org.admin).status_code == 200, query


@pytest.mark.parametrize("query", ["week=2026-W02", "month=2026-01"])
def test_a_timesheet_of_an_unknown_or_foreign_user_is_404_user_not_found_alike(org: Org, query: str) -> None:
    """?user= of no one, or of another tenant's user, answered 200 with an empty grid; both are now
    the same 404 user_not_found, so a foreign id reveals nothing."""
    globex = make_org(org.client, "globex")
    answers = [
        org.client.get(f"/api/v1/timesheet?{query}&user={user}", headers=org.admin)
        for user in ("no-such-user", globex.admin_id)
    ]
    for response in answers:
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["code"] == "user_not_found"
    _, ann_id = org.add_user("ann")
    assert org.client.get(f"/api/v1/timesheet?{query}&user={ann_id}", headers=org.admin).status_code == 200
