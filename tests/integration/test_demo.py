"""``stint demo``'s weeks of work: every page a newcomer opens shows something (issue #21)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from core.clock import FixedClock
from plugins.demo import DEMO_PASSWORD, load_demo
from tests.conftest import make_settings
from tests.support.api import api_client, bearer, run, stint


def _token(client: Any, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"tenant": "demo-cloud", "email": email,
                                                       "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


def test_the_demo_has_sprints_work_items_budgets_worklogs_and_a_week_waiting_for_approval(
    database_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    with api_client(make_settings(database_url, tmp_path), clock) as client:
        run(client, load_demo, stint(client))
        admin, dana = _token(client, "admin@demo.test"), _token(client, "dev@demo.test")

        assert len(client.get("/api/v1/iterations", headers=admin).json()["items"]) == 3
        items = client.get("/api/v1/work-items", headers=admin).json()["items"]
        assert len(items) == 12
        mine = [i for i in items if i["state_category"] == "InProgress" and i["assigned_to"]
                and i["assigned_to"].get("name") == "Dana Developer"]
        assert len(mine) == 2  # the "blue cells" of Dana's timesheet

        everyone = client.get("/api/v1/worklogs/all", headers=admin, params={"group_by": "user"}).json()
        tracked = {g["key"]["user_id"]: g["tracked_s"] for g in everyone["groups"]}
        assert len(tracked) == 3 and all(seconds > 10 * 3600 for seconds in tracked.values())

        budgets = client.get("/api/v1/budgets", headers=admin).json()["items"]
        assert {b["name"] for b in budgets} == {"Customer portal (fixed price)", "Support retainer"}
        for budget in budgets:
            usage = client.get(f"/api/v1/budgets/{budget['id']}/usage", headers=admin).json()
            assert usage["tracked_s"] > 0 and usage["amount"]["amount"] > 0

        # Two weeks ago is approved (locked); last week waits for its approver.
        weeks = {}
        for back in (1, 2):
            iso = (clock.now().date() - timedelta(days=7 * back)).isocalendar()
            week = f"{iso[0]}-W{iso[1]:02d}"
            weeks[back] = client.get("/api/v1/timesheet", headers=dana, params={"week": week}).json()
        assert weeks[1]["status"] == "submitted" and weeks[2]["status"] == "approved"

        # A second run finds the work there and adds nothing.
        run(client, load_demo, stint(client))
        assert len(client.get("/api/v1/work-items", headers=admin).json()["items"]) == 12
