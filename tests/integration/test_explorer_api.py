"""GET /api/v1/worklogs/all: everyone's worklogs for managers, filtered in SQL, paged by
cursor, and grouped with totals priced through core.rates (issue #17)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org
from tests.support.api import api_client

ALL = "/api/v1/worklogs/all"


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield make_org(client)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _iteration(org: Org, path: str) -> int:
    body = {"path": path, "start": "2026-01-05", "finish": "2026-01-18"}
    return int(_ok(org.client.post("/api/v1/iterations", json=body, headers=org.admin), 201)["id"])


def _item(org: Org, title: str, iteration_id: int | None = None) -> int:
    body: dict[str, Any] = {"title": title, "type": "Task"}
    if iteration_id is not None:
        body["iteration_id"] = iteration_id
    return int(_ok(org.client.post("/api/v1/work-items", json=body, headers=org.admin), 201)["id"])


def _activity(org: Org, name: str, rate_minor: int | None) -> str:
    body: dict[str, Any] = {"name": name}
    if rate_minor is not None:
        body["hourly_rate"] = {"amount": rate_minor, "currency": "USD"}
    return str(_ok(org.client.post("/api/v1/activity-types", json=body, headers=org.admin), 201)["id"])


def _log(org: Org, user_id: str, at: str, length_s: int, billable_s: int, **more: Any) -> dict[str, Any]:
    body = {"user_id": user_id, "started_at": at, "length_s": length_s, "billable_length_s": billable_s,
            **more}
    return dict(_ok(org.client.post("/api/v1/worklogs", json=body, headers=org.admin), 201))


def test_a_product_user_groups_everyones_worklogs_by_user_then_week_and_the_totals_match_a_hand_sum(
    org: Org,
) -> None:
    """Filtered by an iteration and an activity type, grouped by user then week: the
    tracked, billable and amount totals are those worked out by hand below, amounts summed
    from lines rounded once each; a Team user is refused with 403, an approval manager not."""
    product, _ = org.add_user("pat", role="product")
    team, tina = org.add_user("tina")
    _, umar = org.add_user("umar")
    manager, _ = org.add_user("mia", approval_manager=True)
    sprint, other_sprint = _iteration(org, "Shop\\Sprint 1"), _iteration(org, "Shop\\Sprint 2")
    a, b, c = _item(org, "Form", sprint), _item(org, "API", sprint), _item(org, "Later", other_sprint)
    dev = _activity(org, "Dev", 10_000)  # 100.00 USD an hour: wins over the users' rates
    meet = _activity(org, "Meet", None)
    rate = {"hourly_rate": {"amount": 6_000, "currency": "USD"}}
    _ok(org.client.put(f"/api/v1/user-rates/{tina}", json=rate, headers=org.admin))

    # Tina, week 2026-W02: three Dev lines of 1,000 billable seconds, each 2,777.78 cents
    # exactly → 2,778 rounded; the sum of the rounded lines is 8,334 (not round(8,333.33)).
    _log(org, tina, "2026-01-05T09:00:00Z", 3600, 1000, work_item=a, activity_type_id=dev)
    _log(org, tina, "2026-01-06T09:00:00Z", 1800, 1000, work_item=b, activity_type_id=dev)
    _log(org, tina, "2026-01-07T09:00:00Z", 3600, 1000, work_item=a, activity_type_id=dev)
    # Tina, week 2026-W03: two billable hours at 100.00 → 20,000.
    _log(org, tina, "2026-01-12T09:00:00Z", 7200, 7200, work_item=a, activity_type_id=dev)
    # Umar, week 2026-W02: an hour, nothing billable → 0.
    _log(org, umar, "2026-01-05T10:00:00Z", 3600, 0, work_item=b, activity_type_id=dev)
    # Left out: another activity type, another iteration, no work item at all.
    _log(org, tina, "2026-01-08T09:00:00Z", 3600, 3600, work_item=a, activity_type_id=meet)
    _log(org, tina, "2026-01-08T11:00:00Z", 3600, 3600, work_item=c, activity_type_id=dev)
    _log(org, umar, "2026-01-08T11:00:00Z", 3600, 3600, comment="support", activity_type_id=dev)

    params = {"iterations": str(sprint), "activity_types": dev, "group_by": "user,week"}
    groups = _ok(org.client.get(ALL, params=params, headers=product))["groups"]

    usd = "USD"
    expected_by_user = {
        tina: {"key": {"user_id": tina}, "tracked_s": 9000 + 7200, "billable_s": 3000 + 7200,
               "amount": {"amount": 8334 + 20_000, "currency": usd}, "groups": [
                   {"key": {"week": "2026-W02"}, "tracked_s": 9000, "billable_s": 3000,
                    "amount": {"amount": 8334, "currency": usd}, "groups": None},
                   {"key": {"week": "2026-W03"}, "tracked_s": 7200, "billable_s": 7200,
                    "amount": {"amount": 20_000, "currency": usd}, "groups": None},
               ]},
        umar: {"key": {"user_id": umar}, "tracked_s": 3600, "billable_s": 0,
               "amount": {"amount": 0, "currency": usd}, "groups": [
                   {"key": {"week": "2026-W02"}, "tracked_s": 3600, "billable_s": 0,
                    "amount": {"amount": 0, "currency": usd}, "groups": None},
               ]},
    }
    assert groups == [expected_by_user[user] for user in sorted(expected_by_user)]

    refused = org.client.get(ALL, params=params, headers=team)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert _ok(org.client.get(ALL, params=params, headers=manager))["groups"] == groups


def test_the_list_pages_through_everyones_filtered_worklogs_once_each_in_both_orders(org: Org) -> None:
    """Users, from/to as whole days (to inclusive), billable: the matching worklogs come
    once each over pages of two, oldest first, and newest first with sort=-started_at."""
    _, tina = org.add_user("tina")
    _, umar = org.add_user("umar")
    _, vera = org.add_user("vera")
    kept = [
        _log(org, tina, "2026-01-05T09:00:00Z", 600, 600, comment="a"),
        _log(org, umar, "2026-01-05T09:00:00Z", 600, 60, comment="b"),
        _log(org, tina, "2026-01-06T23:30:00Z", 600, 600, comment="c"),
        _log(org, umar, "2026-01-07T12:00:00Z", 600, 600, comment="d"),
        _log(org, tina, "2026-01-08T23:59:00Z", 600, 600, comment="e"),  # the last day, included
    ]
    _log(org, vera, "2026-01-06T09:00:00Z", 600, 600, comment="another user")
    _log(org, tina, "2026-01-06T10:00:00Z", 600, 0, comment="not billable")
    _log(org, tina, "2026-01-04T23:59:00Z", 600, 600, comment="the day before")
    _log(org, umar, "2026-01-09T00:00:00Z", 600, 600, comment="the day after")

    def walk(sort: str) -> list[str]:
        seen: list[str] = []
        cursor = ""
        for _ in range(10):
            params = {"users": f"{tina},{umar}", "from": "2026-01-05", "to": "2026-01-08",
                      "billable": "true", "sort": sort, "limit": 2, "cursor": cursor}
            page = _ok(org.client.get(ALL, params=params, headers=org.admin))
            seen += [str(item["comment"]) for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen
        raise AssertionError("the pages did not end")

    by_start = [w["comment"] for w in sorted(kept, key=lambda w: (w["started_at"], w["id"]))]
    assert walk("started_at") == by_start
    assert walk("-started_at") == by_start[::-1]


def test_the_budget_filter_takes_the_worklogs_that_resolve_to_the_budget(org: Org) -> None:
    """Through the work item's iteration, through the item, and directly; a worklog on the
    budget's item but assigned directly to another budget is left out."""
    sprint = _iteration(org, "Shop\\Sprint 1")
    in_sprint, assigned, loose = _item(org, "In sprint", sprint), _item(org, "Assigned"), _item(org, "Loose")
    budget = _ok(org.client.post("/api/v1/budgets", json={"name": "Retainer"}, headers=org.admin), 201)
    elsewhere = _ok(org.client.post("/api/v1/budgets", json={"name": "Other"}, headers=org.admin), 201)
    via_iteration = _log(org, org.admin_id, "2026-01-05T09:00:00Z", 600, 0, work_item=in_sprint)
    via_item = _log(org, org.admin_id, "2026-01-05T10:00:00Z", 600, 0, work_item=assigned)
    moved_away = _log(org, org.admin_id, "2026-01-05T11:00:00Z", 600, 0, work_item=assigned)
    direct = _log(org, org.admin_id, "2026-01-05T12:00:00Z", 600, 0, work_item=loose)
    _log(org, org.admin_id, "2026-01-05T13:00:00Z", 600, 0, work_item=loose)
    _log(org, org.admin_id, "2026-01-05T14:00:00Z", 600, 0, comment="no item")
    assign = f"/api/v1/budgets/{budget['id']}/assign"
    _ok(org.client.post(assign, json={"iterations": [sprint], "work_items": [assigned],
                                      "worklogs": [direct["id"]]}, headers=org.admin))
    _ok(org.client.post(f"/api/v1/budgets/{elsewhere['id']}/assign", json={"worklogs": [moved_away["id"]]},
                        headers=org.admin))

    items = _ok(org.client.get(ALL, params={"budgets": budget["id"]}, headers=org.admin))["items"]
    assert [w["id"] for w in items] == [via_iteration["id"], via_item["id"], direct["id"]]
    assert {w["budget"]["id"] for w in items} == {budget["id"]}


def test_the_approval_filter_takes_the_weeks_in_those_states_in_each_users_own_zone(org: Org) -> None:
    """Tina's week 2026-W02 is submitted, Umar's approved; Tina works in Tokyo, so her
    Sunday-evening UTC worklog lies in her next (open) week."""
    tina_headers, tina = org.add_user("tina")
    umar_headers, umar = org.add_user("umar")
    manager, _ = org.add_user("mia", approval_manager=True)
    tokyo = {"time_zone": "Asia/Tokyo"}
    _ok(org.client.put("/api/v1/tracking/preferences", json=tokyo, headers=tina_headers))
    submitted = _log(org, tina, "2026-01-06T09:00:00Z", 600, 0, comment="submitted")
    next_week = _log(org, tina, "2026-01-11T16:00:00Z", 600, 0, comment="Monday in Tokyo")
    approved = _log(org, umar, "2026-01-06T09:00:00Z", 600, 0, comment="approved")
    open_one = _log(org, umar, "2026-01-13T09:00:00Z", 600, 0, comment="open")
    _ok(org.client.post("/api/v1/weeks/2026-W02/submit", headers=tina_headers))
    _ok(org.client.post("/api/v1/weeks/2026-W02/submit", headers=umar_headers))
    _ok(org.client.post("/api/v1/weeks/2026-W02/approve", json={"user_id": umar}, headers=manager))

    def ids(states: str) -> list[str]:
        items = _ok(org.client.get(ALL, params={"approval": states}, headers=org.admin))["items"]
        return [str(w["comment"]) for w in items]

    assert ids("submitted") == [submitted["comment"]]
    # Both start at the same instant: their order is by id, which is random.
    assert sorted(ids("approved,submitted")) == sorted([submitted["comment"], approved["comment"]])
    assert ids("open") == [next_week["comment"], open_one["comment"]]
    assert ids("rejected") == []


@pytest.mark.parametrize(("params", "field"), [
    ({"approval": "pending"}, "approval"),
    ({"from": "2026-13-01"}, "from"),
    ({"to": "yesterday"}, "to"),
    ({"iterations": "1,x"}, "iterations"),
    ({"work_items": "-3"}, "work_items"),
    ({"group_by": "user,user"}, "group_by"),
    ({"group_by": "user,week,day"}, "group_by"),
    ({"group_by": "colour"}, "group_by"),
    ({"created_from": "2026-01-05T09:00:00"}, "created_from"),
])
def test_bad_filters_are_a_422_naming_the_parameter(org: Org, params: dict[str, str], field: str) -> None:
    response = org.client.get(ALL, params=params, headers=org.admin)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


def _exported(org: Org, headers: dict[str, str], **params: str) -> list[str]:
    """The comments of the exported CSV's rows, in file order."""
    response = org.client.get("/api/v1/worklogs/export", params=params, headers=headers)
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    return [row["Comment"] for row in rows]


def test_the_export_respects_from_and_to_and_takes_the_lists_filters(org: Org) -> None:
    """Issue #17's defect: the export ignored from/to and always sent the whole history.
    Dates are whole days in the caller's zone (to inclusive); date-times work too; the
    list's other filters apply as well; another user's rows need the export-all right."""
    team, tina = org.add_user("tina")
    _log(org, tina, "2026-01-04T12:00:00Z", 600, 0, comment="before")
    _log(org, tina, "2026-01-05T12:00:00Z", 600, 600, comment="first day")
    _log(org, tina, "2026-01-06T12:00:00Z", 600, 0, comment="second day")
    _log(org, tina, "2026-01-07T12:00:00Z", 600, 0, comment="after")
    _log(org, org.admin_id, "2026-01-05T13:00:00Z", 600, 0, comment="the admin's")

    assert _exported(org, team, **{"from": "2026-01-05", "to": "2026-01-06"}) == ["first day", "second day"]
    assert _exported(org, team, **{"from": "2026-01-05T12:00:01Z"}) == ["second day", "after"]
    assert _exported(org, org.admin, all="true", **{"from": "2026-01-05", "to": "2026-01-05"}) == [
        "first day", "the admin's"
    ]
    assert _exported(org, org.admin, users=tina, billable="true") == ["first day"]
    refused = org.client.get("/api/v1/worklogs/export", params={"users": org.admin_id}, headers=team)
    assert refused.status_code == 403, refused.text


def test_a_batch_delete_with_a_locked_or_missing_worklog_deletes_nothing_and_names_each(org: Org) -> None:
    """All or nothing: a missing id is 404, someone else's (for a Team user) 403, a worklog
    in an approved week 423 — each offending line named; without them all go at once."""
    team, tina = org.add_user("tina")
    manager, _ = org.add_user("mia", approval_manager=True)
    in_locked = _log(org, tina, "2026-01-06T09:00:00Z", 600, 0, comment="locked")
    free = [_log(org, tina, f"2026-01-1{n}T09:00:00Z", 600, 0, comment=f"free {n}") for n in (3, 4)]
    admins = _log(org, org.admin_id, "2026-01-13T10:00:00Z", 600, 0, comment="the admin's")
    _ok(org.client.post("/api/v1/weeks/2026-W02/submit", headers=team))
    _ok(org.client.post("/api/v1/weeks/2026-W02/approve", json={"user_id": tina}, headers=manager))
    batch = "/api/v1/worklogs/batch-delete"

    missing = org.client.post(batch, json={"ids": [free[0]["id"], "nope"]}, headers=org.admin)
    assert missing.status_code == 404, missing.text
    assert [(e["index"], e["id"], e["code"]) for e in missing.json()["errors"]] == [(1, "nope", "not_found")]
    foreign = org.client.post(batch, json={"ids": [free[0]["id"], admins["id"]]}, headers=team)
    assert foreign.status_code == 403, foreign.text
    assert [(e["index"], e["id"]) for e in foreign.json()["errors"]] == [(1, admins["id"])]
    locked = org.client.post(batch, json={"ids": [free[0]["id"], in_locked["id"], free[1]["id"]]},
                             headers=org.admin)
    assert locked.status_code == 423, locked.text
    assert [(e["index"], e["code"]) for e in locked.json()["errors"]] == [(1, "week_locked")]
    assert len(_ok(org.client.get(ALL, headers=org.admin))["items"]) == 4

    done = _ok(org.client.post(batch, json={"ids": [w["id"] for w in free]}, headers=team))
    assert done == {"deleted": 2}
    left = _ok(org.client.get(ALL, headers=org.admin))["items"]
    assert [w["comment"] for w in left] == ["locked", "the admin's"]


def test_created_and_edited_filters_read_when_a_worklog_was_stored_and_last_changed(
    org: Org, clock: FixedClock
) -> None:
    """created_from/created_to (a date: whole days, to included) and edited_since, on the
    stored created_at/updated_at — not on when the work was done."""
    _, tina = org.add_user("tina")
    # The clock starts 2026-01-01 09:00 UTC; the tokens last a day, so it moves by hours.
    early = _log(org, tina, "2026-01-05T09:00:00Z", 600, 0, comment="created on the 1st")
    clock.advance(hours=15)
    late = _log(org, tina, "2026-01-04T09:00:00Z", 600, 0, comment="created on the 2nd")
    clock.advance(hours=5)
    edited = org.client.patch(f"/api/v1/worklogs/{early['id']}", json={"comment": "edited on the 2nd"},
                              headers=org.admin)
    assert edited.status_code == 200, edited.text

    def comments(**params: str) -> list[str]:
        items = _ok(org.client.get(ALL, params=params, headers=org.admin))["items"]
        return [str(w["comment"]) for w in items]

    assert comments(created_from="2026-01-02") == [late["comment"]]
    assert comments(created_to="2026-01-01") == ["edited on the 2nd"]
    assert comments(edited_since="2026-01-02T04:00:00Z") == ["edited on the 2nd"]
    assert comments(edited_since="2026-01-02") == [late["comment"], "edited on the 2nd"]


def test_a_batch_of_a_thousand_with_two_rows_in_a_locked_week_adds_nothing_and_names_both(org: Org) -> None:
    """Issue #17 done-when 2 (its first half): 1,000 rows, two of them in an approved week →
    423 naming both by index, nothing stored; the same batch without them → 201, all stored
    in one go."""
    team, tina = org.add_user("tina")
    manager, _ = org.add_user("mia", approval_manager=True)
    _ok(org.client.post("/api/v1/weeks/2026-W02/submit", headers=team))
    _ok(org.client.post("/api/v1/weeks/2026-W02/approve", json={"user_id": tina}, headers=manager))
    rows = [{"user_id": tina, "started_at": f"2026-02-{1 + n % 28:02d}T{8 + n % 10:02d}:{n % 60:02d}:00Z",
             "length_s": 60, "comment": f"row {n}"} for n in range(1000)]
    rows[17]["started_at"] = "2026-01-06T09:00:00Z"
    rows[998]["started_at"] = "2026-01-07T09:00:00Z"
    batch = "/api/v1/worklogs/batch"

    refused = org.client.post(batch, json={"worklogs": rows}, headers=org.admin)
    assert refused.status_code == 423, refused.text
    named = [(e["index"], e["code"]) for e in refused.json()["errors"]]
    assert named == [(17, "week_locked"), (998, "week_locked")]
    assert _ok(org.client.get(ALL, headers=org.admin))["items"] == []

    bare = org.client.post(batch, json={"worklogs": [rows[0], {**rows[1], "user_id": "nobody"}]},
                           headers=org.admin)
    assert bare.status_code == 404, bare.text
    assert [(e["index"], e["code"]) for e in bare.json()["errors"]] == [(1, "not_found")]

    clean = [row for n, row in enumerate(rows) if n not in (17, 998)]
    made = _ok(org.client.post(batch, json={"worklogs": clean}, headers=org.admin), 201)
    assert len(made["ids"]) == 998
    listed = _ok(org.client.get(ALL, params={"users": tina, "group_by": "user"}, headers=org.admin))
    assert listed["groups"][0]["tracked_s"] == 998 * 60


def test_a_changed_rate_zone_or_budget_shows_in_the_very_next_grouping(org: Org) -> None:
    """The rate book and the caller's zone are kept between requests (docs/rates.md), and
    a tenant without budgets is summed without reading them; every change is in the next
    answer: a user's rate, an activity type's rate, the caller's zone, a budget assignment."""
    _, tina = org.add_user("tina")
    dev = _activity(org, "Dev", None)
    line = _log(org, tina, "2026-01-05T23:30:00Z", 3600, 1000)  # Monday 23:30 UTC

    def usd(minor: int) -> dict[str, Any]:
        return {"amount": minor, "currency": "USD"}

    def group() -> tuple[str, int]:
        [top] = _ok(org.client.get(ALL, params={"group_by": "user,day"}, headers=org.admin))["groups"]
        [day] = top["groups"]
        assert top["amount"] == day["amount"]
        return day["key"]["day"], day["amount"]["amount"]

    assert group() == ("2026-01-05", 0)  # no rate yet; the rate book is now cached
    _ok(org.client.put(f"/api/v1/user-rates/{tina}", json={"hourly_rate": usd(6_000)}, headers=org.admin))
    assert group() == ("2026-01-05", 1_667)  # 1,000 s at 60.00 an hour: 1,666.67 → 1,667
    _ok(org.client.put(f"/api/v1/user-rates/{tina}", json={"hourly_rate": usd(9_000)}, headers=org.admin))
    assert group() == ("2026-01-05", 2_500)
    _ok(org.client.patch(f"/api/v1/worklogs/{line['id']}", json={"activity_type_id": dev}, headers=org.admin))
    _ok(org.client.patch(f"/api/v1/activity-types/{dev}", json={"hourly_rate": usd(18_000)},
                         headers=org.admin))
    assert group() == ("2026-01-05", 5_000)  # the activity type's rate wins over the user's
    berlin = {"time_zone": "Europe/Berlin"}
    _ok(org.client.put("/api/v1/tracking/preferences", json=berlin, headers=org.admin))
    assert group() == ("2026-01-06", 5_000)  # 00:30 on Tuesday in Berlin
    budget = _ok(org.client.post("/api/v1/budgets", json={"name": "Retainer", "hourly_rate": usd(36_000)},
                                 headers=org.admin), 201)
    _ok(org.client.post(f"/api/v1/budgets/{budget['id']}/assign", json={"worklogs": [line["id"]]},
                        headers=org.admin))
    assert group() == ("2026-01-06", 10_000)  # the budget's rate wins over both
