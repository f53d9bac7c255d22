"""The keyboard timesheet as the server draws it (no browser): the grid's roles and labels,
the blue rows, the filters, cell writes through POST /time/cells and their refusals."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import add_user, api_client, bearer, signup, token

WEEK = "2026-W02"  # Monday 5 January 2026


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[TestClient[Any]]:
    with api_client(make_settings(sqlite_url, tmp_path), clock) as test_client:
        signup(test_client, "grid")
        add_user(test_client, token(test_client, "grid", "admin@grid.test"), "tim@grid.test")
        yield test_client


def admin(client: TestClient[Any]) -> dict[str, str]:
    return bearer(token(client, "grid", "admin@grid.test"))


def tim(client: TestClient[Any]) -> dict[str, str]:
    return bearer(token(client, "grid", "tim@grid.test"))


def me(client: TestClient[Any], headers: dict[str, str]) -> str:
    return str(client.get("/api/v1/me", headers=headers).json()["id"])


def item(client: TestClient[Any], title: str, *, state: str = "New", user_id: str | None = None,
         iteration_id: int | None = None) -> int:
    body: dict[str, Any] = {"title": title, "type": "Task", "state": state}
    if user_id:
        body["assigned_to"] = {"user_id": user_id}
    if iteration_id:
        body["iteration_id"] = iteration_id
    made = client.post("/api/v1/work-items", json=body, headers=admin(client))
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def row(html: str, work_item: int | str) -> str:
    found = re.search(rf'<tr role="row" data-row="{work_item}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, f"no row for {work_item}"
    return found.group(0)


def cell(html: str, work_item: int | str, day: str) -> str:
    found = re.search(rf'<td role="gridcell"[^>]*data-day="{day}"[^>]*>.*?</td>', row(html, work_item), re.S)
    assert found, f"no cell {work_item} {day}"
    return found.group(0)


def test_the_grid_lists_the_users_in_progress_items_marked_blue_with_labels_and_a_legend(
    client: TestClient[Any],
) -> None:
    headers = tim(client)
    tim_id = me(client, headers)
    login = item(client, "Login page", state="Active", user_id=tim_id)
    idle = item(client, "Someday", state="New", user_id=tim_id)
    other = item(client, "Not mine", state="Active")
    page = client.get(f"/time?week={WEEK}", headers=headers)
    assert page.status_code == 200, page.text
    html = page.text
    assert 'role="grid"' in html and 'id="sheet-legend"' in html
    blue = row(html, login)
    assert 'class="blue"' in blue and "in progress, assigned to you" in blue
    label = f"Tue 6 Jan, #{login} Login page: empty (in progress, assigned to you)"
    assert f'aria-label="{label}"' in blue
    assert f'data-row="{idle}"' not in html and f'data-row="{other}"' not in html
    # One cell is in the tab order: the first.
    assert html.count('tabindex="0"') == 1 and 'tabindex="0"' in cell(html, login, "2026-01-05")


def test_a_cell_write_sets_the_days_total_and_relabels_the_cell(client: TestClient[Any]) -> None:
    headers = {**tim(client), "HX-Request": "true"}
    login = item(client, "Login page")
    written = client.post("/time/cells", headers=headers,
                          data={"day": "2026-01-06", "work_item": str(login), "hours": "1h 30m"})
    assert written.status_code == 200, written.text
    assert written.text.startswith('<section id="week"')
    assert f'aria-label="Tue 6 Jan, #{login} Login page: 1:30 (1h 30m)"' in written.text
    again = client.post("/time/cells", headers=headers,
                        data={"day": "2026-01-06", "work_item": str(login), "hours": "2,25"})
    assert 'data-value="2:15"' in cell(again.text, login, "2026-01-06")
    listed = client.get("/api/v1/worklogs?from=2026-01-05&to=2026-01-11", headers=headers).json()
    assert [(w["work_item"], w["length_s"]) for w in listed["items"]] == [(str(login), 8100)]


def test_a_refused_cell_comes_back_marked_with_the_reason_and_nothing_changes(
    client: TestClient[Any],
) -> None:
    headers = {**tim(client), "HX-Request": "true"}
    tim_id = me(client, headers)
    login = item(client, "Login page")
    client.post("/time/cells", headers=headers,
                data={"day": "2026-01-06", "work_item": str(login), "hours": "1"})
    bad = client.post("/time/cells", headers=headers,
                      data={"day": "2026-01-06", "work_item": str(login), "hours": "lots"})
    assert bad.status_code == 422
    refused = cell(bad.text, login, "2026-01-06")
    assert "refused" in refused and 'aria-invalid="true"' in refused and "not saved" in refused
    # The refused cell is the grid's one tabbable cell (the focus goes back to it).
    assert bad.text.count('tabindex="0"') == 1 and 'tabindex="0"' in refused
    assert "&#39;lots&#39; is not a duration" in bad.text and 'role="alert"' in bad.text
    closed = client.post(f"/api/v1/weeks/{WEEK}/close", json={"user_id": tim_id}, headers=admin(client))
    assert closed.status_code == 200, closed.text
    locked = client.post("/time/cells", headers=headers,
                         data={"day": "2026-01-07", "work_item": str(login), "hours": "2"})
    assert locked.status_code == 423
    assert "week locked" in cell(locked.text, login, "2026-01-07")
    assert "its worklogs cannot be changed" in locked.text and 'aria-readonly="true"' in locked.text
    listed = client.get("/api/v1/worklogs?from=2026-01-05&to=2026-01-11", headers=headers).json()
    assert [w["length_s"] for w in listed["items"]] == [3600]


def test_the_row_without_a_work_item_is_offered_only_where_time_may_go_without_one(
    client: TestClient[Any],
) -> None:
    headers = tim(client)
    assert 'data-row=""' in client.get(f"/time?week={WEEK}", headers=headers).text
    rules = client.put("/api/v1/settings/tracking", json={"tracking_without_work_item": False},
                       headers=admin(client))
    assert rules.status_code == 200, rules.text
    assert 'data-row=""' not in client.get(f"/time?week={WEEK}", headers=headers).text
    refused = client.post("/time/cells", headers={**headers, "HX-Request": "true"},
                          data={"day": "2026-01-06", "work_item": "", "hours": "1"})
    assert refused.status_code == 422 and "work item" in refused.text


def test_the_filters_and_added_rows_live_in_the_address_and_survive_a_cell_write(
    client: TestClient[Any],
) -> None:
    headers = tim(client)
    tim_id = me(client, headers)
    sprint = client.post("/api/v1/iterations", headers=admin(client),
                         json={"path": "Sprint 1", "start": "2026-01-05", "finish": "2026-01-16"})
    assert sprint.status_code == 201, sprint.text
    mine_now = item(client, "Mine in the sprint", state="Active", user_id=tim_id,
                    iteration_id=sprint.json()["id"])
    mine_later = item(client, "Mine, no sprint", state="Active", user_id=tim_id)
    extra = item(client, "Someone's")
    html = client.get(f"/time?week={WEEK}&mine=1&iteration=current", headers=headers).text
    assert f'data-row="{mine_now}"' in html and f'data-row="{mine_later}"' not in html
    assert re.search(r'aria-pressed="true"[^>]*>My items', html)
    assert re.search(r'aria-pressed="true"[^>]*>Current iteration', html)
    # "Add a row": the search offers the item, the week with add= shows its (empty) row.
    found = client.get("/time/work-items?search=someone", headers={**headers, "HX-Request": "true"})
    assert f'data-id="{extra}"' in found.text and 'role="option"' in found.text
    added = client.get(f"/time/week?week={WEEK}&mine=0&iteration=any&add={extra}",
                       headers={**headers, "HX-Request": "true"})
    assert f'data-row="{extra}"' in added.text and f'data-added="{extra}"' in added.text
    # A cell write from that page (htmx names the address) keeps the added row.
    written = client.post(
        "/time/cells", data={"day": "2026-01-05", "work_item": str(mine_later), "hours": "1"},
        headers={**headers, "HX-Request": "true",
                 "HX-Current-URL": f"http://testserver/time?week={WEEK}&mine=0&iteration=any&add={extra}"},
    )
    assert f'data-row="{extra}"' in written.text and f'data-row="{mine_later}"' in written.text
    # Without htmx the search is the whole Time tab.
    whole = client.get("/time/work-items?search=x", headers=headers)
    assert whole.text.lstrip().startswith("<!doctype html>")


def test_bad_cell_input_is_a_message_never_a_500_and_stores_nothing(client: TestClient[Any]) -> None:
    headers = {**tim(client), "HX-Request": "true"}
    for data in (
        {"day": "0001-01-01", "work_item": "", "hours": "1"},
        {"day": "2026-01-06", "work_item": "abc", "hours": "1"},
        {"day": "2026-01-06", "work_item": "9" * 30, "hours": "1"},
        {"day": "2026-01-06", "work_item": "123456", "hours": "1"},
        {"day": "2026-01-06", "work_item": "", "hours": "25h"},
        {"day": "not a day", "work_item": "", "hours": "1"},
        {"day": "2026-01-06", "work_item": "", "hours": "1" * 41},
    ):
        answer = client.post("/time/cells", headers=headers, data=data)
        assert 400 <= answer.status_code < 500, (data, answer.status_code)
    for query in ("add=abc", "add=" + "9" * 30, "add=,,,", "mine=yes&iteration=x"):
        assert client.get(f"/time?week={WEEK}&{query}", headers=headers).status_code == 200, query
    listed = client.get("/api/v1/worklogs?from=2026-01-05&to=2026-01-11", headers=headers).json()
    assert listed["items"] == []


def test_another_tenants_work_item_never_becomes_a_row_or_a_search_result(client: TestClient[Any]) -> None:
    theirs = item(client, "Secret roadmap")
    signup(client, "other")
    add_user(client, token(client, "other", "admin@other.test"), "eve@other.test")
    eve = {**bearer(token(client, "other", "eve@other.test")), "HX-Request": "true"}
    page = client.get(f"/time/week?week={WEEK}&add={theirs}", headers=eve)
    assert f'data-row="{theirs}"' not in page.text and "Secret roadmap" not in page.text
    found = client.get("/time/work-items?search=secret", headers=eve)
    assert "Secret roadmap" not in found.text
    written = client.post("/time/cells", headers=eve,
                          data={"day": "2026-01-06", "work_item": str(theirs), "hours": "1"})
    assert written.status_code == 422 and "Secret roadmap" not in written.text
