"""Each worklog's change history (issue #17): recorded by the tracking repository with every
write, read through ``GET /api/v1/worklogs/{id}/history`` and its page fragment."""

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
HEADER = "User,Timestamp,Duration (hours),Billable duration,Activity type,Comment,Work item\r\n"


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield make_org(client)


def _history(org: Org, worklog_id: object, headers: dict[str, str], **params: Any) -> Any:
    return org.client.get(f"/api/v1/worklogs/{worklog_id}/history", headers=headers, params=params)


def _add(org: Org, headers: dict[str, str], **fields: object) -> dict[str, Any]:
    response = org.client.post("/api/v1/worklogs", json={"started_at": MONDAY, "length_s": 3600, **fields},
                               headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_worklog_edited_three_times_then_deleted_shows_each_change_with_its_values(
    org: Org, clock: FixedClock
) -> None:
    """Done-when 5: three edits and the deletion are four entries, after the "added" one —
    five in all, since the addition is a change too (it holds the values the first edit
    changed from). Each edit holds only the fields it changed; the deletion the last values;
    all of them the actor (with their name), the time and the source (the API)."""
    org.work_items(12, 13)
    created = _add(org, org.admin, comment="first", work_item="12")
    url = f"/api/v1/worklogs/{created['id']}"
    clock.advance(minutes=1)
    assert org.client.patch(url, json={"comment": "second"}, headers=org.admin).status_code == 200
    clock.advance(minutes=1)
    assert org.client.patch(url, json={"length_s": 1800, "billable_length_s": 900},
                            headers=org.admin).status_code == 200
    clock.advance(minutes=1)
    edited = org.client.patch(url, json={"work_item": 13, "comment": None}, headers=org.admin)
    assert edited.status_code == 200
    clock.advance(minutes=1)
    assert org.client.delete(url, headers=org.admin).status_code == 204

    response = _history(org, created["id"], org.admin)

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["action"] for i in items] == ["added", "edited", "edited", "edited", "deleted"]
    assert {i["source"] for i in items} == {"api"}
    assert {(i["actor"]["id"], i["actor"]["name"]) for i in items} == {(org.admin_id, "Admin")}
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)
    assert items[0]["changes"]["comment"] == {"before": None, "after": "first"}
    assert items[0]["changes"]["length_s"] == {"before": None, "after": 3600}
    assert items[1]["changes"] == {"comment": {"before": "first", "after": "second"}}
    assert items[2]["changes"] == {
        "length_s": {"before": 3600, "after": 1800},
        "billable_length_s": {"before": 0, "after": 900},
    }
    assert items[3]["changes"] == {
        "work_item": {"before": "12", "after": "13"},
        "comment": {"before": "second", "after": None},
    }
    last = items[4]["changes"]
    assert {name: change["before"] for name, change in last.items()} == {
        "started_at": "2026-01-05T09:00:00+00:00", "length_s": 1800, "billable_length_s": 900,
        "work_item": "13", "comment": None, "activity_type": None, "activity_type_id": None,
    }
    assert {change["after"] for change in last.values()} == {None}


def test_a_team_user_cannot_read_another_users_history_but_its_owner_and_managers_can(org: Org) -> None:
    """Hidden as the worklog is: 404 for a Team user, whether it exists or not; the owner,
    an approval manager and a Product user read it."""
    ann, ann_id = org.add_user("ann")
    bob, _ = org.add_user("bob")
    product, _ = org.add_user("pat", role="product")
    manager, _ = org.add_user("max", approval_manager=True)
    theirs = _add(org, ann, comment="ann's")

    refused = _history(org, theirs["id"], bob)
    missing = _history(org, "no-such-worklog", bob)

    assert refused.status_code == 404, refused.text
    assert refused.json()["detail"] == missing.json()["detail"]
    assert "ann's" not in refused.text
    for headers in (ann, manager, product, org.admin):
        read = _history(org, theirs["id"], headers)
        assert read.status_code == 200, read.text
        assert [i["action"] for i in read.json()["items"]] == ["added"]
        assert read.json()["items"][0]["actor"]["id"] == ann_id


def test_a_deleted_worklogs_history_is_kept_and_still_hidden_from_a_team_user(org: Org) -> None:
    ann, _ = org.add_user("ann")
    bob, _ = org.add_user("bob")
    created = _add(org, ann)
    assert org.client.delete(f"/api/v1/worklogs/{created['id']}", headers=ann).status_code == 204

    assert [i["action"] for i in _history(org, created["id"], ann).json()["items"]] == ["added", "deleted"]
    assert _history(org, created["id"], bob).status_code == 404


def test_the_history_pages_with_a_cursor(org: Org, clock: FixedClock) -> None:
    created = _add(org, org.admin, comment="0")
    for n in range(1, 5):
        clock.advance(seconds=1)
        org.client.patch(f"/api/v1/worklogs/{created['id']}", json={"comment": str(n)}, headers=org.admin)

    seen: list[Any] = []
    cursor = ""
    for _ in range(5):
        page = _history(org, created["id"], org.admin, limit=2, cursor=cursor).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert [i["changes"]["comment"]["after"] for i in seen] == ["0", "1", "2", "3", "4"]
    assert _history(org, created["id"], org.admin, cursor="garbage!").status_code == 422


def test_an_import_and_a_timer_record_their_own_source(org: Org, clock: FixedClock) -> None:
    """The import and the timer are the origin of what they add, whichever edge ran them."""
    org.work_items(7)
    body = HEADER + "admin@acme.test,2026-01-05T09:00:00Z,0.5,,,imported row,7\r\n"
    imported = org.client.post("/api/v1/worklogs/import", content=body.encode(),
                               headers={**org.admin, "Content-Type": "text/csv"})
    assert imported.status_code == 201, imported.text
    started = org.client.post("/api/v1/tracking/start", json={"work_item": "7"}, headers=org.admin)
    assert started.status_code == 201, started.text
    clock.advance(minutes=30)
    stopped = org.client.post("/api/v1/tracking/stop", headers=org.admin)
    assert stopped.status_code == 200, stopped.text

    worklogs = org.client.get("/api/v1/worklogs", params={"from": "2000-01-01T00:00:00Z"},
                              headers=org.admin).json()["items"]
    sources = {
        w["comment"] or "timer": [i["source"] for i in _history(org, w["id"], org.admin).json()["items"]]
        for w in worklogs
    }

    assert sources == {"imported row": ["import"], "timer": ["timer"]}


def test_an_imported_worklog_keeps_its_added_entry_with_the_imported_values_after_an_edit_or_deletion(
    org: Org, clock: FixedClock
) -> None:
    """An import records itself once, not each worklog's addition: each imported worklog's
    history still starts with "added" (the import, its actor, the values imported), through
    a cursor, after an edit, and after a deletion, whose row the reporting feed dates from
    the import."""
    org.work_items(7)
    body = HEADER + "".join(f"admin@acme.test,2026-01-05T{9 + n:02d}:00:00Z,0.5,,,row {n},7\r\n"
                            for n in (1, 2))
    imported = org.client.post("/api/v1/worklogs/import", content=body.encode(),
                               headers={**org.admin, "Content-Type": "text/csv"})
    assert imported.status_code == 201, imported.text
    added_at = clock.now()
    rows = org.client.get("/api/v1/worklogs", params={"from": "2000-01-01T00:00:00Z"}, headers=org.admin)
    ids = {w["comment"]: w["id"] for w in rows.json()["items"]}
    clock.advance(minutes=5)
    edit = org.client.patch(f"/api/v1/worklogs/{ids['row 1']}", json={"comment": "edited"}, headers=org.admin)
    assert edit.status_code == 200, edit.text
    assert org.client.delete(f"/api/v1/worklogs/{ids['row 2']}", headers=org.admin).status_code == 204

    first = _history(org, ids["row 1"], org.admin, limit=1).json()
    rest = _history(org, ids["row 1"], org.admin, cursor=first["next_cursor"]).json()
    deleted = _history(org, ids["row 2"], org.admin).json()["items"]

    assert [(i["action"], i["source"], i["actor"]["id"]) for i in first["items"]] == [
        ("added", "import", org.admin_id)]
    assert first["items"][0]["changes"]["comment"] == {"before": None, "after": "row 1"}
    assert [(i["action"], i["changes"].get("comment")) for i in rest["items"]] == [
        ("edited", {"before": "row 1", "after": "edited"})]
    assert [(i["action"], i["source"]) for i in deleted] == [("added", "import"), ("deleted", "api")]
    assert deleted[0]["changes"]["comment"]["after"] == "row 2"
    feed = org.client.get("/api/odata/v1/workLogsWithDeleted",
                          params={"$filter": "IsDeleted eq true", "$select": "Id,CreatedTimestamp"},
                          headers=org.admin)
    assert feed.status_code == 200, feed.text
    assert [(r["Id"], r["CreatedTimestamp"]) for r in feed.json()["value"]] == [
        (ids["row 2"], added_at.isoformat().replace("+00:00", "Z"))]


def test_the_page_fragment_shows_the_history_as_a_table_to_the_same_readers(org: Org) -> None:
    """``/explorer/worklogs/{id}/history``: the Times Explorer swaps it in with htmx."""
    ann, _ = org.add_user("ann")
    bob, _ = org.add_user("bob")
    created = _add(org, ann, comment="before")
    org.client.patch(f"/api/v1/worklogs/{created['id']}", json={"comment": "after"}, headers=ann)
    url = f"/explorer/worklogs/{created['id']}/history"

    fragment = org.client.get(url, headers={**org.admin, "HX-Request": "true"})
    hidden = org.client.get(url, headers={**bob, "HX-Request": "true"})

    assert fragment.status_code == 200, fragment.text
    assert "<table>" in fragment.text and "<html" not in fragment.text
    assert "edited" in fragment.text and ">before<" in fragment.text and ">after<" in fragment.text
    assert hidden.status_code == 404
    assert "before" not in hidden.text
