"""/api/v1/activity-types and /api/v1/user-rates, and activity types on worklogs and timers
through the API (SPEC §12): by id or name, 422 for unknown or inactive ones, 409 for a
duplicate name, renames that keep history, rates that only the right roles see or set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org
from tests.support.api import api_client

MONDAY = "2026-01-05T09:00:00Z"
TYPES = "/api/v1/activity-types"


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield make_org(client)


def _types(org: Org, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = org.client.get(TYPES, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _id(org: Org, name: str) -> str:
    return next(str(t["id"]) for t in _types(org, org.admin) if t["name"] == name)


def _problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


def test_a_new_tenant_lists_the_default_catalogue_to_every_user(org: Org) -> None:
    team, _ = org.add_user("tom")
    names = [t["name"] for t in _types(org, team)]
    assert {"Development", "Testing", "Meeting", "Project management"} <= set(names)
    # A Team user sees no prices; an Administrator does (null: none of its own).
    assert all("hourly_rate" not in t for t in _types(org, team))
    assert all(t["hourly_rate"] is None for t in _types(org, org.admin))


def test_an_administrator_adds_renames_recolours_and_deactivates_an_entry(org: Org) -> None:
    created = org.client.post(TYPES, headers=org.admin, json={
        "name": " Code review ", "color": "#1e88e5", "billable_by_default": True,
        "hourly_rate": {"amount": 9000, "currency": "EUR"},
    })
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry == {"id": entry["id"], "name": "Code review", "color": "#1E88E5",
                     "billable_by_default": True, "active": True,
                     "hourly_rate": {"amount": 9000, "currency": "EUR"}}
    worklog = org.client.post("/api/v1/worklogs", headers=org.admin, json={
        "started_at": MONDAY, "length_s": 3600, "activity_type_id": entry["id"],
    }).json()
    assert (worklog["activity_type"], worklog["activity_type_id"]) == ("Code review", entry["id"])

    renamed = org.client.patch(f"{TYPES}/{entry['id']}", headers=org.admin,
                               json={"name": "Peer review", "color": "#000000"})
    assert renamed.status_code == 200, renamed.text
    [listed] = org.client.get("/api/v1/worklogs", headers=org.admin).json()["items"]
    assert (listed["activity_type"], listed["activity_type_id"]) == ("Peer review", entry["id"])

    off = org.client.patch(f"{TYPES}/{entry['id']}", headers=org.admin, json={"active": False})
    assert off.json()["active"] is False
    assert entry["id"] not in {t["id"] for t in _types(org, org.admin)}
    assert entry["id"] in {t["id"] for t in _types(org, org.admin, include_inactive="true")}
    refused = org.client.post("/api/v1/worklogs", headers=org.admin, json={
        "started_at": MONDAY, "length_s": 60, "activity_type_id": entry["id"],
    })
    _problem(refused, 422, "unknown_activity_type")
    # History keeps it.
    [kept] = org.client.get("/api/v1/worklogs", headers=org.admin).json()["items"]
    assert kept["activity_type_id"] == entry["id"]


def test_a_duplicate_name_in_any_case_is_409(org: Org) -> None:
    response = org.client.post(TYPES, headers=org.admin, json={"name": "DEVELOPMENT"})
    _problem(response, 409, "activity_type_exists")
    meeting = _id(org, "Meeting")
    _problem(org.client.patch(f"{TYPES}/{meeting}", headers=org.admin, json={"name": "testing"}),
             409, "activity_type_exists")


@pytest.mark.parametrize("body", [
    {"name": ""}, {"name": "   "}, {"name": "x" * 101}, {"name": "Ok", "color": "blue"},
    {"name": "Ok", "hourly_rate": {"amount": -1, "currency": "EUR"}},
    {"name": "Ok", "hourly_rate": {"amount": 1, "currency": "eur"}}, {"name": "Ok", "surprise": 1},
])
def test_bad_input_is_422_and_stores_nothing(org: Org, body: dict[str, Any]) -> None:
    before = _types(org, org.admin, include_inactive="true")
    response = org.client.post(TYPES, headers=org.admin, json=body)
    assert response.status_code == 422, response.text
    assert _types(org, org.admin, include_inactive="true") == before


def test_only_administrators_change_the_catalogue_or_see_inactive_entries(org: Org) -> None:
    budget, _ = org.add_user("bea", role="budget")
    meeting = _id(org, "Meeting")
    assert org.client.post(TYPES, headers=budget, json={"name": "Mine"}).status_code == 403
    assert org.client.patch(f"{TYPES}/{meeting}", headers=budget, json={"active": False}).status_code == 403
    assert org.client.get(TYPES, headers=budget, params={"include_inactive": "true"}).status_code == 403
    # The Budget role sees prices.
    assert all("hourly_rate" in t for t in _types(org, budget))


def test_worklogs_take_a_type_by_name_in_any_case_and_refuse_unknown_ones(org: Org) -> None:
    by_name = org.client.post("/api/v1/worklogs", headers=org.admin, json={
        "started_at": MONDAY, "length_s": 60, "activity_type": "design",
    })
    assert by_name.status_code == 201, by_name.text
    named = by_name.json()
    assert (named["activity_type"], named["activity_type_id"]) == ("Design", _id(org, "Design"))
    for body in ({"activity_type": "Totally-made-up-type"}, {"activity_type_id": "0" * 32}):
        response = org.client.post("/api/v1/worklogs", headers=org.admin,
                                   json={"started_at": MONDAY, "length_s": 60, **body})
        _problem(response, 422, "unknown_activity_type")
    changed = org.client.patch(f"/api/v1/worklogs/{by_name.json()['id']}", headers=org.admin,
                               json={"activity_type_id": _id(org, "Research")})
    assert changed.json()["activity_type"] == "Research"
    cleared = org.client.patch(f"/api/v1/worklogs/{by_name.json()['id']}", headers=org.admin,
                               json={"activity_type_id": None})
    assert (cleared.json()["activity_type"], cleared.json()["activity_type_id"]) == (None, None)


def test_a_timer_carries_its_type_and_a_billable_one_leaves_a_billable_worklog(
    org: Org, clock: FixedClock
) -> None:
    started = org.client.post("/api/v1/tracking/start", headers=org.admin,
                              json={"activity_type_id": _id(org, "Development")})
    assert started.status_code == 201, started.text
    assert started.json()["activity_type"] == "Development"
    current = org.client.get("/api/v1/tracking/current", headers=org.admin).json()
    assert current["activity_type"] == "Development"
    clock.advance(minutes=15)
    stopped = org.client.post("/api/v1/tracking/stop", headers=org.admin).json()
    assert (stopped["activity_type"], stopped["billable_length_s"]) == ("Development", 900)
    assert stopped["length_s"] == 900
    _problem(org.client.post("/api/v1/tracking/start", headers=org.admin, json={"activity_type": "Nope"}),
             422, "unknown_activity_type")


def test_user_rates_are_set_by_budget_and_administrators_and_hidden_from_team(org: Org) -> None:
    team, team_id = org.add_user("tom")
    budget, _ = org.add_user("bea", role="budget")
    product, _ = org.add_user("pat", role="product")
    rate = {"hourly_rate": {"amount": 7500, "currency": "EUR"}}

    assert org.client.put(f"/api/v1/user-rates/{team_id}", headers=team, json=rate).status_code == 403
    assert org.client.put(f"/api/v1/user-rates/{team_id}", headers=product, json=rate).status_code == 403
    assert org.client.get("/api/v1/user-rates", headers=team).status_code == 403
    set_ = org.client.put(f"/api/v1/user-rates/{team_id}", headers=budget, json=rate)
    assert set_.status_code == 200, set_.text
    assert set_.json()["hourly_rate"] == {"amount": 7500, "currency": "EUR"}

    sheet = org.client.get("/api/v1/user-rates", headers=product).json()
    assert sheet["currency"] == "EUR"
    assert {u["user_id"]: u["hourly_rate"] for u in sheet["items"]}[team_id] == rate["hourly_rate"]
    # The tenant's rates are in EUR now: another currency is refused, on every rate.
    usd = {"amount": 100, "currency": "USD"}
    _problem(org.client.put(f"/api/v1/user-rates/{team_id}", headers=budget, json={"hourly_rate": usd}),
             422, "rate_currency_mismatch")
    _problem(org.client.post(TYPES, headers=org.admin, json={"name": "Audit", "hourly_rate": usd}),
             422, "rate_currency_mismatch")
    assert "Audit" not in {t["name"] for t in _types(org, org.admin)}
    _problem(org.client.put("/api/v1/user-rates/nobody", headers=budget, json=rate), 404, "user_not_found")


def test_an_administrator_sets_a_rate_on_the_user_and_sees_it_in_the_users_list(org: Org) -> None:
    _, tom = org.add_user("tom")
    changed = org.client.patch(f"/api/v1/users/{tom}", headers=org.admin,
                               json={"hourly_rate": {"amount": 5000, "currency": "CHF"}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["hourly_rate"] == {"amount": 5000, "currency": "CHF"}
    users = {u["id"]: u for u in org.client.get("/api/v1/users", headers=org.admin).json()["items"]}
    assert users[tom]["hourly_rate"] == {"amount": 5000, "currency": "CHF"}
    assert users[org.admin_id]["hourly_rate"] is None
    # A refused rate changes nothing else in the same request either.
    refused = org.client.patch(f"/api/v1/users/{tom}", headers=org.admin, json={
        "approval_manager": True, "hourly_rate": {"amount": 1, "currency": "EUR"},
    })
    _problem(refused, 422, "rate_currency_mismatch")
    users = {u["id"]: u for u in org.client.get("/api/v1/users", headers=org.admin).json()["items"]}
    assert users[tom]["approval_manager"] is False
    cleared = org.client.patch(f"/api/v1/users/{tom}", headers=org.admin, json={"hourly_rate": None})
    assert cleared.json()["hourly_rate"] is None


def test_imports_resolve_type_names_and_exports_write_the_current_name(org: Org) -> None:
    csv = ("User,Timestamp,Duration (hours),Billable duration,Activity type,Comment,Work item\n"
           f"admin@{org.slug}.test,2026-01-05T09:00:00,1,,TESTING,,\n")
    imported = org.client.post("/api/v1/worklogs/import", headers={**org.admin, "content-type": "text/csv"},
                               content=csv.encode())
    assert imported.status_code == 201, imported.text
    [worklog] = org.client.get("/api/v1/worklogs", headers=org.admin).json()["items"]
    assert (worklog["activity_type"], worklog["activity_type_id"]) == ("Testing", _id(org, "Testing"))
    org.client.patch(f"{TYPES}/{_id(org, 'Testing')}", headers=org.admin, json={"name": "QA"})
    exported = org.client.get("/api/v1/worklogs/export", headers=org.admin).content.decode("utf-8-sig")
    assert ",QA," in exported
    bad = csv.replace("TESTING", "Totally-made-up-type")
    rejected = org.client.post("/api/v1/worklogs/import", headers={**org.admin, "content-type": "text/csv"},
                               content=bad.encode())
    assert rejected.status_code == 422 and "unknown activity type" in rejected.text


def test_the_catalogue_and_the_rate_sheet_page_with_a_cursor(org: Org) -> None:
    every = _types(org, org.admin)
    seen: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(10):
        page = org.client.get(TYPES, headers=org.admin, params={"limit": 3, "cursor": cursor}).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == every
    _problem(org.client.get(TYPES, headers=org.admin, params={"cursor": "bm9wZQ"}), 422, "validation_error")
    org.add_user("tom")
    first = org.client.get("/api/v1/user-rates", headers=org.admin, params={"limit": 1}).json()
    rest = org.client.get("/api/v1/user-rates", headers=org.admin,
                          params={"limit": 5, "cursor": first["next_cursor"]}).json()
    assert len(first["items"]) == 1 and len(rest["items"]) == 1 and rest["next_cursor"] is None


def test_a_collection_admin_with_the_team_role_neither_sees_nor_sets_rates(org: Org) -> None:
    """User Management is theirs, rates are not: the users list carries no hourly_rate for
    them, and a PATCH with one is refused without changing anything."""
    _, tom = org.add_user("tom")
    cat, cat_id = org.add_user("cat")
    org.client.patch(f"/api/v1/users/{cat_id}", headers=org.admin, json={"collection_admin": True})
    org.client.put(f"/api/v1/user-rates/{tom}", headers=org.admin,
                   json={"hourly_rate": {"amount": 7000, "currency": "EUR"}})
    listed = org.client.get("/api/v1/users", headers=cat)
    assert listed.status_code == 200, listed.text
    assert all("hourly_rate" not in u for u in listed.json()["items"])
    refused = org.client.patch(f"/api/v1/users/{tom}", headers=cat,
                               json={"approval_manager": True, "hourly_rate": None})
    assert refused.status_code == 403, refused.text
    rates = {u["user_id"]: u["hourly_rate"] for u in
             org.client.get("/api/v1/user-rates", headers=org.admin).json()["items"]}
    assert rates[tom] == {"amount": 7000, "currency": "EUR"}
    users = {u["id"]: u for u in org.client.get("/api/v1/users", headers=org.admin).json()["items"]}
    assert users[tom]["approval_manager"] is False
