"""``workLogsWithDeleted``: an incremental refresh asks for what changed since its last run
(``EditedTimestamp ge …``) and gets exactly that — the edited, the added and the deleted
worklogs, the deleted ones flagged with their deletion time (issue #18, Done-when 3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.integration.reporting_support import ODATA, Seeded, ok, seed
from tests.support.api import api_client


@pytest.fixture
def world(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Seeded]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield seed(client, count=12)


def _all(s: Seeded, headers: dict[str, str], **options: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    answer = ok(s.client.get(f"{ODATA}/workLogsWithDeleted", params=options, headers=headers))
    while True:
        rows += answer["value"]
        link = answer.get("@odata.nextLink")
        if not link:
            return rows
        answer = ok(s.client.get("/" + link.split("://", 1)[1].split("/", 1)[1], headers=headers))


def test_changes_since_a_time_are_exactly_the_edited_added_and_deleted_worklogs(
    world: Seeded, clock: FixedClock
) -> None:
    s, admin = world, world.headers["admin"]
    before = _all(s, admin)
    assert len(before) == 12 and not any(row["IsDeleted"] for row in before)

    clock.advance(hours=2)
    since = clock.now().isoformat().replace("+00:00", "Z")
    edited, deleted = s.worklogs[0]["id"], s.worklogs[1]["id"]
    ok(s.client.patch(f"/api/v1/worklogs/{edited}", json={"comment": "changed"}, headers=admin))
    assert s.client.delete(f"/api/v1/worklogs/{deleted}", headers=admin).status_code == 204
    added = ok(s.client.post("/api/v1/worklogs", json={
        "user_id": s.users["tina"], "started_at": "2026-03-02T09:00:00Z", "length_s": 1800,
        "work_item": s.items["T"], "comment": "new"}, headers=admin), 201)["id"]

    changed = {row["Id"]: row for row in _all(s, admin, **{"$filter": f"EditedTimestamp ge {since}"})}
    assert set(changed) == {edited, deleted, added}
    assert changed[edited]["Comment"] == "changed" and changed[edited]["IsDeleted"] is False
    gone = changed[deleted]
    assert gone["IsDeleted"] is True and gone["DeletedTimestamp"] == gone["EditedTimestamp"]
    assert gone["DeletedTimestamp"].startswith(since[:16])
    original = s.worklogs[1]
    assert (gone["PeriodLength"], gone["Comment"], gone["UserId"]) == (
        original["length"], original["comment"], s.users[original["user"]])
    assert changed[added]["IsDeleted"] is False and changed[added]["DeletedTimestamp"] is None

    everything = _all(s, admin)
    assert len(everything) == 13 and sum(row["IsDeleted"] for row in everything) == 1
    # workLogs itself no longer shows the deleted one.
    live = ok(s.client.get(f"{ODATA}/workLogs", params={"$count": "true", "$top": "0"}, headers=admin))
    assert live["@odata.count"] == 12


def test_a_team_user_sees_only_their_own_deleted_worklogs(world: Seeded, clock: FixedClock) -> None:
    s, admin = world, world.headers["admin"]
    tinas = [w["id"] for w in s.worklogs if w["user"] == "tina"]
    umars = [w["id"] for w in s.worklogs if w["user"] == "umar"]
    clock.advance(hours=1)
    for worklog_id in (tinas[0], umars[0]):
        assert s.client.delete(f"/api/v1/worklogs/{worklog_id}", headers=admin).status_code == 204
    mine = _all(s, s.headers["tina"], **{"$filter": "IsDeleted eq true"})
    assert [row["Id"] for row in mine] == [tinas[0]]
    everyone = _all(s, admin, **{"$filter": "IsDeleted eq true", "$orderby": "Id"})
    assert sorted(row["Id"] for row in everyone) == sorted([tinas[0], umars[0]])
