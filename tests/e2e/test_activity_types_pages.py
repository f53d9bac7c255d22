"""The Activity types page (/settings/activity-types), rates on the Users page, and the
activity type selects of the Time tab — through the app, without a browser (the forms post
as a browser without JavaScript does; htmx requests get the section back)."""

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

PAGE = "/settings/activity-types"


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[TestClient[Any]]:
    with api_client(make_settings(sqlite_url, tmp_path), clock) as test_client:
        signup(test_client, "pages")
        admin_token = token(test_client, "pages", "admin@pages.test")
        add_user(test_client, admin_token, "tim@pages.test")
        add_user(test_client, admin_token, "bea@pages.test", role="budget")
        yield test_client


def _types(client: TestClient[Any], headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    items = client.get("/api/v1/activity-types", headers=headers, params={"include_inactive": "true"})
    return {t["name"]: t for t in items.json()["items"]}


def test_an_administrator_adds_renames_prices_and_deactivates_types_on_the_page(
    client: TestClient[Any],
) -> None:
    admin = bearer(token(client, "pages", "admin@pages.test"))
    page = client.get(PAGE, headers=admin)
    assert page.status_code == 200 and page.text.lstrip().startswith("<!doctype html>")
    assert "Development" in page.text and f'href="{PAGE}"' in page.text

    added = client.post(PAGE, headers={**admin, "HX-Request": "true"}, data={
        "name": "Code review", "color": "#1e88e5", "billable_by_default": "on",
        "rate": "95.50", "currency": "eur",
    })
    assert added.status_code == 200, added.text
    assert added.text.startswith('<div id="activity-types">') and "Added Code review." in added.text
    review = _types(client, admin)["Code review"]
    assert (review["color"], review["billable_by_default"]) == ("#1E88E5", True)
    assert review["hourly_rate"] == {"amount": 9550, "currency": "EUR"}

    saved = client.post(f"{PAGE}/{review['id']}", headers=admin, data={
        "name": "Peer review", "color": "#000000", "rate": "", "currency": "EUR",
    })
    assert saved.status_code == 200 and "Saved Peer review." in saved.text
    peer = _types(client, admin)["Peer review"]
    assert (peer["id"], peer["billable_by_default"], peer["hourly_rate"]) == (review["id"], False, None)

    off = client.post(f"{PAGE}/{review['id']}/active", headers=admin, data={"active": "off"})
    assert "inactive" in off.text and _types(client, admin)["Peer review"]["active"] is False


@pytest.mark.parametrize(("form", "message"), [
    ({"name": "development"}, "exists"),
    ({"name": "Audit", "rate": "ten", "currency": "EUR"}, "is not an amount"),
    ({"name": "Audit", "rate": "1.005", "currency": "EUR"}, "two decimals"),
    ({"name": "Audit", "rate": "10", "currency": ""}, "three letters"),
    ({"name": "Audit", "color": "blue"}, "#RRGGBB"),
])
def test_the_page_refuses_bad_input_with_a_message_and_stores_nothing(
    client: TestClient[Any], form: dict[str, str], message: str
) -> None:
    admin = bearer(token(client, "pages", "admin@pages.test"))
    before = _types(client, admin)
    refused = client.post(PAGE, headers=admin, data=form)
    assert 400 <= refused.status_code < 500 and message in refused.text, refused.text
    assert _types(client, admin) == before


def test_only_administrators_have_the_page(client: TestClient[Any]) -> None:
    tim = bearer(token(client, "pages", "tim@pages.test"))
    assert client.get(PAGE, headers=tim).status_code == 403
    assert client.post(PAGE, headers=tim, data={"name": "Mine"}).status_code == 403
    assert f'href="{PAGE}"' not in client.get("/time", headers=tim).text


def test_the_time_tab_offers_active_types_for_the_timer_and_for_worklogs(client: TestClient[Any]) -> None:
    admin = bearer(token(client, "pages", "admin@pages.test"))
    tim = bearer(token(client, "pages", "tim@pages.test"))
    meeting = _types(client, admin)["Meeting"]["id"]
    time_tab = client.get("/time", headers=tim).text
    assert time_tab.count(f'<option value="{meeting}">Meeting</option>') == 2  # timer and worklog forms

    added = client.post("/time/worklogs", headers={**tim, "HX-Request": "true"}, data={
        "day": "2026-01-01", "start": "10:00", "hours": "1", "activity_type_id": meeting,
    })
    assert added.status_code == 200 and '<td class="activity">Meeting</td>' in added.text
    worklog_id = re.search(r'id="worklog-(\w+)"', added.text)
    assert worklog_id is not None

    # Deactivated, it is offered no more, but the worklog keeps it and its editor shows it.
    client.patch(f"/api/v1/activity-types/{meeting}", headers=admin, json={"active": False})
    assert f'value="{meeting}">Meeting<' not in client.get("/time", headers=tim).text
    editor = client.get(f"/time/worklogs/{worklog_id[1]}/edit", headers={**tim, "HX-Request": "true"})
    assert f'<option value="{meeting}" selected>Meeting (inactive)</option>' in editor.text
    # Sent back unchanged, the editor keeps the inactive type.
    saved = client.post(f"/time/worklogs/{worklog_id[1]}", headers={**tim, "HX-Request": "true"}, data={
        "day": "2026-01-01", "start": "10:00", "hours": "2", "activity_type_id": meeting,
    })
    assert saved.status_code == 200 and '<td class="activity">Meeting</td>' in saved.text

    started = client.post("/time/start", headers={**tim, "HX-Request": "true"},
                          data={"activity_type_id": _types(client, admin)["Design"]["id"]})
    assert started.status_code == 200 and '<span class="activity">Design</span>' in started.text


def test_the_users_page_shows_rates_to_administrators_and_lets_the_budget_role_set_them(
    client: TestClient[Any],
) -> None:
    admin = bearer(token(client, "pages", "admin@pages.test"))
    tim_id = next(u["id"] for u in client.get("/api/v1/users", headers=admin).json()["items"]
                  if u["email"] == "tim@pages.test")
    saved = client.post(f"/settings/users/user/{tim_id}/rate", headers=admin,
                        data={"rate": "80", "currency": "EUR"})
    assert saved.status_code == 200 and "80.00 EUR an hour" in saved.text
    assert 'value="80.00"' in client.get("/settings/users", headers=admin).text
    # The Budget role has no Users page, but sets rates through its form route and the API.
    bea = bearer(token(client, "pages", "bea@pages.test"))
    assert client.post(f"/settings/users/user/{tim_id}/rate", headers=bea,
                       data={"rate": "", "currency": ""}).status_code == 200
    sheet = client.get("/api/v1/user-rates", headers=bea).json()["items"]
    rates = {u["user_id"]: u["hourly_rate"] for u in sheet}
    assert rates[tim_id] is None
    tim = bearer(token(client, "pages", "tim@pages.test"))
    assert client.post(f"/settings/users/user/{tim_id}/rate", headers=tim,
                       data={"rate": "1", "currency": "EUR"}).status_code == 403
