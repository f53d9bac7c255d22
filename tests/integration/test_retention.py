"""Retention (SPEC §3): cloud data purged 365 days after expiry, after 30/7/1-day warnings.

Rules in isolation first (which warning is due), then the job on both engines.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from core.services.retention import purge_allowed, warning_due
from plugins.storage.jobs_tables import RetentionNotice
from plugins.storage.tables import AuditEvent, TenantUser
from plugins.storage.tables import Tenant as TenantRow
from plugins.storage.tracking_tables import TrackingTimer
from tests.conftest import make_settings
from tests.integration.test_jobs import job, on
from tests.support.api import PASSWORD, api_client, bearer, operator_token, run, signup, stint, token
from tests.support.mail import Inbox

PURGE = date(2027, 1, 1)


def test_the_most_urgent_warning_reached_is_due_once() -> None:
    """31 days out: none; 30: the 30-day one; 5 days out after it: the 7-day one; then none."""
    assert warning_due(PURGE - timedelta(days=31), PURGE, {}) is None
    assert warning_due(PURGE - timedelta(days=30), PURGE, {}) == 30
    assert warning_due(PURGE - timedelta(days=29), PURGE, {30: PURGE - timedelta(days=30)}) is None
    assert warning_due(PURGE - timedelta(days=5), PURGE, {30: PURGE - timedelta(days=30)}) == 7
    assert warning_due(PURGE - timedelta(days=1), PURGE, {30: date(2026, 12, 2), 7: date(2026, 12, 25)}) == 1


def test_a_job_that_missed_every_warning_gives_the_last_one_and_purges_a_day_later() -> None:
    """No purge without a warning given on an earlier day, however late the job runs."""
    late = PURGE + timedelta(days=10)
    assert warning_due(late, PURGE, {}) == 1
    assert not purge_allowed(late, PURGE, {})
    assert not purge_allowed(late, PURGE, {1: late})
    assert purge_allowed(late + timedelta(days=1), PURGE, {1: late})
    assert not purge_allowed(PURGE - timedelta(days=1), PURGE, {1: PURGE - timedelta(days=2)})


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock, inbox: tuple[Inbox, int]) -> Any:
    settings = make_settings(
        database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440", STINT_SMTP_URL=f"smtp://127.0.0.1:{inbox[1]}",
    )
    with api_client(settings, clock) as c:
        yield c


def expire_now(client: Any, slug: str) -> None:
    """An operator ends the tenant's trial today: the subscription expires today."""
    today = stint(client).clock.now().date().isoformat()
    response = client.post(
        f"/api/v1/operator/tenants/{slug}/trial", json={"ends_on": today},
        headers=another_operator(client),
    )
    assert response.status_code == 200, response.text


def can_sign_in(client: Any, slug: str) -> bool:
    response = client.post(
        "/api/v1/auth/token", json={"tenant": slug, "email": f"admin@{slug}.test", "password": PASSWORD}
    )
    return response.status_code == 200


def rows(client: Any, table: Any, tenant_id: str) -> int:
    return int(run(client, lambda: table.count().where(table.tenant_id == tenant_id)))


def tenant_id(client: Any, slug: str) -> str:
    row = run(client, lambda: TenantRow.select(TenantRow.id).where(TenantRow.slug == slug).first())
    return str(row["id"])


def test_a_cloud_tenant_is_warned_at_30_7_and_1_days_and_purged_on_day_365(
    client: Any, clock: FixedClock, inbox: tuple[Inbox, int]
) -> None:
    """One mail per warning however often the jobs run; then its data goes and its record stays."""
    on(clock, "2026-01-01")
    signup(client, "gone")
    headers = bearer(token(client, "gone", "admin@gone.test"))
    assert client.post("/api/v1/tracking/start", json={"comment": "x"}, headers=headers).status_code == 201
    on(clock, "2026-01-01")
    expire_now(client, "gone")
    gone = tenant_id(client, "gone")
    mails, _ = inbox

    for day in ("2026-12-01", "2026-12-02", "2026-12-25", "2026-12-31"):
        on(clock, day)
        for _ in range(2):
            job(client, "retention")
            job(client, "mail")
        assert can_sign_in(client, "gone")
    assert mails.to("admin@gone.test") == [
        f"Stint data of gone will be deleted in {days}" for days in ("30 days", "7 days", "1 day")
    ]
    assert rows(client, RetentionNotice, gone) == 3
    assert rows(client, TrackingTimer, gone) == 1

    on(clock, "2027-01-01")
    assert job(client, "retention")["purged"] == 1
    assert job(client, "retention")["purged"] == 0

    assert not can_sign_in(client, "gone")
    assert (rows(client, TenantUser, gone), rows(client, TrackingTimer, gone)) == (0, 0)
    audit = run(client, lambda: AuditEvent.select(AuditEvent.action).where(AuditEvent.tenant_id == gone))
    assert [a["action"] for a in audit].count("tenant.purged") == 1  # the audit trail stays
    listed = client.get(
        "/api/v1/operator/tenants", headers=bearer(operator_token(client, "o2@v.test"))
    )
    assert listed.status_code == 200, listed.text
    assert [t["slug"] for t in listed.json()["items"]] == ["gone"]  # the tenant's record is kept


def test_on_premises_data_is_never_purged(client: Any, clock: FixedClock) -> None:
    """An on-premises server expired two years ago keeps everything."""
    on(clock, "2026-01-01")
    signup(client, "server", deployment="onprem")
    expire_now(client, "server")
    on(clock, "2028-01-01")
    assert job(client, "retention") == {"warned": 0, "mails": 0, "purged": 0}
    assert can_sign_in(client, "server")


def test_a_reactivated_tenant_is_not_purged(client: Any, clock: FixedClock) -> None:
    """Bought again before the purge date: the warnings stop and nothing is deleted."""
    on(clock, "2026-01-01")
    signup(client, "back")
    expire_now(client, "back")
    on(clock, "2026-12-02")
    assert job(client, "retention")["warned"] == 1
    bought = client.post(
        "/api/v1/subscription/purchase", json={"plan": "team", "interval": "annual", "seats": 2},
        headers=bearer(token(client, "back", "admin@back.test")),
    )
    assert bought.status_code == 200, bought.text
    on(clock, "2027-01-02")
    assert job(client, "retention")["purged"] == 0
    assert can_sign_in(client, "back")


def another_operator(client: Any) -> dict[str, str]:
    """A new operator signed in (``operator_token`` enrols one per e-mail address)."""
    import uuid

    return bearer(operator_token(client, f"ops-{uuid.uuid4().hex[:8]}@vendor.test"))


def purge(client: Any, slug: str, confirm: str) -> Any:
    return client.post(f"/api/v1/operator/tenants/{slug}/purge", json={"confirm": confirm},
                       headers=another_operator(client))


def test_an_operator_cannot_purge_a_day_early_and_can_export_the_tenant_meanwhile(
    client: Any, clock: FixedClock
) -> None:
    import io
    import json
    import zipfile

    on(clock, "2026-01-01")
    signup(client, "gone")
    expire_now(client, "gone")
    on(clock, "2026-12-31")
    job(client, "retention")  # the 1-day warning
    early = purge(client, "gone", "gone")
    assert early.status_code == 409 and early.json()["reason"] == "retention_running"
    assert "kept until 2027-01-01" in early.json()["detail"]

    archive = client.get("/api/v1/operator/tenants/gone/export", headers=another_operator(client))
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        assert json.loads(opened.read("manifest.json"))["tables"]["tenant_user"]["rows"] == 1


def test_an_operator_purge_needs_the_slug_typed_again_and_happens_once(
    client: Any, clock: FixedClock
) -> None:
    on(clock, "2026-01-01")
    signup(client, "gone")
    expire_now(client, "gone")
    on(clock, "2026-12-31")
    job(client, "retention")
    on(clock, "2027-01-01")
    wrong = purge(client, "gone", "gon")
    assert wrong.status_code == 422 and "confirm" in wrong.json()["detail"], wrong.text
    assert can_sign_in(client, "gone")
    done = purge(client, "gone", "gone")
    assert done.status_code == 200, done.text
    assert done.json()["deleted"]["tenant_user"] == 1
    assert not can_sign_in(client, "gone")
    again = purge(client, "gone", "gone")
    assert again.status_code == 409 and again.json()["reason"] == "purged"
    gone = tenant_id(client, "gone")
    audit = run(client, lambda: AuditEvent.select(AuditEvent.action, AuditEvent.actor).where(
        (AuditEvent.tenant_id == gone) & (AuditEvent.action == "tenant.purged")))
    assert [a["actor"].split(":")[0] for a in audit] == ["operator"]


def test_an_operator_cannot_purge_a_tenant_that_was_never_warned_an_active_one_or_an_on_premises_one(
    client: Any, clock: FixedClock
) -> None:
    on(clock, "2026-01-01")
    for slug, deployment in (("silent", "cloud"), ("alive", "cloud"), ("server", "onprem")):
        signup(client, slug, deployment=deployment)
    expire_now(client, "silent")
    expire_now(client, "server")
    on(clock, "2027-02-01")  # the retention job never ran: no warning was given
    assert purge(client, "silent", "silent").json()["reason"] == "not_warned"
    assert purge(client, "alive", "alive").json()["reason"] == "not_expired"
    assert purge(client, "server", "server").json()["reason"] == "onprem"
    assert purge(client, "nobody", "nobody").status_code == 404
    assert all(can_sign_in(client, slug) for slug in ("silent", "alive", "server"))
