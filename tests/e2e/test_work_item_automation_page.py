"""The Work item automation settings page (``/settings/work-item-automation``) through the
app with a fixed clock, no browser: a cookie session with the CSRF token, htmx partials and
plain form posts (no JavaScript), Administrators only; and the Time tab's Remaining Work
field that the ``per_worklog`` mode adds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from plugins.storage.tracking_tables import WorkItemOutbox
from tests.conftest import make_settings
from tests.integration.tracking_support import run
from tests.support.api import PASSWORD, add_user, api_client, bearer, signup, token
from tests.support.work_items import mirror_work_items

PAGE = "/settings/work-item-automation"
API = "/api/v1/settings/work-item-automation"


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[TestClient[Any]]:
    with api_client(make_settings(sqlite_url, tmp_path), clock) as test_client:
        signup(test_client, "pages")
        add_user(test_client, token(test_client, "pages", "admin@pages.test"), "tim@pages.test")
        yield test_client


def _csrf(client: TestClient[Any]) -> str:
    if "csrftoken" not in client.cookies:
        client.get("/")
    return str(client.cookies["csrftoken"])


def _sign_in(client: TestClient[Any], email: str) -> None:
    response = client.post(
        "/signin",
        data={"tenant": "pages", "email": email, "password": PASSWORD, "_csrf_token": _csrf(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def _api(client: TestClient[Any]) -> dict[str, Any]:
    admin = bearer(token(client, "pages", "admin@pages.test"))
    return dict(client.get(API, headers=admin).json())


def test_an_administrator_changes_the_settings_with_a_plain_form_post_and_the_csrf_token(
    client: TestClient[Any],
) -> None:
    _sign_in(client, "admin@pages.test")
    page = client.get(PAGE)
    assert page.status_code == 200 and page.text.lstrip().startswith("<!doctype html>")
    assert f'href="{PAGE}"' in page.text and 'aria-current="page">Work item automation' in page.text
    assert 'name="remaining" value="reduce" checked' in page.text

    form = {"enabled": "on", "fields": "completed", "remaining": "leave"}
    refused = client.post(PAGE, data=form)
    assert refused.status_code == 403
    assert _api(client)["fields"] == "both"

    saved = client.post(PAGE, data={**form, "_csrf_token": _csrf(client)})
    assert saved.status_code == 200, saved.text
    assert saved.text.lstrip().startswith("<!doctype html>")  # no JavaScript: the whole page
    assert "from its next run" in saved.text
    assert 'name="fields" value="completed" checked' in saved.text
    assert _api(client) == {"enabled": True, "fields": "completed", "remaining": "leave",
                            "takes_remaining_per_worklog": False}


def test_htmx_gets_the_settings_fragment_and_turning_automation_off_is_kept(client: TestClient[Any]) -> None:
    _sign_in(client, "admin@pages.test")
    htmx = {"HX-Request": "true"}
    form = {"enabled": "off", "fields": "both", "remaining": "reduce", "_csrf_token": _csrf(client)}
    saved = client.post(PAGE, data=form, headers=htmx)
    assert saved.status_code == 200 and saved.text.lstrip().startswith('<div id="work-item-automation">')
    assert 'name="enabled" value="off" checked' in saved.text
    assert _api(client)["enabled"] is False


def test_an_unknown_choice_is_refused_and_changes_nothing(client: TestClient[Any]) -> None:
    _sign_in(client, "admin@pages.test")
    form = {"enabled": "on", "fields": "everything", "remaining": "reduce", "_csrf_token": _csrf(client)}
    refused = client.post(PAGE, data=form)
    assert refused.status_code in (400, 422), refused.text
    assert _api(client)["fields"] == "both"


def test_only_administrators_have_the_page_and_its_link(client: TestClient[Any]) -> None:
    team = bearer(token(client, "pages", "tim@pages.test"))
    assert client.get(PAGE, headers=team).status_code == 403
    assert f'href="{PAGE}"' not in client.get("/time", headers=team).text


def test_the_time_tab_asks_for_remaining_work_only_in_per_worklog_mode_and_queues_it(
    client: TestClient[Any],
) -> None:
    _sign_in(client, "admin@pages.test")
    assert 'name="remaining_h"' not in client.get("/time").text
    client.post(PAGE, data={"enabled": "on", "fields": "both", "remaining": "per_worklog",
                            "_csrf_token": _csrf(client)})
    assert 'name="remaining_h"' in client.get("/time").text

    mirror_work_items(client, "pages", 42)  # worklogs name only items of the mirror
    csrf = {"_csrf_token": _csrf(client)}
    week = {"day": "2026-01-01", "start": "10:00", "hours": "1:00", "work_item": "42", **csrf}
    htmx = {"HX-Request": "true"}
    added = client.post("/time/worklogs", data={**week, "remaining_h": "3.5"}, headers=htmx)
    assert added.status_code == 200, added.text
    refused = client.post("/time/worklogs", data={**week, "remaining_h": "-2"}, headers=htmx)
    assert refused.status_code == 422 and "Remaining Work" in refused.text
    admin = bearer(token(client, "pages", "admin@pages.test"))
    worklogs = client.get("/api/v1/worklogs", headers=admin).json()["items"]
    assert [w["work_item"] for w in worklogs] == ["42"]

    async def given() -> list[str | None]:
        rows = await WorkItemOutbox.select(WorkItemOutbox.remaining_set).where(
            WorkItemOutbox.effect_key.like("remaining:%")
        )
        return [row["remaining_set"] for row in rows]

    assert run(client, given) == ["3.50"]
