"""Prometheus metrics: what the processes count (the scrape, with the database's figures, is
:mod:`plugins.metrics_scrape`: the counters stay below the cache that increments them).

Counted in the process, on the hot path, as one increment of a child bound once (no label
dictionaries per request):

- ``stint_http_request_duration_seconds{method,route,status}``: latency by route *template*
  (``/api/v1/worklogs/{worklog_id}``, never the raw path: bounded cardinality) and status
  class (2xx … 5xx); its ``_count`` is the number of requests (one observation per request,
  no separate counter);
- ``stint_decision_cache_lookups_total{outcome}``: the access-decision cache's hits and misses;
- ``stint_webhook_deliveries_total{source,outcome}``: payment-provider webhooks by outcome;
- ``stint_db_statements_total``: statements this process sent to PostgreSQL (every pooled
  connection's, counted by an asyncpg query logger; SQLite is not counted). The live-updates
  bench and tests read it: open event streams must not add to it.

Read from the database when ``/metrics`` is scraped, so they are right however many
web and worker processes (and machines) there are:

- ``stint_job_runs_total{job,status}``, ``stint_job_last_run_age_seconds{job}`` (the jobs'
  lag) and ``stint_job_backlog{what}`` (due work waiting);
- ``stint_mail_outbox_depth`` (mails waiting) and ``stint_mails_sent_total``.

Several web processes (``stint serve --workers N``): each counts in its own memory, and a
scrape reaches one of them. ``stint serve --workers N`` therefore sets
``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode: each process writes
its counters to a file there, and a scrape adds them up) — see ``docs/deploy.md``.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram

__all__ = [
    "CONTENT_TYPE",
    "cache_lookup",
    "count_statements",
    "observe_request",
    "webhook_delivered",
]

CONTENT_TYPE = CONTENT_TYPE_LATEST

_REQUEST_SECONDS = Histogram(
    "stint_http_request_duration_seconds", "Time to the response's start, by route template and status class",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
_CACHE = Counter("stint_decision_cache_lookups", "Access-decision cache lookups", ["outcome"])
_WEBHOOKS = Counter("stint_webhook_deliveries", "Webhook deliveries received, by outcome",
                    ["source", "outcome"])

_STATEMENTS = Counter("stint_db_statements", "Statements sent to PostgreSQL by this process")

#: Bound once: a lookup costs one increment.
CACHE_HIT = _CACHE.labels("hit")
CACHE_MISS = _CACHE.labels("miss")

_STATUS_CLASS = {n: f"{n}xx" for n in range(1, 6)}
#: (method, route, status // 100) → the histogram's child, bound on first use.
_timers: dict[tuple[str, str, int], Any] = {}


def cache_lookup(hit: bool) -> None:
    (CACHE_HIT if hit else CACHE_MISS).inc()


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """One request: its latency by route template and status class (one observation)."""
    key = (method, route, status // 100)
    timer = _timers.get(key)
    if timer is None:
        timer = _timers[key] = _REQUEST_SECONDS.labels(method, route, _STATUS_CLASS.get(key[2], "other"))
    timer.observe(seconds)


def webhook_delivered(source: str, outcome: str) -> None:
    _WEBHOOKS.labels(source, outcome).inc()


def _statement_ran(_record: Any) -> None:
    _STATEMENTS.inc()


async def count_statements(connection: Any) -> None:
    """A pooled asyncpg connection's ``init``: count every statement it runs."""
    connection.add_query_logger(_statement_ran)
