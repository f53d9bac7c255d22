"""``/api/v1/work-items`` and ``/api/v1/iterations`` on both engines: the standalone tree, the
list's filters and pages, tracked totals, every bad input a problem, and Azure DevOps' 409."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from core.tracking.ports import ConnectorKind, StoredDevOpsConnection
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org, run, stint_of
from tests.support.api import api_client

MONDAY = "2026-01-05T09:00:00Z"
ITEMS = "/api/v1/work-items"


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield make_org(client)


def _create(org: Org, headers: dict[str, str] | None = None, **body: Any) -> dict[str, Any]:
    response = org.client.post(ITEMS, json=body, headers=headers or org.admin)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert body["code"] == code, body
    return body


def _log(org: Org, work_item: Any, length_s: int, headers: dict[str, str] | None = None) -> Any:
    return org.client.post("/api/v1/worklogs", json={"started_at": MONDAY, "length_s": length_s,
                                                     "work_item": work_item}, headers=headers or org.admin)


def test_an_iteration_and_an_epic_to_task_tree_are_built_and_read_back_with_tracked_totals(org: Org) -> None:
    """A team member builds the tree in standalone mode; the epic's total counts every level."""
    team, _ = org.add_user("tim")
    response = org.client.post("/api/v1/iterations", json={"path": "Shop\\Sprint 1", "start": "2026-01-05",
                                                           "finish": "2026-01-16"}, headers=team)
    assert response.status_code == 201, response.text
    sprint = response.json()
    assert sprint == {"id": 1, "path": "Shop\\Sprint 1", "start": "2026-01-05", "finish": "2026-01-16"}
    assert org.client.get("/api/v1/iterations", headers=org.admin).json() == {
        "items": [sprint], "next_cursor": None,
    }

    epic = _create(org, team, title="Shop", type="Epic")
    feature = _create(org, team, title="Checkout", type="Feature", parent_id=epic["id"])
    story = _create(org, team, title="Pay by card", type="User Story", parent_id=feature["id"],
                    iteration_id=sprint["id"])
    task = _create(org, team, title=" Card form ", type="Task", state="Active", parent_id=story["id"],
                   iteration_id=sprint["id"], original_estimate_h=6, remaining_h="4.5",
                   assigned_to={"user_id": org.admin_id})
    assert [epic["id"], feature["id"], story["id"], task["id"]] == [1, 2, 3, 4]
    assert task["title"] == "Card form" and task["state_category"] == "InProgress"
    assert (task["original_estimate_h"], task["remaining_h"], task["completed_h"]) == (6, 4.5, None)
    assert task["assigned_to"] == {"name": "Admin", "user_id": org.admin_id}
    assert (task["tracked_s"], task["tracked_total_s"]) == (0, 0)

    # Worklogs take the id as a JSON integer or as digits, answer it as text with the title.
    logged = _log(org, task["id"], 3600, team)
    assert logged.status_code == 201, logged.text
    assert (logged.json()["work_item"], logged.json()["work_item_title"]) == ("4", "Card form")
    assert _log(org, str(feature["id"]), 600, team).status_code == 201
    assert _log(org, epic["id"], 60).status_code == 201

    shown = org.client.get(f"{ITEMS}/{epic['id']}", headers=team).json()
    assert (shown["tracked_s"], shown["tracked_total_s"]) == (60, 4260)
    shown = org.client.get(f"{ITEMS}/{task['id']}", headers=team).json()
    assert (shown["tracked_s"], shown["tracked_total_s"]) == (3600, 3600)


def test_the_list_filters_searches_and_pages_by_id(org: Org) -> None:
    parent = _create(org, title="Login", type="Feature")
    for n in range(5):
        _create(org, title=f"Login step {n}", type="Bug" if n % 2 else "Task", parent_id=parent["id"])
    _create(org, title="Unrelated", type="Task", assigned_to={"user_id": org.admin_id})

    def ids(**params: Any) -> list[int]:
        response = org.client.get(ITEMS, params=params, headers=org.admin)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids() == [1, 2, 3, 4, 5, 6, 7]
    assert ids(search="STEP") == [2, 3, 4, 5, 6]
    assert ids(search="7") == [7]
    assert ids(type="Bug") == [3, 5]
    assert ids(parent=1) == [2, 3, 4, 5, 6]
    assert ids(assigned_to="me") == [7]
    assert ids(assigned_to=org.admin_id, type="Bug") == []
    assert ids(state="New") == [1, 2, 3, 4, 5, 6, 7]

    seen: list[int] = []
    cursor = ""
    for _ in range(10):
        page = org.client.get(ITEMS, params={"limit": 3, "cursor": cursor}, headers=org.admin).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [1, 2, 3, 4, 5, 6, 7]
    _problem(org.client.get(ITEMS, params={"cursor": "garbage!"}, headers=org.admin), 422, "validation_error")
    _problem(org.client.get(ITEMS, params={"parent": "x"}, headers=org.admin), 422, "validation_error")


def test_every_bad_input_is_a_problem_and_changes_nothing(org: Org) -> None:
    root = _create(org, title="Root", type="Epic")
    child = _create(org, title="Child", type="Feature", parent_id=root["id"])
    grandchild = _create(org, title="Grandchild", type="Task", parent_id=child["id"])

    def post(**body: Any) -> Any:
        return org.client.post(ITEMS, json=body, headers=org.admin)

    _problem(post(title="x", type="Task", parent_id=99), 422, "unknown_parent")
    _problem(post(title="x", type="Task", iteration_id=5), 422, "unknown_iteration")
    for body in ({"title": "  ", "type": "Task"}, {"title": "x" * 256, "type": "Task"},
                 {"title": "x", "type": ""}, {"title": "x", "type": "Task", "remaining_h": -1},
                 {"title": "x", "type": "Task", "remaining_h": 1.234}, {"title": "x"},
                 {"title": "x", "type": "Task", "parent_id": "1"},
                 {"title": "x", "type": "Task", "extra": 1}):
        _problem(org.client.post(ITEMS, json=body, headers=org.admin), 422, "validation_error")
    for parent in (grandchild["id"], root["id"]):
        moved = org.client.patch(f"{ITEMS}/{root['id']}", json={"parent_id": parent}, headers=org.admin)
        _problem(moved, 422, "work_item_cycle")
    for path in ("abc", "0", "1.5", "-1", "99999999999999999999", "404"):
        _problem(org.client.get(f"{ITEMS}/{path}", headers=org.admin), 404, "work_item_not_found")
        _problem(org.client.patch(f"{ITEMS}/{path}", json={"title": "x"}, headers=org.admin),
                 404, "work_item_not_found")
    bad_dates = {"path": "S", "start": "2026-02-01", "finish": "2026-01-01"}
    refused = org.client.post("/api/v1/iterations", json=bad_dates, headers=org.admin)
    _problem(refused, 422, "validation_error")
    # A worklog or timer on an item the mirror does not hold.
    for ref in ("W-1", 99, "99", "1.0", -3):
        _problem(_log(org, ref, 60), 422, "unknown_work_item")
    _problem(org.client.post("/api/v1/tracking/start", json={"work_item": "Fix login"}, headers=org.admin),
             422, "unknown_work_item")
    assert org.client.get(ITEMS, headers=org.admin).json()["items"][0]["parent_id"] is None
    assert org.client.get("/api/v1/worklogs", headers=org.admin).json()["items"] == []


def test_an_edit_changes_only_what_it_sends_and_null_clears(org: Org) -> None:
    item = _create(org, title="Draft", type="Task", remaining_h=3, assigned_to={"name": "Outside Olga"})
    assert item["assigned_to"] == {"name": "Outside Olga", "user_id": None}
    body = {"state": "Closed", "remaining_h": None}
    response = org.client.patch(f"{ITEMS}/{item['id']}", json=body, headers=org.admin)
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["title"], changed["state"], changed["state_category"]) == ("Draft", "Closed", "Completed")
    assert changed["remaining_h"] is None and changed["assigned_to"] == item["assigned_to"]


def test_with_azure_devops_connected_creates_and_edits_are_409_and_reads_still_work(org: Org) -> None:
    item = _create(org, title="Standalone", type="Task")
    stint = stint_of(org.client)

    async def connect() -> None:
        async with stint.uow(write=True) as work:
            tenant = await work.directory.tenant_by_slug(org.slug)
            await stint.devops.store.save(
                tenant.id, StoredDevOpsConnection(ConnectorKind.AZURE_DEVOPS, "https://dev.azure.com/acme",
                                                  None, "sealed"), stint.clock.now(),
            )
            await work.commit()

    run(org.client, connect)
    _problem(org.client.post(ITEMS, json={"title": "x", "type": "Task"}, headers=org.admin), 409,
             "managed_by_devops")
    _problem(org.client.patch(f"{ITEMS}/{item['id']}", json={"title": "y"}, headers=org.admin), 409,
             "managed_by_devops")
    _problem(org.client.post("/api/v1/iterations", json={"path": "S"}, headers=org.admin), 409,
             "managed_by_devops")
    assert org.client.get(f"{ITEMS}/{item['id']}", headers=org.admin).json()["title"] == "Standalone"


def test_one_tenants_items_are_not_anothers(org: Org) -> None:
    mine = _create(org, title="Acme's", type="Task")
    other = make_org(org.client, "globex")
    assert org.client.get(ITEMS, headers=other.admin).json()["items"] == []
    _problem(org.client.get(f"{ITEMS}/{mine['id']}", headers=other.admin), 404, "work_item_not_found")
    _problem(_log(other, mine["id"], 60), 422, "unknown_work_item")


def test_iterations_are_listed_by_start_date_a_page_at_a_time(org: Org) -> None:
    made_in_another_order = (("Later", "2026-03-01"), ("Undated", None), ("First", "2026-01-05"),
                             ("Middle", "2026-02-01"))
    for path, start in made_in_another_order:
        made = org.client.post("/api/v1/iterations", json={"path": path, "start": start}, headers=org.admin)
        assert made.status_code == 201, made.text
    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        page = org.client.get("/api/v1/iterations", params={"limit": 3, "cursor": cursor}, headers=org.admin)
        assert page.status_code == 200, page.text
        seen += [it["path"] for it in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == ["First", "Middle", "Later", "Undated"]
    refused = org.client.get("/api/v1/iterations", params={"cursor": "bm9wZQ"}, headers=org.admin)
    _problem(refused, 422, "validation_error")
