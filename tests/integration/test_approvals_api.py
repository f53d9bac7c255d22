"""The approval queue over HTTP, on SQLite and PostgreSQL: approvers, reject with a note,
reopen, revoke, the queue, the approval settings (issue #17)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.clock import FixedClock
from plugins.jobs.registry import run_job
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org, run, stint_of
from tests.support.api import api_client

WEEK = "2025-W52"  # 22–28 December 2025; the clock reads 1 January 2026


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield make_org(client)


def _log(org: Org, headers: dict[str, str], started_at: str, length_s: int = 3600) -> int:
    body = {"started_at": started_at, "length_s": length_s, "billable_length_s": length_s // 2,
            "comment": "work"}
    return org.client.post("/api/v1/worklogs", json=body, headers=headers).status_code


def test_an_approver_decides_only_their_peoples_weeks_and_sees_them_in_the_queue(org: Org) -> None:
    ann, ann_id = org.add_user("ann")
    bob, bob_id = org.add_user("bob")
    pam, pam_id = org.add_user("pam")
    c = org.client
    set_ = c.put(f"/api/v1/users/{ann_id}/approvers", json={"approver_ids": [pam_id]}, headers=org.admin)
    assert set_.status_code == 200 and set_.json() == {"approver_ids": [pam_id]}
    assert c.get(f"/api/v1/users/{ann_id}/approvers", headers=org.admin).json() == {"approver_ids": [pam_id]}
    listed = {u["id"]: u["approver_ids"] for u in c.get("/api/v1/users", headers=org.admin).json()["items"]}
    assert listed[ann_id] == [pam_id] and listed[bob_id] == []
    # Only Administrators set approvers.
    assert c.put(f"/api/v1/users/{bob_id}/approvers", json={"approver_ids": [pam_id]},
                 headers=pam).status_code == 403

    assert _log(org, ann, "2025-12-22T09:00:00Z") == 201
    assert _log(org, bob, "2025-12-22T09:00:00Z") == 201
    for who in (ann, bob):
        assert c.post(f"/api/v1/weeks/{WEEK}/submit", headers=who).status_code == 200

    queue = c.get("/api/v1/approvals", headers=pam).json()
    assert [(i["user"]["id"], i["week"], i["state"], i["tracked_s"], i["billable_s"])
            for i in queue["items"]] == [(ann_id, WEEK, "submitted", 3600, 1800)]
    assert queue["items"][0]["submitted_at"] is not None
    assert c.post(f"/api/v1/weeks/{WEEK}/approve", json={"user_id": bob_id}, headers=pam).status_code == 403
    approved = c.post(f"/api/v1/weeks/{WEEK}/approve", json={"user_id": ann_id}, headers=pam)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    done = c.get("/api/v1/approvals?state=approved", headers=pam).json()["items"]
    assert [(i["user"]["id"], i["decided_by"]) for i in done] == [(ann_id, pam_id)]
    # The global approval manager (the admin who signed up) sees everyone's.
    everyone = c.get("/api/v1/approvals", headers=org.admin).json()["items"]
    assert [i["user"]["id"] for i in everyone] == [bob_id]
    # The approver sees their people's worklogs in the team-wide list, and nobody else's.
    seen = c.get("/api/v1/worklogs/all?from=2025-12-01", headers=pam).json()["items"]
    assert {w["user_id"] for w in seen} == {ann_id}
    assert c.get("/api/v1/worklogs/all", headers=bob).status_code == 403
    # … and their people's weeks one at a time (the approval page's detail), nobody else's.
    assert c.get(f"/api/v1/timesheet?week={WEEK}&user={ann_id}", headers=pam).json()["total_s"] == 3600
    assert c.get(f"/api/v1/timesheet?week={WEEK}&user={bob_id}", headers=pam).status_code == 403


def test_a_rejection_needs_a_note_which_the_owner_reads_on_their_timesheet(org: Org) -> None:
    ann, ann_id = org.add_user("ann")
    c = org.client
    assert c.post(f"/api/v1/weeks/{WEEK}/submit", headers=ann).status_code == 200
    for body in ({"user_id": ann_id}, {"user_id": ann_id, "note": "   "}):
        refused = c.post(f"/api/v1/weeks/{WEEK}/reject", json=body, headers=org.admin)
        assert refused.status_code == 422, refused.text
    rejected = c.post(f"/api/v1/weeks/{WEEK}/reject", json={"user_id": ann_id, "note": "Tuesday is missing"},
                      headers=org.admin)
    assert rejected.status_code == 200 and rejected.json()["note"] == "Tuesday is missing"
    sheet = c.get(f"/api/v1/timesheet?week={WEEK}", headers=ann).json()
    assert (sheet["status"], sheet["note"]) == ("rejected", "Tuesday is missing")
    queue = c.get("/api/v1/approvals?state=rejected", headers=org.admin).json()["items"]
    assert [i["note"] for i in queue] == ["Tuesday is missing"]


def test_the_owner_revokes_an_undecided_submission_and_a_decided_week_is_reopened(org: Org) -> None:
    ann, ann_id = org.add_user("ann")
    c = org.client
    assert c.delete(f"/api/v1/weeks/{WEEK}/submission", headers=ann).status_code == 409  # not submitted
    assert c.post(f"/api/v1/weeks/{WEEK}/submit", headers=ann).status_code == 200
    revoked = c.delete(f"/api/v1/weeks/{WEEK}/submission", headers=ann)
    assert revoked.status_code == 200 and revoked.json()["status"] == "open"
    assert c.post(f"/api/v1/weeks/{WEEK}/submit", headers=ann).status_code == 200
    approve = c.post(f"/api/v1/weeks/{WEEK}/approve", json={"user_id": ann_id}, headers=org.admin)
    assert approve.status_code == 200
    assert c.delete(f"/api/v1/weeks/{WEEK}/submission", headers=ann).status_code == 409
    assert _log(org, ann, "2025-12-23T09:00:00Z") == 423  # approved: locked
    reopened = c.post(f"/api/v1/weeks/{WEEK}/reopen", json={"user_id": ann_id}, headers=org.admin)
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"
    assert _log(org, ann, "2025-12-23T09:00:00Z") == 201
    assert c.post(f"/api/v1/weeks/{WEEK}/reopen", json={"user_id": ann_id},
                  headers=org.admin).status_code == 409


def test_the_approval_settings_lock_weeks_without_anyone_clicking_and_are_audited(org: Org) -> None:
    ann, ann_id = org.add_user("ann")
    c = org.client
    assert _log(org, ann, "2025-12-22T09:00:00Z") == 201
    assert c.get("/api/v1/settings/approval", headers=org.admin).json() == {
        "start_date": None, "auto_lock_after_days": None}
    assert c.put("/api/v1/settings/approval", json={"auto_lock_after_days": -1},
                 headers=org.admin).status_code in (400, 422)
    assert c.put("/api/v1/settings/approval", json={"auto_lock_after_days": 3},
                 headers=ann).status_code == 403
    saved = c.put("/api/v1/settings/approval", json={"auto_lock_after_days": 3}, headers=org.admin)
    assert saved.status_code == 200 and saved.json() == {"start_date": None, "auto_lock_after_days": 3}
    # 1 January: the week ending 28 December locks after the 31st.
    assert _log(org, ann, "2025-12-23T09:00:00Z") == 423
    sheet = c.get(f"/api/v1/timesheet?week={WEEK}", headers=ann).json()
    assert (sheet["status"], sheet["locked"]) == ("closed", True)
    # The job only writes down what the rule already says.
    stint = stint_of(c)
    assert run(c, run_job, stint, "approval_locks") == {"closed": 1}
    assert run(c, run_job, stint, "approval_locks") == {"closed": 0}
    closed = c.get("/api/v1/worklogs/all", params={"approval": "closed", "from": "2025-12-01"},
                   headers=org.admin).json()["items"]
    assert [w["user_id"] for w in closed] == [ann_id]
    # The tracking rules' route leaves the approval settings alone.
    rules = c.get("/api/v1/settings/tracking", headers=org.admin).json()
    assert c.put("/api/v1/settings/tracking", json=rules, headers=org.admin).status_code == 200
    assert c.get("/api/v1/settings/approval", headers=org.admin).json()["auto_lock_after_days"] == 3
    start = c.put("/api/v1/settings/approval", json={"start_date": "2026-01-12"}, headers=org.admin)
    assert start.status_code == 200
    assert _log(org, ann, "2026-01-06T09:00:00Z") == 423  # a week before the start date
    assert _log(org, ann, "2026-01-13T09:00:00Z") == 201
    audit = c.get("/api/v1/audit", headers=org.admin)
    assert audit.status_code == 200 and "approval.settings_changed" in audit.text


def test_a_job_run_that_did_something_is_logged_at_info_and_one_that_found_nothing_at_debug(
    org: Org,
) -> None:
    """The schedule wakes a dozen jobs every 30 s to an hour; an operator's log shows what they
    did, not that they woke up. Both runs are recorded either way."""
    ann, _ = org.add_user("ann")
    c = org.client
    assert _log(org, ann, "2025-12-22T09:00:00Z") == 201
    assert c.put("/api/v1/settings/approval", json={"auto_lock_after_days": 3},
                 headers=org.admin).status_code == 200
    seen: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = seen.append  # type: ignore[method-assign]
    jobs_log = logging.getLogger("stint.jobs")
    level = jobs_log.level
    jobs_log.addHandler(handler)
    jobs_log.setLevel(logging.DEBUG)
    try:
        stint = stint_of(c)
        assert run(c, run_job, stint, "approval_locks") == {"closed": 1}
        assert run(c, run_job, stint, "approval_locks") == {"closed": 0}
    finally:
        jobs_log.removeHandler(handler)
        jobs_log.setLevel(level)
    runs = [r for r in seen if getattr(r, "job", None) == "approval_locks"]
    assert [(r.levelno, r.counts) for r in runs] == [  # type: ignore[attr-defined]
        (logging.INFO, {"closed": 1}), (logging.DEBUG, {"closed": 0})]
