"""SPEC §8's rule: with "tracking without work item" off, every path that creates a
worklog needs a work item or a comment — POST /worklogs (was 201 with neither, issue
#17), import rows, the timer (tests/integration/test_tracking_api.py) and the pages, which
call the same use case as POST /worklogs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org
from tests.support.api import api_client

RULE = "tracking without a work item is off: give a work item or a comment"


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        made = make_org(client)
        rules = client.put("/api/v1/settings/tracking", json={"tracking_without_work_item": False},
                           headers=made.admin)
        assert rules.status_code == 200, rules.text
        yield made


def _worklogs(org: Org) -> list[dict[str, object]]:
    response = org.client.get("/api/v1/worklogs", headers=org.admin)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_a_bare_worklog_is_refused_and_one_with_a_work_item_or_a_comment_is_added(org: Org) -> None:
    org.work_items(12)
    bare = org.client.post("/api/v1/worklogs", json={"started_at": "2026-01-05T09:00:00Z", "length_s": 600},
                           headers=org.admin)
    assert bare.status_code == 422, bare.text
    assert bare.json()["errors"] == [{"field": "work_item", "message": RULE}]
    assert _worklogs(org) == []

    blank = {"started_at": "2026-01-05T09:00:00Z", "length_s": 600, "comment": "   "}
    assert org.client.post("/api/v1/worklogs", json=blank, headers=org.admin).status_code == 422
    for more in ({"comment": "standup"}, {"work_item": 12}):
        body = {"started_at": "2026-01-05T10:00:00Z", "length_s": 600, **more}
        added = org.client.post("/api/v1/worklogs", json=body, headers=org.admin)
        assert added.status_code == 201, added.text
    assert len(_worklogs(org)) == 2


def test_an_import_with_a_bare_row_names_that_line_and_stores_nothing(org: Org) -> None:
    org.work_items(12)
    csv = (
        "User,Timestamp,Duration (hours),Comment,Work item\n"
        "admin@acme.test,2026-01-05T09:00:00,1,review,\n"
        "admin@acme.test,2026-01-05T10:00:00,1,,\n"
        "admin@acme.test,2026-01-05T11:00:00,1,,12\n"
    )
    response = org.client.post("/api/v1/worklogs/import", content=csv.encode(),
                               headers={**org.admin, "Content-Type": "text/csv"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"line": 3, "reason": RULE}]
    assert _worklogs(org) == []


def test_a_batch_with_a_bare_line_names_that_line_and_adds_nothing(org: Org) -> None:
    """The batch create (issue #17) checks each line as a single add does."""
    org.work_items(12)
    lines = [
        {"started_at": "2026-01-05T09:00:00Z", "length_s": 600, "work_item": 12},
        {"started_at": "2026-01-05T10:00:00Z", "length_s": 600},
        {"started_at": "2026-01-05T11:00:00Z", "length_s": 600, "comment": "standup"},
    ]
    response = org.client.post("/api/v1/worklogs/batch", json={"worklogs": lines}, headers=org.admin)
    assert response.status_code == 422, response.text
    assert [(e["index"], e["reason"]) for e in response.json()["errors"]] == [(1, RULE)]
    assert _worklogs(org) == []
