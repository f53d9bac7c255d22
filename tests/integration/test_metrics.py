"""/metrics: who may read it, and that Stint's counters move (issue #22)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from core.clock import FixedClock
from plugins.jobs.registry import run_job
from server.app import create_app
from tests.conftest import make_settings
from tests.support.api import api_client, bearer, run, signup, stint, token
from tests.support.mail import Inbox
from tests.support.served import served

TOKEN = "scrape-" + "s" * 32


def figures(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=bearer(TOKEN))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return figures(response.text)


def test_metrics_needs_the_bearer_token_when_one_is_set(tmp_path: Path, clock: FixedClock) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 's.sqlite3'}", tmp_path, STINT_METRICS_TOKEN=TOKEN)
    with api_client(settings, clock) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers=bearer("wrong")).status_code == 401
        assert client.get("/metrics", headers=bearer(TOKEN)).status_code == 200


def test_without_a_token_metrics_answers_loopback_only(tmp_path: Path, clock: FixedClock) -> None:
    """From 127.0.0.1: 200; from another address (a trusted proxy forwarding an outsider): 403."""
    settings = make_settings(f"sqlite:///{tmp_path / 's.sqlite3'}", tmp_path,
                             STINT_TRUSTED_PROXIES="127.0.0.2")
    with served(create_app(settings, clock=clock, migrate=True)) as base:
        with httpx.Client(base_url=base, trust_env=False) as local:
            assert local.get("/metrics").status_code == 200
        proxy = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=base, transport=proxy, trust_env=False) as forwarded:
            refused = forwarded.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
            assert refused.status_code == 403


def test_the_counters_move(tmp_path: Path, clock: FixedClock, inbox: tuple[Inbox, int]) -> None:
    """Requests by route template, decision-cache hits and misses, job runs, the outbox, mails."""
    settings = make_settings(f"sqlite:///{tmp_path / 's.sqlite3'}", tmp_path, STINT_METRICS_TOKEN=TOKEN,
                             STINT_ACCESS_TOKEN_MINUTES="1440", STINT_SMTP_URL=f"smtp://127.0.0.1:{inbox[1]}")
    with api_client(settings, clock) as client:
        before = scrape(client)
        signup(client, "acme")
        headers = bearer(token(client, "acme", "admin@acme.test"))
        for _ in range(3):
            assert client.get("/api/v1/me/access", headers=headers).status_code == 200
        assert client.get("/api/v1/worklogs/no-such-id", headers=headers).status_code in (404, 405)
        clock.set(datetime(2026, 1, 26, 9, 0, tzinfo=UTC))  # three days of trial left: a reminder
        assert run(client, run_job, stint(client), "trial_reminders")["queued"] == 1
        queued = scrape(client)
        assert run(client, run_job, stint(client), "mail")["sent"] == 1
        after = scrape(client)

    route = dict(method="GET", route="/api/v1/me/access", status="2xx")
    assert value(after, "stint_http_request_duration_seconds_count", **route) - value(
        before, "stint_http_request_duration_seconds_count", **route) == 3
    assert value(after, "stint_http_request_duration_seconds_bucket", le="+Inf", **route) >= 3
    # A path with an id is counted under its template, not as itself.
    assert not any("no-such-id" in dict(labels).get("route", "") for _, labels in after)
    assert value(after, "stint_decision_cache_lookups_total", outcome="hit") > value(
        before, "stint_decision_cache_lookups_total", outcome="hit")
    assert value(after, "stint_decision_cache_lookups_total", outcome="miss") > value(
        before, "stint_decision_cache_lookups_total", outcome="miss")
    assert value(after, "stint_job_runs_total", job="trial_reminders", status="ok") == 1
    assert value(after, "stint_job_runs_total", job="mail", status="ok") == 1
    assert value(after, "stint_job_last_run_age_seconds", job="mail") == 0
    assert value(queued, "stint_mail_outbox_depth") == 1 and value(after, "stint_mail_outbox_depth") == 0
    assert value(queued, "stint_mails_sent_total") == 0 and value(after, "stint_mails_sent_total") == 1


def test_webhook_deliveries_are_counted_by_outcome(app: Any) -> None:
    """A delivery with a bad signature counts as refused (the `app` fixture bills with localstripe)."""
    app_client = app

    def refused(found: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> float:
        return value(found, "stint_webhook_deliveries_total", source="stripe", outcome="refused")

    # No token set on this app: scrape the process's registry directly through the renderer.
    from plugins.metrics_scrape import render

    before = figures(run(app_client, render, stint(app_client)).decode())
    answer = app_client.post("/webhooks/stripe", content=b"{}", headers={"Stripe-Signature": "t=1,v1=bad"})
    assert answer.status_code >= 400
    after = figures(run(app_client, render, stint(app_client)).decode())
    assert refused(after) - refused(before) == 1
