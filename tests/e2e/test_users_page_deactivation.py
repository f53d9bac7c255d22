"""The Users page (issue #17): deactivate with a confirmation, reactivate, set the role and
seat of the selected users at once, and say who may edit other people's time — through
the same use cases as the API (pages take a bearer token, so no browser is needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import add_user, api_client, bearer, signup, token


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[TestClient[Any]]:
    with api_client(make_settings(sqlite_url, tmp_path), clock) as test_client:
        signup(test_client, "pages")
        yield test_client


def _users(client: TestClient[Any], admin: dict[str, str]) -> dict[str, Any]:
    return {u["email"]: u for u in client.get("/api/v1/users", headers=admin).json()["items"]}


def test_the_users_page_deactivates_after_a_confirmation_and_reactivates(client: TestClient[Any]) -> None:
    admin_token = token(client, "pages", "admin@pages.test")
    admin = bearer(admin_token)
    tim = add_user(client, admin_token, "tim@pages.test")
    htmx = {**admin, "HX-Request": "true"}

    page = client.get("/settings/users", headers=htmx)
    assert page.status_code == 200
    assert f'hx-post="/settings/users/user/{tim["id"]}/deactivate"' in page.text
    assert 'hx-confirm="Deactivate tim@pages.test?' in page.text

    done = client.post(f"/settings/users/user/{tim['id']}/deactivate", headers=htmx)

    assert done.status_code == 200, done.text
    assert "tim@pages.test is deactivated" in done.text and "Reactivate" in done.text
    assert _users(client, admin)["tim@pages.test"]["active"] is False

    back = client.post(f"/settings/users/user/{tim['id']}", headers=htmx, data={"active": "on"})

    assert back.status_code == 200, back.text
    assert _users(client, admin)["tim@pages.test"]["active"] is True


def test_the_users_page_sets_role_and_seat_for_the_selected_users(client: TestClient[Any]) -> None:
    admin_token = token(client, "pages", "admin@pages.test")
    admin = bearer(admin_token)
    ids = [add_user(client, admin_token, f"u{n}@pages.test")["id"] for n in range(3)]
    htmx = {**admin, "HX-Request": "true"}

    done = client.post("/settings/users/bulk", headers=htmx,
                       data={"users": ids[:2], "role": "product", "licensed": "on"})

    assert done.status_code == 200, done.text
    assert "Saved 2 users." in done.text
    users = _users(client, admin)
    assert [(users[f"u{n}@pages.test"]["role"], users[f"u{n}@pages.test"]["licensed"]) for n in range(3)] == [
        ("product", True), ("product", True), ("team", False),
    ]
    nothing = client.post("/settings/users/bulk", headers=htmx, data={"role": "product"})
    assert nothing.status_code == 422 and nothing.headers["HX-Retarget"] == "#flash"


def test_the_users_page_sets_who_may_edit_other_peoples_time(client: TestClient[Any]) -> None:
    admin = bearer(token(client, "pages", "admin@pages.test"))

    done = client.post("/settings/users/editing", headers={**admin, "HX-Request": "true"},
                       data={"who": "approval_managers"})

    assert done.status_code == 200, done.text
    assert '<option value="approval_managers" selected>' in done.text
    assert client.get("/api/v1/settings/editing", headers=admin).json() == {"who": "approval_managers"}


def test_worklog_changes_made_on_the_time_page_are_recorded_as_the_pages(client: TestClient[Any]) -> None:
    """The page edge sets the origin ``page`` with the signed-in user as the actor."""
    admin_token = token(client, "pages", "admin@pages.test")
    admin = bearer(admin_token)
    me = client.get("/api/v1/me", headers=admin).json()["id"]
    htmx = {**admin, "HX-Request": "true"}
    added = client.post("/time/worklogs", headers=htmx,
                        data={"day": "2026-01-01", "start": "10:00", "hours": "1:00", "comment": "first"})
    assert added.status_code == 200, added.text
    [worklog] = client.get("/api/v1/worklogs", headers=admin).json()["items"]
    saved = client.post(f"/time/worklogs/{worklog['id']}", headers=htmx,
                        data={"day": "2026-01-01", "start": "10:00", "hours": "2.5", "comment": "first"})
    assert saved.status_code == 200, saved.text

    history = client.get(f"/api/v1/worklogs/{worklog['id']}/history", headers=admin).json()["items"]

    assert [(i["action"], i["source"], i["actor"]["id"]) for i in history] == [
        ("added", "page", me), ("edited", "page", me),
    ]
    assert history[1]["changes"] == {"length_s": {"before": 3600, "after": 9000}}
