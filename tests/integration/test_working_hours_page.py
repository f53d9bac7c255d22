"""The Working hours settings page through the app without a browser (plain forms, no
JavaScript, then the htmx swap), on both engines: a user sets their own hours and days off,
an Administrator another user's from the Users page, nobody else's, and bad input is refused
with nothing stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import add_user, api_client, bearer, page_sign_in, signup, token

WEEK = {"monday": "8", "tuesday": "7.5", "wednesday": "8", "thursday": "8", "friday": "4,25",
        "saturday": "0", "sunday": ""}


class Site:
    def __init__(self, client: TestClient[Any]) -> None:
        self.client = client

    def sign_in(self, email: str) -> None:
        page_sign_in(self.client, "shop", email)

    def form(self, data: dict[str, str], htmx: bool = False) -> Any:
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.post("/settings/working-hours", headers=headers,
                                data={**data, "_csrf_token": self.client.cookies["csrftoken"]})

    def stored(self, email: str) -> dict[str, Any]:
        mine = self.client.get("/api/v1/me/working-hours", headers=bearer(token(self.client, "shop", email)))
        assert mine.status_code == 200, mine.text
        return dict(mine.json())


@pytest.fixture
def site(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[tuple[Site, str]]:
    with api_client(make_settings(database_url, tmp_path), clock) as client:
        signup(client, "shop")
        tia = add_user(client, token(client, "shop", "admin@shop.test"), "tia@shop.test", role="team")
        yield Site(client), str(tia["id"])


def test_a_user_sets_their_own_hours_and_days_off_and_an_administrator_sets_anothers(
    site: tuple[Site, str],
) -> None:
    web, tia_id = site
    web.sign_in("tia@shop.test")
    page = web.client.get("/settings/working-hours")
    assert page.status_code == 200 and "<html" in page.text and 'id="hours-monday"' in page.text
    assert 'value="8"' in page.text and "40 hours a week" in page.text  # the default

    saved = web.form({**WEEK, "days_off": "2026-01-09\n2026-01-02, 2026-01-09"})
    assert saved.status_code == 200 and "<html" in saved.text and "35.75 hours a week" in saved.text
    assert web.stored("tia@shop.test") == {
        "hours": {"monday": 8, "tuesday": 7.5, "wednesday": 8, "thursday": 8, "friday": 4.25, "saturday": 0,
                  "sunday": 0},
        "weekly_hours": 35.75, "days_off": ["2026-01-02", "2026-01-09"],
    }
    swapped = web.form({**WEEK, "friday": "8", "days_off": ""}, htmx=True)
    assert swapped.status_code == 200
    assert swapped.text.lstrip().startswith('<section class="card" id="working-hours"')
    assert "<html" not in swapped.text and web.stored("tia@shop.test")["days_off"] == []

    for bad in ({"monday": "eight"}, {"monday": "25"}, {"monday": "1e999999"}, {"tuesday": "7.3"},
                {"days_off": "tomorrow"}):
        refused = web.form({**WEEK, "friday": "8", **bad})
        assert refused.status_code == 422, (bad, refused.status_code)
    assert web.stored("tia@shop.test")["weekly_hours"] == 39.5  # nothing stored

    # Tia cannot open or change the admin's hours.
    admin = bearer(token(web.client, "shop", "admin@shop.test"))
    admin_id = web.client.get("/api/v1/me", headers=admin).json()["id"]
    assert web.client.get(f"/settings/working-hours?user={admin_id}").status_code in (403, 404)
    assert web.form({**WEEK, "user": admin_id}).status_code in (403, 404)
    assert web.stored("admin@shop.test")["weekly_hours"] == 40

    web.sign_in("admin@shop.test")
    users = web.client.get("/settings/users")
    assert f'href="/settings/working-hours?user={tia_id}"' in users.text
    theirs = web.client.get(f"/settings/working-hours?user={tia_id}")
    assert theirs.status_code == 200 and "Working hours of tia" in theirs.text
    changed = web.form({**WEEK, "monday": "6", "friday": "8", "user": tia_id}, htmx=True)
    assert changed.status_code == 200 and "37.5 hours a week" in changed.text
    assert web.stored("tia@shop.test")["hours"]["monday"] == 6
    assert web.stored("admin@shop.test")["weekly_hours"] == 40
