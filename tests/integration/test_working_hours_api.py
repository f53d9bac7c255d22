"""/api/v1/me/working-hours and /api/v1/users/{id}/working-hours (issue #19) on SQLite and
PostgreSQL: the default week, a replacing PUT, Administrators for others, bad input stores nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org
from tests.support.api import api_client

MINE = "/api/v1/me/working-hours"
WEEK = {"monday": 8, "tuesday": 8, "wednesday": 8, "thursday": 8, "friday": 4.5, "saturday": 0, "sunday": 0}


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield make_org(client)


def test_a_user_who_never_set_them_works_eight_hours_monday_to_friday(org: Org) -> None:
    team, _ = org.add_user("tom")
    answer = org.client.get(MINE, headers=team)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "hours": {**dict.fromkeys(["monday", "tuesday", "wednesday", "thursday", "friday"], 8.0),
                  "saturday": 0.0, "sunday": 0.0},
        "weekly_hours": 40.0, "days_off": [],
    }


def test_a_put_replaces_the_week_and_the_days_off(org: Org) -> None:
    team, _ = org.add_user("tom")
    first = org.client.put(MINE, headers=team, json={"hours": WEEK, "days_off": ["2026-01-09", "2026-01-06"]})
    assert first.status_code == 200, first.text
    assert first.json()["weekly_hours"] == 36.5
    assert first.json()["days_off"] == ["2026-01-06", "2026-01-09"]
    second = org.client.put(MINE, headers=team, json={"hours": WEEK, "days_off": ["2026-02-02"]})
    assert second.status_code == 200, second.text
    assert org.client.get(MINE, headers=team).json()["days_off"] == ["2026-02-02"]


def test_administrators_set_anyones_hours_and_a_team_user_cannot(org: Org) -> None:
    team, tom_id = org.add_user("tom")
    _, ann_id = org.add_user("ann")
    theirs = f"/api/v1/users/{tom_id}/working-hours"
    saved = org.client.put(theirs, headers=org.admin, json={"hours": WEEK})
    assert saved.status_code == 200, saved.text
    assert org.client.get(MINE, headers=team).json()["weekly_hours"] == 36.5
    assert org.client.put(f"/api/v1/users/{ann_id}/working-hours", headers=team,
                          json={"hours": WEEK}).status_code == 403
    assert org.client.get("/api/v1/users/nobody/working-hours", headers=org.admin).status_code == 404


def test_bad_hours_are_a_problem_and_store_nothing(org: Org) -> None:
    team, _ = org.add_user("tom")
    for body in ({"hours": {**WEEK, "monday": 25}}, {"hours": {**WEEK, "funday": 1}},
                 {"hours": WEEK, "days_off": ["not a date"]}, {"days_off": []}):
        response = org.client.put(MINE, headers=team, json=body)
        assert response.status_code in (400, 422), response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert org.client.get(MINE, headers=team).json()["weekly_hours"] == 40.0
