"""The Work items page through the app (no browser): a Team user lists, searches, creates and
edits in standalone mode with plain forms and htmx alike; with Azure DevOps connected the
page is read-only and shows the last sync and "Sync now"; titles show on the Time tab."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from core.tracking.ports import ConnectorKind, StoredDevOpsConnection
from core.work_items.ports import SyncState
from tests.conftest import make_settings
from tests.support.api import add_user, api_client, bearer, run, signup, token


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[TestClient[Any]]:
    with api_client(make_settings(sqlite_url, tmp_path), clock) as test_client:
        signup(test_client, "pages")
        add_user(test_client, token(test_client, "pages", "admin@pages.test"), "tim@pages.test")
        yield test_client


@pytest.fixture
def tim(client: TestClient[Any]) -> dict[str, str]:
    return bearer(token(client, "pages", "tim@pages.test"))


def _create(client: TestClient[Any], headers: dict[str, str], **form: str) -> Any:
    return client.post("/work-items/", headers=headers, data={"type": "Task", **form})


def test_a_team_user_finds_the_page_in_the_nav_creates_an_item_and_an_iteration(
    client: TestClient[Any], tim: dict[str, str]
) -> None:
    time_tab = client.get("/time", headers=tim)
    assert 'href="/work-items/"' in time_tab.text
    empty = client.get("/work-items/", headers=tim)
    assert empty.status_code == 200 and "No work items." in empty.text and "New work item" in empty.text

    sprint = client.post("/work-items/iterations", headers=tim,
                         data={"path": "Web\\Sprint 1", "start": "2026-01-05", "finish": "2026-01-16"})
    assert sprint.status_code == 200 and "Iteration “Web\\Sprint 1” created." in sprint.text
    made = _create(client, tim, title="Checkout", type="Feature", iteration_id="1", remaining_h="4,5")
    assert made.status_code == 200, made.text
    assert "Work item #1 “Checkout” created." in made.text
    assert '<a href="/work-items/1">Checkout</a>' in made.text and "Web\\Sprint 1" in made.text
    child = _create(client, tim, title="Card form", parent_id="#1")
    assert "Work item #2" in child.text
    api = client.get("/api/v1/work-items/1", headers=tim).json()
    assert (api["type"], api["iteration_id"], api["remaining_h"]) == ("Feature", 1, 4.5)


def test_search_and_filters_work_with_and_without_htmx(client: TestClient[Any], tim: dict[str, str]) -> None:
    for title, type_ in (("Login page", "Bug"), ("Logout", "Task"), ("Reports", "Task")):
        _create(client, tim, title=title, type=type_)
    plain = client.get("/work-items/", params={"search": "log", "type": "Task"}, headers=tim)
    assert plain.text.count('<tr id="item-') == 1 and "Logout" in plain.text and "<html" in plain.text
    partial = client.get("/work-items/", params={"search": "LOGIN"}, headers={**tim, "HX-Request": "true"})
    assert partial.text.startswith('<div id="work-items">')
    assert partial.text.count('<tr id="item-') == 1 and "Login page" in partial.text
    assert "No work items match." in client.get("/work-items/", params={"search": "zzz"}, headers=tim).text


def test_an_item_is_edited_on_its_page_and_bad_input_is_a_message_not_a_500(
    client: TestClient[Any], tim: dict[str, str]
) -> None:
    _create(client, tim, title="Root", type="Epic")
    _create(client, tim, title="Leaf", parent_id="1")
    page = client.get("/work-items/2", headers=tim)
    assert page.status_code == 200 and "<h1>#2 Leaf</h1>" in page.text and 'id="edit-item"' in page.text

    saved = client.post("/work-items/2", headers={**tim, "HX-Request": "true"},
                        data={"title": "Leaf, renamed", "type": "Task", "state": "Active", "parent_id": "1",
                              "remaining_h": "2"})
    assert saved.status_code == 200 and saved.text.startswith('<div id="work-item">')
    assert "Saved." in saved.text
    assert client.get("/api/v1/work-items/2", headers=tim).json()["title"] == "Leaf, renamed"

    under_its_child = {"title": "Root", "type": "Epic", "parent_id": "2"}
    cycle = client.post("/work-items/1", headers=tim, data=under_its_child)
    assert cycle.status_code == 422 and "descendants" in cycle.text
    for form in ({"title": "", "type": "Task"}, {"title": "x", "type": "Task", "remaining_h": "lots"},
                 {"title": "x", "type": "Task", "parent_id": "W-1"}):
        refused = client.post("/work-items/2", headers=tim, data=form)
        assert refused.status_code == 422, (form, refused.status_code)
    for missing in ("99", "abc"):
        assert client.get(f"/work-items/{missing}", headers=tim).status_code == 404


def test_with_azure_devops_the_page_is_read_only_with_the_last_sync_and_a_sync_button(
    client: TestClient[Any], tim: dict[str, str]
) -> None:
    _create(client, tim, title="Before", type="Task")
    stint = client.app.state.stint
    synced = datetime(2026, 1, 1, 8, 30, tzinfo=UTC)

    async def connect() -> None:
        async with stint.uow(write=True) as work:
            tenant = await work.directory.tenant_by_slug("pages")
            await stint.devops.store.save(tenant.id, StoredDevOpsConnection(
                ConnectorKind.AZURE_DEVOPS, "https://dev.azure.com/pages", None, "sealed"), synced)
            await work.tenant(tenant.id).work_items().save_sync_state(
                SyncState(watermark=synced, last_run_at=synced, last_success_at=synced, items_seen=1))
            await work.commit()

    run(client, connect)
    page = client.get("/work-items/", headers=tim)
    assert "New work item" not in page.text and 'action="/work-items/sync"' not in page.text  # admins sync
    admin = bearer(token(client, "pages", "admin@pages.test"))
    assert 'action="/work-items/sync"' in client.get("/work-items/", headers=admin).text
    assert "2026-01-01 08:30 UTC" in page.text and "Before" in page.text
    item = client.get("/work-items/1", headers=tim)
    assert 'id="edit-item"' not in item.text and "Kept in Azure DevOps" in item.text
    refused = _create(client, tim, title="After")
    assert refused.status_code == 409 and "Azure DevOps" in refused.text


def test_the_time_tab_shows_a_work_items_title_next_to_its_number(
    client: TestClient[Any], tim: dict[str, str], clock: FixedClock
) -> None:
    _create(client, tim, title="Card form")
    started = client.post("/api/v1/tracking/start", json={"work_item": 1}, headers=tim)
    assert started.status_code == 201 and started.json()["work_item_title"] == "Card form"
    timer = client.get("/time/timer", headers=tim)
    assert '#1</span> <span class="wi-title">Card form</span>' in timer.text
    clock.advance(minutes=5)  # within the access token's life
    stopped = client.post("/api/v1/tracking/stop", headers=tim)
    assert stopped.json().get("work_item_title") == "Card form", stopped.text
    week = client.get("/time", headers=tim)
    assert '<span class="wi-title">Card form</span>' in week.text
