"""The approval pages through the app with a fixed clock (no browser needed): who gets the
page and its nav entry, a week's detail with its worklogs, a refused reject shown in place."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import add_user, api_client, bearer, signup, token

WEEK = "2025-W52"


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[TestClient[Any]]:
    with api_client(make_settings(sqlite_url, tmp_path), clock) as test_client:
        signup(test_client, "pages")
        yield test_client


def _people(client: TestClient[Any]) -> dict[str, Any]:
    admin = token(client, "pages", "admin@pages.test")
    ann = add_user(client, admin, "ann@pages.test")
    pam = add_user(client, admin, "pam@pages.test")
    add_user(client, admin, "tim@pages.test")
    put = client.put(f"/api/v1/users/{ann['id']}/approvers", json={"approver_ids": [pam["id"]]},
                     headers=bearer(admin))
    assert put.status_code == 200
    return {
        "admin": bearer(admin), "ann": bearer(token(client, "pages", "ann@pages.test")), "ann_id": ann["id"],
        "pam": bearer(token(client, "pages", "pam@pages.test")),
        "tim": bearer(token(client, "pages", "tim@pages.test")),
    }


def test_only_those_who_decide_weeks_get_the_approvals_page_and_its_nav_entry(
    client: TestClient[Any]
) -> None:
    people = _people(client)
    for who in ("pam", "admin"):
        page = client.get("/approvals", headers=people[who])
        assert page.status_code == 200 and 'href="/approvals"' in page.text
    assert client.get("/approvals", headers=people["tim"]).status_code == 403
    assert 'href="/approvals"' not in client.get("/time", headers=people["tim"]).text
    users = client.get("/settings/users", headers=people["admin"]).text
    assert '<td class="approvers">pam</td>' in users


def test_a_weeks_detail_lists_its_worklogs_and_a_blank_note_is_refused_in_place(
    client: TestClient[Any]
) -> None:
    people = _people(client)
    body = {"started_at": "2025-12-23T09:00:00Z", "length_s": 5400, "comment": "release notes"}
    assert client.post("/api/v1/worklogs", json=body, headers=people["ann"]).status_code == 201
    assert client.post(f"/api/v1/weeks/{WEEK}/submit", headers=people["ann"]).status_code == 200

    detail = client.get(f"/approvals/{people['ann_id']}/{WEEK}", headers=people["pam"])
    assert detail.status_code == 200 and "release notes" in detail.text and "1:30" in detail.text
    assert client.get(f"/approvals/{people['ann_id']}/{WEEK}", headers=people["tim"]).status_code == 403

    refused = client.post(f"/approvals/{people['ann_id']}/{WEEK}/reject", data={"note": " "},
                          headers=people["pam"])
    assert refused.status_code == 200 and "needs a note" in refused.text
    sheet = client.get(f"/api/v1/timesheet?week={WEEK}", headers=people["ann"]).json()
    assert sheet["status"] == "submitted"
