"""PATCH /api/v1/worklogs/batch and the saved Times Explorer views (issue #17), on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org
from tests.support.api import api_client

ALL = "/api/v1/worklogs/all"
BATCH = "/api/v1/worklogs/batch"
VIEWS = "/api/v1/explorer/views"


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield make_org(client)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _log(org: Org, user_id: str, at: str, length_s: int, **more: Any) -> dict[str, Any]:
    body = {"user_id": user_id, "started_at": at, "length_s": length_s, **more}
    return dict(_ok(org.client.post("/api/v1/worklogs", json=body, headers=org.admin), 201))


def _listed(org: Org) -> dict[str, dict[str, Any]]:
    return {w["id"]: w for w in _ok(org.client.get(ALL, headers=org.admin))["items"]}


def test_a_batch_sets_billable_activity_type_and_budget_on_every_worklog_at_once(org: Org) -> None:
    _, tina = org.add_user("tina")
    dev = _ok(org.client.post("/api/v1/activity-types", json={"name": "Dev"}, headers=org.admin), 201)["id"]
    budget = _ok(org.client.post("/api/v1/budgets", json={"name": "Shop"}, headers=org.admin), 201)["id"]
    logs = [_log(org, tina, f"2026-01-1{n}T09:00:00Z", 600 * (n + 1), comment=f"log {n}") for n in range(3)]
    ids = [w["id"] for w in logs]

    done = _ok(org.client.patch(BATCH, json={"ids": ids, "set": {
        "billable": True, "activity_type_id": dev, "budget_id": budget}}, headers=org.admin))

    assert done == {"updated": 3}
    listed = _listed(org)
    assert [(listed[i]["billable_length_s"], listed[i]["activity_type"], listed[i]["budget"]["id"],
             listed[i]["budget"]["assignment"]) for i in ids] == [
        (600, "Dev", budget, "DirectlyAssigned"), (1200, "Dev", budget, "DirectlyAssigned"),
        (1800, "Dev", budget, "DirectlyAssigned"),
    ]
    _ok(org.client.patch(BATCH, json={"ids": ids[:1], "set": {"budget_id": None, "billable": False,
                                                               "comment": "changed"}}, headers=org.admin))
    first = _listed(org)[ids[0]]
    assert (first["billable_length_s"], first["budget"]["id"], first["comment"]) == (0, None, "changed")
    audit = _ok(org.client.get("/api/v1/audit", params={"action": "worklogs.batch_updated"},
                               headers=org.admin))
    assert sorted(entry["detail"]["count"] for entry in audit["items"]
                  if entry["action"] == "worklogs.batch_updated") == [1, 3]


def test_a_batch_with_a_locked_a_missing_or_a_foreign_worklog_changes_nothing_and_names_each(
    org: Org,
) -> None:
    """All or nothing: an unknown id 404, someone else's (for a Team user) 403, an approved
    week's 423 — each offending id named with its index and code; a bad value per worklog 422."""
    team, tina = org.add_user("tina")
    manager, _ = org.add_user("mia", approval_manager=True)
    in_locked = _log(org, tina, "2026-01-06T09:00:00Z", 600, comment="locked")
    free = [_log(org, tina, f"2026-01-1{n}T09:00:00Z", 600, comment=f"free {n}") for n in (3, 4)]
    admins = _log(org, org.admin_id, "2026-01-13T10:00:00Z", 600, comment="the admin's")
    _ok(org.client.post("/api/v1/weeks/2026-W02/submit", headers=team))
    _ok(org.client.post("/api/v1/weeks/2026-W02/approve", json={"user_id": tina}, headers=manager))
    before = _listed(org)
    billable = {"billable": True}

    missing = org.client.patch(BATCH, json={"ids": [free[0]["id"], "nope"], "set": billable},
                               headers=org.admin)
    assert missing.status_code == 404, missing.text
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert [(e["index"], e["id"], e["code"]) for e in missing.json()["errors"]] == [(1, "nope", "not_found")]
    foreign = org.client.patch(BATCH, json={"ids": [free[0]["id"], admins["id"]], "set": billable},
                               headers=team)
    assert foreign.status_code == 403, foreign.text
    assert [(e["index"], e["id"]) for e in foreign.json()["errors"]] == [(1, admins["id"])]
    locked = org.client.patch(BATCH, json={"ids": [free[0]["id"], in_locked["id"], free[1]["id"]],
                                           "set": billable}, headers=org.admin)
    assert locked.status_code == 423, locked.text
    assert [(e["index"], e["id"], e["code"]) for e in locked.json()["errors"]] == [
        (1, in_locked["id"], "week_locked")]
    too_long = org.client.patch(BATCH, json={"ids": [f["id"] for f in free],
                                             "set": {"billable_length_s": 601}}, headers=org.admin)
    assert too_long.status_code == 422, too_long.text
    assert [e["index"] for e in too_long.json()["errors"]] == [0, 1]
    assert _listed(org) == before

    done = _ok(org.client.patch(BATCH, json={"ids": [f["id"] for f in free], "set": billable}, headers=team))
    assert done == {"updated": 2}
    assert [_listed(org)[f["id"]]["billable_length_s"] for f in free] == [600, 600]


@pytest.mark.parametrize("body", [
    {"ids": [], "set": {"billable": True}},
    {"ids": ["x"], "set": {}},
    {"ids": ["x"], "set": {"billable": "yes"}},
    {"ids": ["x"], "set": {"colour": "red"}},
    {"ids": ["x"] * 5001, "set": {"billable": True}},
])
def test_a_malformed_batch_is_a_422_problem(org: Org, body: dict[str, Any]) -> None:
    refused = org.client.patch(BATCH, json=body, headers=org.admin)
    assert refused.status_code in (400, 422), refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_only_those_who_manage_budgets_may_set_a_budget_in_a_batch(org: Org) -> None:
    team, tina = org.add_user("tina")
    budget = _ok(org.client.post("/api/v1/budgets", json={"name": "Shop"}, headers=org.admin), 201)["id"]
    mine = _log(org, tina, "2026-01-13T09:00:00Z", 600, comment="mine")
    refused = org.client.patch(BATCH, json={"ids": [mine["id"]], "set": {"budget_id": budget}}, headers=team)
    assert refused.status_code == 403, refused.text
    assert _listed(org)[mine["id"]]["budget"]["id"] is None


def test_saved_views_are_each_users_own_with_names_unique_per_user(org: Org) -> None:
    product, _ = org.add_user("pat", role="product")
    budget, _ = org.add_user("bea", role="budget")
    team, _ = org.add_user("tina")
    view = {"name": "Billable in January", "filters": {"from": "2026-01-01", "to": "2026-01-31",
                                                       "billable": "true"},
            "columns": ["date", "user", "length", "amount"], "group_by": ["user", "week"]}

    saved = _ok(org.client.post(VIEWS, json=view, headers=product), 201)
    assert {k: saved[k] for k in ("name", "filters", "columns", "group_by")} == view
    again = org.client.post(VIEWS, json={**view, "name": " billable IN january "}, headers=product)
    assert again.status_code == 409, again.text
    # Another user may use the same name; neither sees the other's.
    _ok(org.client.post(VIEWS, json=view, headers=budget), 201)
    assert [v["id"] for v in _ok(org.client.get(VIEWS, headers=product))["items"]] == [saved["id"]]
    gone = org.client.delete(f"{VIEWS}/{saved['id']}", headers=budget)
    assert gone.status_code == 404, gone.text
    assert org.client.get(VIEWS, headers=team).status_code == 403

    for bad, field in (({**view, "filters": {"colour": "red"}}, "filters"),
                       ({**view, "filters": {"from": "someday"}}, "from"),
                       ({**view, "columns": ["shoe size"]}, "columns"),
                       ({**view, "group_by": ["user", "user"]}, "group_by"),
                       ({**view, "name": "  "}, "name")):
        refused = org.client.post(VIEWS, json={**bad, "name": bad["name"] + " x"} if bad["name"].strip()
                                  else bad, headers=product)
        assert refused.status_code == 422, refused.text
        assert field in refused.text

    second = _ok(org.client.post(VIEWS, json={"name": "All"}, headers=product), 201)
    page = _ok(org.client.get(VIEWS, params={"limit": 1}, headers=product))
    assert [v["name"] for v in page["items"]] == ["All"]
    rest = _ok(org.client.get(VIEWS, params={"limit": 1, "cursor": page["next_cursor"]}, headers=product))
    assert ([v["name"] for v in rest["items"]], rest["next_cursor"]) == (["Billable in January"], None)
    assert second["columns"] == ["date", "user", "work_item", "iteration", "activity_type", "budget",
                                 "length", "billable", "amount", "approval", "created", "edited", "comment"]
    assert org.client.delete(f"{VIEWS}/{saved['id']}", headers=product).status_code == 204
    assert [v["name"] for v in _ok(org.client.get(VIEWS, headers=product))["items"]] == ["All"]
