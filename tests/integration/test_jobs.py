"""Background jobs in-process (SPEC §11), on SQLite and PostgreSQL: each rule, each effect once.

The job functions here are the ones Celery runs (``plugins.jobs.registry``); the Celery
and embedded-scheduler tests drive the same functions through their own runners.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock, today_in
from core.licensing import lifecycle
from plugins.jobs.registry import renew_batch, run_job
from plugins.jobs.status import jobs_status
from plugins.mail import SmtpMailer
from tests.conftest import make_settings
from tests.support.api import api_client, bearer, operator_token, run, signup, stint, token
from tests.support.mail import Inbox, free_port


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock, inbox: tuple[Inbox, int]) -> Any:
    settings = make_settings(
        database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440", STINT_SMTP_URL=f"smtp://127.0.0.1:{inbox[1]}",
    )
    with api_client(settings, clock) as c:
        yield c


def on(clock: FixedClock, day: str) -> None:
    clock.set(datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC))


def job(client: Any, name: str) -> dict[str, int]:
    return dict(run(client, run_job, stint(client), name))


def admin(client: Any, slug: str, deployment: str = "cloud") -> str:
    signup(client, slug, deployment=deployment)
    return slug


def auth(client: Any, slug: str) -> dict[str, str]:
    """Fresh credentials of the tenant's admin (the clock moves days between calls)."""
    return bearer(token(client, slug, f"admin@{slug}.test"))


def buy(client: Any, slug: str, interval: str = "monthly", seats: int = 3) -> None:
    bought = client.post(
        "/api/v1/subscription/purchase", json={"plan": "team", "interval": interval, "seats": seats},
        headers=auth(client, slug),
    )
    assert bought.status_code == 200, bought.text


def subscription(client: Any, slug: str) -> dict[str, Any]:
    response = client.get("/api/v1/subscription", headers=auth(client, slug))
    assert response.status_code == 200, response.text
    return dict(response.json())


def invoices(client: Any, slug: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/invoices", headers=auth(client, slug))
    assert response.status_code == 200, response.text
    body = response.json()
    return list(body["items"] if isinstance(body, dict) else body)


def make_past_due(client: Any, slug: str) -> None:
    """A failed payment, as the payment rail would report it."""
    s = stint(client)

    async def fail() -> None:
        async with s.uow(write=True) as work:
            tenant = await work.directory.tenant_by_slug(slug)
            scope = work.tenant(tenant.id)
            held = await scope.subscriptions().get(for_update=True)
            sub_id, sub = held.id, held.subscription
            failed = lifecycle.payment_failed(sub, today_in(s.clock))
            await scope.subscriptions().save(sub_id, failed, s.clock.now())
            await work.commit()

    run(client, fail)


def test_a_trial_that_ends_is_expired_once_and_access_says_trial_expired(
    client: Any, clock: FixedClock
) -> None:
    """On the trial's end the renewals job expires it; a second run changes nothing."""
    on(clock, "2026-01-01")
    slug = admin(client, "acme")
    on(clock, "2026-01-28")
    assert job(client, "renewals")["expired"] == 0
    assert subscription(client, slug)["status"] == "trialing"

    on(clock, "2026-01-29")
    assert job(client, "renewals")["expired"] == 1
    assert job(client, "renewals")["expired"] == 0
    assert subscription(client, slug)["status"] == "expired"
    assert client.get("/api/v1/me/access", headers=auth(client, slug)).json()["reason"] == "trial_expired"


def test_a_subscription_renews_on_its_expiry_day_with_one_invoice_however_often_it_runs(
    client: Any, clock: FixedClock
) -> None:
    """Two sweeps and two concurrent batches for the same tenant leave one renewal invoice."""
    on(clock, "2026-01-01")
    slug = admin(client, "acme")
    buy(client, slug)
    on(clock, "2026-02-01")
    s = stint(client)
    tenant_id = run(client, _tenant_id, s, "acme")

    async def twice_at_once() -> list[dict[str, int]]:
        return list(await asyncio.gather(renew_batch(s, [tenant_id]), renew_batch(s, [tenant_id])))

    both = run(client, twice_at_once)
    assert sorted(b["renewed"] for b in both) == [0, 1]
    assert job(client, "renewals")["renewed"] == 0

    sub = subscription(client, slug)
    assert (sub["status"], sub["period_start"], sub["period_end"]) == ("active", "2026-02-01", "2026-03-01")
    assert len(invoices(client, slug)) == 2  # the purchase and one renewal


async def _tenant_id(s: Any, slug: str) -> str:
    async with s.uow() as work:
        tenant = await work.directory.tenant_by_slug(slug)
    return str(tenant.id)


def test_a_cancelled_subscription_expires_at_its_period_end_without_an_invoice(
    client: Any, clock: FixedClock
) -> None:
    """Cancelled in January: active until February 1st, expired then, never invoiced again."""
    on(clock, "2026-01-01")
    slug = admin(client, "acme")
    buy(client, slug)
    assert client.post("/api/v1/subscription/cancel", headers=auth(client, slug)).status_code == 200
    on(clock, "2026-01-31")
    job(client, "renewals")
    assert subscription(client, slug)["status"] == "cancelled"
    on(clock, "2026-02-01")
    assert job(client, "renewals")["expired"] == 1
    assert subscription(client, slug)["status"] == "expired"
    assert len(invoices(client, slug)) == 1


def test_a_past_due_subscription_expires_when_its_grace_is_over(client: Any, clock: FixedClock) -> None:
    """Payment failed on January 10th: usable through the 14-day grace, expired on the 24th."""
    on(clock, "2026-01-01")
    slug = admin(client, "acme")
    buy(client, slug)
    on(clock, "2026-01-10")
    make_past_due(client, "acme")
    on(clock, "2026-01-23")
    job(client, "renewals")
    assert subscription(client, slug)["status"] == "past_due"
    on(clock, "2026-01-24")
    assert job(client, "renewals")["expired"] == 1
    assert subscription(client, slug)["status"] == "expired"


def test_collection_admins_get_one_trial_ending_mail_a_week_and_three_days_before(
    client: Any, clock: FixedClock, inbox: tuple[Inbox, int]
) -> None:
    """Queued once however often the job runs, sent once however often delivery runs; users get none."""
    on(clock, "2026-01-01")
    slug = admin(client, "acme")
    assert client.post("/api/v1/users", headers=auth(client, slug), json={
        "email": "ann@acme.test", "name": "Ann", "password": "correct horse battery", "role": "team",
    }).status_code == 201
    on(clock, "2026-01-21")
    assert job(client, "trial_reminders")["queued"] == 0  # eight days left
    on(clock, "2026-01-25")
    assert job(client, "trial_reminders")["queued"] == 1  # four days left: the 7-day reminder, late
    on(clock, "2026-01-26")
    assert job(client, "trial_reminders")["queued"] == 1
    assert job(client, "trial_reminders")["queued"] == 0
    on(clock, "2026-01-27")
    assert job(client, "trial_reminders")["queued"] == 0  # the same trial end: no second mail
    assert job(client, "mail")["sent"] == 2
    assert job(client, "mail")["sent"] == 0

    mails, _ = inbox
    assert mails.to("admin@acme.test") == [
        "Your Stint trial ends in 4 days", "Your Stint trial ends in 3 days"]
    assert mails.to("ann@acme.test") == []


def test_a_mail_server_that_is_down_loses_no_mail(client: Any, clock: FixedClock) -> None:
    """Delivery fails and keeps the mail; once the server is back it goes out, once."""
    on(clock, "2026-01-01")
    admin(client, "acme")
    on(clock, "2026-01-26")
    job(client, "trial_reminders")
    s = stint(client)
    working = s.mailer
    s.mailer = SmtpMailer(f"smtp://127.0.0.1:{free_port()}", s.settings.smtp_from)  # nobody listens there
    try:
        assert job(client, "mail") == {"sent": 0, "failed": 1, "in_doubt": 0}
    finally:
        s.mailer = working
    assert job(client, "mail") == {"sent": 1, "failed": 0, "in_doubt": 0}


def test_job_runs_are_recorded_and_the_operator_sees_the_last_run_and_the_backlog(
    client: Any, clock: FixedClock
) -> None:
    """The operator's jobs status names each job's last run with its counts, and what is due."""
    on(clock, "2026-01-01")
    admin(client, "acme")
    on(clock, "2026-01-29")
    operator = bearer(operator_token(client))
    before = client.get("/api/v1/operator/jobs", headers=operator).json()
    assert before["backlog"]["subscriptions_due"] == 1
    assert "renewals" in before["never_run"]
    job(client, "renewals")
    after = client.get("/api/v1/operator/jobs", headers=operator).json()
    assert after["mode"] == "embedded"
    assert after["last_runs"]["renewals"]["status"] == "ok"
    assert after["last_runs"]["renewals"]["counts"]["expired"] == 1
    assert after["backlog"]["subscriptions_due"] == 0
    status = run(client, jobs_status, stint(client))
    assert status["last_runs"]["renewals"]["counts"] == after["last_runs"]["renewals"]["counts"]


def test_renewals_find_due_work_in_batches(client: Any, clock: FixedClock) -> None:
    """Five trials ending, batch size 2: three batches, five expiries."""
    on(clock, "2026-01-01")
    for n in range(5):
        signup(client, f"org-{n}")
    s = stint(client)
    working = s.settings
    s.settings = replace(working, jobs_batch_size=2)
    try:
        on(clock, "2026-02-01")
        counts = job(client, "renewals")
    finally:
        s.settings = working
    assert (counts["batches"], counts["due"], counts["expired"]) == (3, 5, 5)


def test_one_batch_renews_expires_and_leaves_alone_each_subscription_by_its_own_rule(
    client: Any, clock: FixedClock
) -> None:
    """A trial over, a period over, a cancelled period over, a grace over and a live trial,
    in one batch (one transaction): one renewal, three expiries, nothing else; a rerun is a no-op."""
    on(clock, "2026-01-01")
    for slug in ("trial", "renew", "cancel", "late"):
        admin(client, slug)
    for slug in ("renew", "cancel", "late"):
        buy(client, slug)
    assert client.post("/api/v1/subscription/cancel", headers=auth(client, "cancel")).status_code == 200
    on(clock, "2026-01-10")
    make_past_due(client, "late")
    on(clock, "2026-01-20")
    admin(client, "fresh")

    on(clock, "2026-02-01")
    s = stint(client)
    ids = [run(client, _tenant_id, s, slug) for slug in ("trial", "renew", "cancel", "late", "fresh")]
    counts = run(client, renew_batch, s, ids)
    assert (counts["renewed"], counts["expired"], counts["invoices"], counts["failed"]) == (1, 3, 1, 0)
    again = run(client, renew_batch, s, ids)
    assert (again["renewed"], again["expired"], again["invoices"]) == (0, 0, 0)

    slugs = ("trial", "renew", "cancel", "late", "fresh")
    status = {slug: subscription(client, slug)["status"] for slug in slugs}
    assert status == {"trial": "expired", "renew": "active", "cancel": "expired", "late": "expired",
                      "fresh": "trialing"}
    assert subscription(client, "renew")["period_start"] == "2026-02-01"
    renewal, purchase = invoices(client, "renew")  # newest first
    # A whole month of the same 3 seats as the purchase (bought on the 1st, so not prorated).
    (line,) = renewal["lines"]
    assert (line["kind"], line["starts_on"], line["ends_on"]) == ("renewal", "2026-02-01", "2026-03-01")
    assert (renewal["issued_on"], renewal["total"]) == ("2026-02-01", purchase["total"])
    assert len(invoices(client, "cancel")) == 1


def test_one_broken_subscription_does_not_hold_up_the_rest_of_its_batch(
    client: Any, clock: FixedClock
) -> None:
    """A subscription on a plan the catalogue no longer has fails the bulk transaction; the
    batch then renews tenant by tenant, so only the broken one waits for the next sweep."""
    on(clock, "2026-01-01")
    for slug in ("good", "broken", "fine"):
        admin(client, slug)
        buy(client, slug)
    s = stint(client)

    async def break_plan() -> None:
        from plugins.storage.tables import Subscription as SubscriptionRow

        async with s.uow(write=True) as work:
            tenant = await work.directory.tenant_by_slug("broken")
            await SubscriptionRow.update({SubscriptionRow.plan_id: "withdrawn"}).where(
                SubscriptionRow.id == tenant.subscription_id
            )
            await work.commit()

    run(client, break_plan)
    on(clock, "2026-02-01")
    ids = [run(client, _tenant_id, s, slug) for slug in ("good", "broken", "fine")]
    counts = run(client, renew_batch, s, ids)
    assert (counts["renewed"], counts["failed"]) == (2, 1)
    assert [len(invoices(client, slug)) for slug in ("good", "fine")] == [2, 2]


@pytest.mark.postgres
def test_a_subscription_another_transaction_holds_is_left_for_the_next_sweep(
    postgres_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    """A batch skips a row someone else has locked (FOR UPDATE SKIP LOCKED) instead of waiting
    behind it, renews the rest, and the next sweep renews the skipped one — once."""
    import asyncpg

    with api_client(make_settings(postgres_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440"), clock) as pg:
        on(clock, "2026-01-01")
        for slug in ("held", "free"):
            admin(pg, slug)
            buy(pg, slug)
        on(clock, "2026-02-01")
        s = stint(pg)
        ids = [run(pg, _tenant_id, s, slug) for slug in ("held", "free")]

        async def while_held() -> dict[str, int]:
            other = await asyncpg.connect(postgres_url)
            try:
                async with other.transaction():
                    await other.execute(
                        "SELECT id FROM subscription WHERE id = (SELECT subscription_id FROM tenant "
                        "WHERE id = $1) FOR UPDATE", ids[0],
                    )
                    return dict(await renew_batch(s, ids))
            finally:
                await other.close()

        counts = run(pg, while_held)
        assert (counts["renewed"], counts["skipped"]) == (1, 1)
        assert [len(invoices(pg, slug)) for slug in ("held", "free")] == [1, 2]

        assert job(pg, "renewals")["renewed"] == 1
        assert [len(invoices(pg, slug)) for slug in ("held", "free")] == [2, 2]


def test_the_billing_mails_look_only_at_tenants_with_a_recent_invoice_to_pay_or_a_failed_payment(
    client: Any, clock: FixedClock
) -> None:
    """One query finds them (a transaction per live tenant made the job take seconds and
    starve the others); a purchase's invoice and a failed payment each bring their tenant in."""
    on(clock, "2026-01-01")
    buy(client, admin(client, "acme"))
    admin(client, "globex")  # a trial: nothing to pay
    admin(client, "initech")
    s = stint(client)
    initech = run(client, _tenant_id, s, "initech")

    async def fail_payment() -> None:
        async with s.uow(write=True) as work:
            audit = work.tenant(initech).audit()
            await audit.record("billing", "invoice.payment_failed", "in_x", {}, s.clock.now())
            await work.commit()

    async def news() -> list[str]:
        now = s.clock.now()
        async with s.uow():
            invoiced = await s.jobs.tenants_invoiced((now - timedelta(days=4)).date())
            failed = await s.jobs.tenants_audited("invoice.payment_failed", now - timedelta(days=3))
        return [tenant.slug for tenant in invoiced + failed]

    run(client, fail_payment)
    on(clock, "2026-01-02")
    assert sorted(run(client, news)) == ["acme", "initech"]
    assert job(client, "billing_mails")["queued"] == 2  # acme's invoice, initech's failure
    assert job(client, "billing_mails")["queued"] == 0
    on(clock, "2026-01-10")
    assert run(client, news) == []


def test_the_running_timer_mails_look_only_at_tenants_where_a_timer_runs(
    client: Any, clock: FixedClock
) -> None:
    on(clock, "2026-01-05")
    admin(client, "acme")
    admin(client, "globex")
    s = stint(client)

    async def timing() -> list[str]:
        async with s.uow():
            return [tenant.slug for tenant in await s.jobs.tenants_timing()]

    assert run(client, timing) == []
    started = client.post("/api/v1/tracking/start", json={"comment": "x"}, headers=auth(client, "globex"))
    assert started.status_code == 201, started.text
    assert run(client, timing) == ["globex"]
    assert client.post("/api/v1/tracking/stop", json={}, headers=auth(client, "globex")).status_code == 204
    assert run(client, timing) == []
