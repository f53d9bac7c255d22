"""Worklogs after the fact: fields and flags, the added-by rule, locked weeks, plan limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org, run, stint_of
from tests.support.api import api_client, bearer, operator_token

MONDAY = "2026-01-05T09:00:00Z"  # ISO week 2026-W02


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield make_org(client)


def _add(org: Org, headers: dict[str, str], **fields: object) -> dict[str, object]:
    body = {"started_at": MONDAY, "length_s": 3600, **fields}
    response = org.client.post("/api/v1/worklogs", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_worklog_keeps_every_field_and_is_flagged_manual_and_billable(org: Org) -> None:
    """All SPEC fields come back as sent, with the manual and billable flags and added-by."""
    org.work_items(12)
    created = _add(org, org.admin, billable_length_s=1800, work_item="12", comment="review",
                   activity_type="Development")

    assert created["flags"] == ["billable", "manual"]
    assert created["added_by"] == org.admin_id
    assert (created["length_s"], created["billable_length_s"]) == (3600, 1800)
    listed = org.client.get("/api/v1/worklogs", headers=org.admin).json()["items"]
    assert listed == [created]


def test_pages_of_two_walk_every_worklog_exactly_once_in_start_order_even_with_equal_starts(org: Org) -> None:
    """Seven worklogs, three of them starting at the same instant: limit=2 pages visit each once,
    ordered by started_at then id, and the last page has no next cursor."""
    starts = ["2026-01-07T09:00:00Z", MONDAY, MONDAY, "2026-01-06T09:00:00Z", MONDAY,
              "2026-01-08T09:00:00Z", "2026-01-06T09:00:00Z"]
    created = [_add(org, org.admin, started_at=start, length_s=60) for start in starts]

    seen: list[dict[str, object]] = []
    cursor = ""
    for _ in range(10):
        response = org.client.get("/api/v1/worklogs", params={"limit": 2, "cursor": cursor},
                                  headers=org.admin)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(created)
    assert [w["id"] for w in seen] == [
        w["id"] for w in sorted(created, key=lambda w: (str(w["started_at"]), str(w["id"])))
    ]


@pytest.mark.parametrize("cursor", ["garbage!", "bm90IGEgY3Vyc29y", "MjAyNi0wMS0wNVQwOTowMDowMHw", "ü"])
def test_a_forged_or_garbled_cursor_is_refused_with_422_naming_the_cursor(org: Org, cursor: str) -> None:
    """Not base64, base64 of no timestamp, a timestamp without an id or zone, non-ASCII: 422."""
    _add(org, org.admin)
    response = org.client.get("/api/v1/worklogs", params={"cursor": cursor}, headers=org.admin)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"] == [
        {"field": "cursor", "message": "this cursor did not come from a previous page"}
    ]


def test_editing_a_worklog_flags_it_changed_and_null_clears_a_field(org: Org) -> None:
    """PATCH changes only what is sent; null removes the work item."""
    org.work_items(12)
    created = _add(org, org.admin, work_item="12", comment="x")
    changed = org.client.patch(f"/api/v1/worklogs/{created['id']}", json={"work_item": None, "length_s": 600},
                               headers=org.admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["work_item"] is None
    assert changed.json()["comment"] == "x"
    assert changed.json()["flags"] == ["changed", "manual"]


@pytest.mark.parametrize(
    "bad", [{"length_s": 0}, {"billable_length_s": 7200}, {"started_at": "2026-01-05T09:00:00"}]
)
def test_bad_worklogs_are_refused_with_422(org: Org, bad: dict[str, object]) -> None:
    """No length, billable longer than the length, or a time without a zone: 422, never 500."""
    response = org.client.post("/api/v1/worklogs", json={"started_at": MONDAY, "length_s": 3600, **bad},
                               headers=org.admin)
    assert response.status_code == 422, response.text


def test_a_managers_worklog_for_a_user_is_editable_by_both_until_the_user_edits_it(org: Org) -> None:
    """The approval manager adds for Ann; both may edit; after Ann's edit only Ann may."""
    manager, _ = org.add_user("max", approval_manager=True)
    ann, ann_id = org.add_user("ann")
    created = _add(org, manager, user_id=ann_id, comment="by max")
    url = f"/api/v1/worklogs/{created['id']}"
    assert created["user_id"] == ann_id and created["added_by"] != ann_id

    assert org.client.patch(url, json={"comment": "max again"}, headers=manager).status_code == 200
    assert org.client.patch(url, json={"comment": "ann's now"}, headers=ann).status_code == 200
    refused = org.client.patch(url, json={"comment": "max once more"}, headers=manager)

    assert refused.status_code == 403
    assert refused.json()["code"] == "not_permitted"
    assert org.client.delete(url, headers=manager).status_code == 403


def test_a_team_user_cannot_add_worklogs_for_someone_else(org: Org) -> None:
    """Adding for another user needs an Administrator or an approval manager."""
    ann, _ = org.add_user("ann")
    response = org.client.post("/api/v1/worklogs", json={"started_at": MONDAY, "length_s": 60,
                                                         "user_id": org.admin_id}, headers=ann)
    assert response.status_code == 403


def test_nothing_can_be_added_changed_or_deleted_inside_an_approved_week(org: Org) -> None:
    """Submit and approve W02: add, edit, delete and moving a worklog in all answer 423."""
    ann, ann_id = org.add_user("ann")
    inside = _add(org, ann)
    outside = _add(org, ann, started_at="2026-01-12T09:00:00Z")
    assert org.client.post("/api/v1/weeks/2026-W02/submit", headers=ann).json()["status"] == "submitted"
    approved = org.client.post("/api/v1/weeks/2026-W02/approve", json={"user_id": ann_id}, headers=org.admin)
    assert approved.json()["status"] == "approved"

    attempts = [
        org.client.post("/api/v1/worklogs", json={"started_at": MONDAY, "length_s": 60}, headers=ann),
        org.client.patch(f"/api/v1/worklogs/{inside['id']}", json={"comment": "x"}, headers=ann),
        org.client.delete(f"/api/v1/worklogs/{inside['id']}", headers=ann),
        org.client.patch(f"/api/v1/worklogs/{outside['id']}", json={"started_at": MONDAY}, headers=ann),
    ]

    assert [r.status_code for r in attempts] == [423, 423, 423, 423]
    assert {r.json()["code"] for r in attempts} == {"week_locked"}
    sheet = org.client.get("/api/v1/timesheet?week=2026-W02", headers=ann).json()
    assert (sheet["status"], sheet["locked"]) == ("approved", True)


def test_a_rejected_week_is_open_again(org: Org) -> None:
    """Reject (with its required note) reopens an approved week: its worklogs can change again."""
    ann, ann_id = org.add_user("ann")
    inside = _add(org, ann)
    org.client.post("/api/v1/weeks/2026-W02/submit", headers=ann)
    org.client.post("/api/v1/weeks/2026-W02/approve", json={"user_id": ann_id}, headers=org.admin)
    note = {"user_id": ann_id, "note": "fix Monday"}
    rejected = org.client.post("/api/v1/weeks/2026-W02/reject", json=note, headers=org.admin)

    assert rejected.json()["status"] == "rejected"
    assert org.client.patch(f"/api/v1/worklogs/{inside['id']}", json={"comment": "fixed"},
                            headers=ann).status_code == 200


def test_only_approval_managers_approve_and_only_owners_submit(org: Org) -> None:
    """A Team user cannot approve (403); approving an open week is a conflict (409)."""
    ann, ann_id = org.add_user("ann")
    assert org.client.post("/api/v1/weeks/2026-W02/approve", json={"user_id": ann_id},
                           headers=ann).status_code == 403
    assert org.client.post("/api/v1/weeks/2026-W02/approve", json={"user_id": ann_id},
                           headers=org.admin).status_code == 409
    assert org.client.post("/api/v1/weeks/2026-W02/submit", json={"user_id": ann_id},
                           headers=org.admin).status_code == 403


def test_an_administrators_lock_date_freezes_every_day_up_to_it(org: Org) -> None:
    """Locked until Tuesday 6 January: Monday's worklog is frozen, Wednesday's is not."""
    monday = _add(org, org.admin)
    wednesday = _add(org, org.admin, started_at="2026-01-07T09:00:00Z")
    locked = org.client.put("/api/v1/settings/tracking", json={"locked_until": "2026-01-06"},
                            headers=org.admin)
    assert locked.status_code == 200, locked.text

    assert org.client.delete(f"/api/v1/worklogs/{monday['id']}", headers=org.admin).status_code == 423
    assert org.client.delete(f"/api/v1/worklogs/{wednesday['id']}", headers=org.admin).status_code == 204


def test_a_lock_date_that_falls_on_a_running_timer_keeps_only_the_time_after_it(
    org: Org, clock: FixedClock
) -> None:
    """SPEC §8: nothing enters a locked day, not even a running timer's worklog."""
    def start(comment: str) -> None:
        started = org.client.post("/api/v1/tracking/start", json={"comment": comment}, headers=org.admin)
        assert started.status_code == 201, started.text

    def lock(day: str) -> None:
        locked = org.client.put("/api/v1/settings/tracking", json={"locked_until": day}, headers=org.admin)
        assert locked.status_code == 200, locked.text

    clock.set(datetime(2026, 1, 1, 23, 30, tzinfo=UTC))  # the tenant's zone is UTC
    start("late")
    lock("2026-01-01")
    clock.set(datetime(2026, 1, 2, 0, 25, tzinfo=UTC))  # before its first activity check
    stopped = org.client.post("/api/v1/tracking/stop", headers=org.admin)
    assert stopped.status_code == 200, stopped.text
    assert (stopped.json()["started_at"], stopped.json()["length_s"]) == ("2026-01-02T00:00:00Z", 1500)

    # A timer wholly on days locked while it ran stops, stores nothing, and says so.
    clock.set(datetime(2026, 1, 2, 5, 0, tzinfo=UTC))
    start("gone")
    lock("2026-01-02")
    clock.set(datetime(2026, 1, 2, 5, 20, tzinfo=UTC))
    refused = org.client.post("/api/v1/tracking/stop", headers=org.admin)
    assert refused.status_code == 423, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["code"] == "week_locked" and problem["stopped"] is True and problem["locked_s"] == 1200
    assert org.client.get("/api/v1/tracking/current", headers=org.admin).json()["running"] is False
    comments = [w["comment"] for w in org.client.get("/api/v1/worklogs", headers=org.admin).json()["items"]]
    assert comments == ["late"]


def _on_plan_with(org: Org, plan_id: str, worklogs: int) -> None:
    """Put every tenant on ``plan_id`` and store ``worklogs`` worklogs of the admin directly."""
    stint = stint_of(org.client)

    async def seed() -> None:
        from core.ids import new_id
        from core.tracking import WorklogFlag, create_worklog, draft_worklog
        from plugins.storage.tables import Subscription

        await Subscription.update({Subscription.plan_id: plan_id}).where(Subscription.id.is_not_null())
        async with stint.uow(write=True) as work:
            tenant = await work.directory.tenant_by_slug(org.slug)
            drafts = [draft_worklog(org.admin_id, stint.clock.now(), 60, origin=WorklogFlag.MANUAL)
                      for _ in range(worklogs)]
            await work.tenant(tenant.id).tracking().add_worklogs(
                [create_worklog(d, new_id()) for d in drafts], stint.clock.now())
            await work.commit()

    run(org.client, seed)


def test_the_free_plan_stops_at_500_worklogs_per_tenant(org: Org) -> None:
    """The 501st worklog of a Free tenant is refused with 402 worklog_limit, timers too."""
    _on_plan_with(org, "free", 500)
    response = org.client.post("/api/v1/worklogs", json={"started_at": MONDAY, "length_s": 60},
                               headers=org.admin)

    assert response.status_code == 402, response.text
    assert response.json()["code"] == "worklog_limit"
    assert org.client.post("/api/v1/tracking/start", headers=org.admin).status_code == 402


def test_the_start_plan_counts_1000_worklogs_per_user_and_refuses_an_import_whole(org: Org) -> None:
    """At 999, one more row for the admin and one for Ann import; two more for the admin do not."""
    _on_plan_with(org, "start", 999)
    org.add_user("ann")
    header = "User,Timestamp,Duration (hours)\r\n"
    fits = header + "admin@acme.test,2026-01-05T09:00:00Z,1\r\nann@acme.test,2026-01-05T09:00:00Z,1\r\n"
    too_many = header + "ann@acme.test,2026-01-06T09:00:00Z,1\r\n" + (
        "admin@acme.test,2026-01-06T09:00:00Z,1\r\n" * 2)
    csv = {**org.admin, "Content-Type": "text/csv"}

    refused = org.client.post("/api/v1/worklogs/import", content=too_many.encode(), headers=csv)
    accepted = org.client.post("/api/v1/worklogs/import", content=fits.encode(), headers=csv)

    assert refused.status_code == 402, refused.text
    assert refused.json()["scope"] == "user"
    assert accepted.status_code == 201, accepted.text
    assert org.client.post("/api/v1/worklogs", json={"started_at": MONDAY, "length_s": 60},
                           headers=org.admin).status_code == 402


def _operator_plans(org: Org, change: dict[str, object], *, based_on: str) -> None:
    """Through the operator API: plan ``based_on`` with ``change`` applied, added or replaced."""
    ops = bearer(operator_token(org.client))
    plans = org.client.get("/api/v1/operator/plans", headers=ops).json()
    plan = dict(next(p for p in plans if p["id"] == based_on), **change)
    response = org.client.put("/api/v1/operator/plans", json=[plan], headers=ops)
    assert response.status_code == 200, response.text


def _buys(org: Org, plan: str, seats: int = 1) -> None:
    body = {"plan": plan, "interval": "monthly", "seats": seats}
    response = org.client.post("/api/v1/subscription/purchase", json=body, headers=org.admin)
    assert response.status_code == 200, response.text


def _worklog(org: Org, day: int) -> int:
    body = {"started_at": f"2026-01-{day:02d}T09:00:00Z", "length_s": 60}
    return int(org.client.post("/api/v1/worklogs", json=body, headers=org.admin).status_code)


def test_an_operator_lowered_worklog_limit_refuses_the_tenants_next_worklog_over_it(org: Org) -> None:
    """Free's limit edited from 500 to 2 per tenant: the third worklog is refused (402), timers too."""
    _buys(org, "free")
    _operator_plans(org, {"worklog_limit_per_tenant": 2}, based_on="free")

    assert [_worklog(org, day) for day in (5, 6)] == [201, 201]
    refused = org.client.post("/api/v1/worklogs", json={"started_at": MONDAY, "length_s": 60},
                              headers=org.admin)

    assert refused.status_code == 402, refused.text
    assert refused.json()["code"] == "worklog_limit"
    assert org.client.post("/api/v1/tracking/start", headers=org.admin).status_code == 402


def test_a_tenant_on_an_operator_added_plan_adds_worklogs_within_its_limit(org: Org) -> None:
    """A new plan "studio" (3 worklogs per user) bought by the tenant: worklogs up to 3, the 4th is 402."""
    _operator_plans(org, {"id": "studio", "name": "Studio", "worklog_limit_per_user": 3}, based_on="team")
    _buys(org, "studio")

    assert [_worklog(org, day) for day in (5, 6, 7, 8)] == [201, 201, 201, 402]


def test_without_a_stored_catalogue_the_default_plans_limits_hold(org: Org) -> None:
    """An empty plan_catalogue table (never seeded) means the default plans: Free still stops at 500."""
    from plugins.storage.tables import PlanCatalogue

    run(org.client, lambda: PlanCatalogue.delete(force=True))
    _on_plan_with(org, "free", 500)

    assert _worklog(org, 5) == 402


RANGE = "dates must lie between 1970-01-01 and 2999-12-31"


@pytest.mark.parametrize(
    "body",
    [
        {"started_at": "0001-01-01T00:00:00+14:00", "length_s": 3600},
        {"started_at": "9999-12-31T23:00:00-05:00", "length_s": 3600},
        {"started_at": "9999-12-31T23:00:00+00:00", "length_s": 7200},
        {"started_at": "2999-12-31T23:30:00+00:00", "length_s": 3600},
        {"started_at": "1969-12-31T23:00:00+00:00", "length_s": 60},
    ],
)
def test_refuses_worklogs_outside_1970_to_2999_with_422_naming_started_at(
    org: Org, body: dict[str, object]
) -> None:
    """Starts in year 0 or 10000 (UTC) were 500s and one ending after 9999 was stored: all 422 now."""
    response = org.client.post("/api/v1/worklogs", json=body, headers=org.admin)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"][0]["field"] == "started_at" and RANGE in problem["detail"]
    assert org.client.get("/api/v1/worklogs", headers=org.admin).json()["items"] == []


def test_refuses_moving_a_worklog_out_of_the_range(org: Org) -> None:
    """PATCH to year 10000 (UTC) is refused like POST, and the worklog stays as it was."""
    created = _add(org, org.admin)
    moved = org.client.patch(f"/api/v1/worklogs/{created['id']}", headers=org.admin,
                             json={"started_at": "9999-12-31T23:00:00-05:00"})
    assert moved.status_code == 422, moved.text
    assert RANGE in moved.json()["detail"]


@pytest.mark.parametrize(
    ("param", "value"),
    [("from", "0001-01-01T00:00:00+14:00"), ("to", "9999-12-31T23:00:00-05:00"),
     ("from", "1969-12-31T00:00:00Z")],
)
def test_refuses_listing_from_or_to_outside_the_range_naming_the_parameter(
    org: Org, param: str, value: str
) -> None:
    """?from=0001-01-01T00:00:00+14:00 was a 500 (year 0 in UTC): a 422 that names the parameter."""
    response = org.client.get("/api/v1/worklogs", params={param: value}, headers=org.admin)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == param and RANGE in response.json()["detail"]


def test_refuses_a_lock_date_outside_the_range(org: Org) -> None:
    """The tenant's lock date is a date like any other."""
    response = org.client.put("/api/v1/settings/tracking", json={"locked_until": "9999-12-31"},
                              headers=org.admin)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "locked_until"


@pytest.mark.parametrize("value", ["0.5", "1767600000", "yesterday"])
def test_refuses_a_from_or_to_that_is_not_an_iso_date_time(org: Org, value: str) -> None:
    """?to=0.5 was read as half a second after 1970 and answered 200: it is a 422 naming ``to``."""
    response = org.client.get("/api/v1/worklogs", params={"to": value}, headers=org.admin)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "to"
    ok = org.client.get("/api/v1/worklogs", params={"from": "2026-01-05T00:00:00+01:00"}, headers=org.admin)
    assert ok.status_code == 200, ok.text
