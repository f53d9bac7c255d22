"""Prometheus metrics: what the processes count, and what the database says at scrape time.

Counted in the process, on the hot path, as one increment of a child bound once (no label
dictionaries per request):

- ``stint_http_request_duration_seconds{method,route,status}``: latency by route *template*
  (``/api/v1/worklogs/{worklog_id}``, never the raw path: bounded cardinality) and status
  class (2xx … 5xx); its ``_count`` is the number of requests (one observation per request,
  no separate counter);
- ``stint_decision_cache_lookups_total{outcome}``: the access-decision cache's hits and misses;
- ``stint_webhook_deliveries_total{source,outcome}``: payment-provider webhooks by outcome.

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

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as _generate
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .jobs.status import jobs_status

if TYPE_CHECKING:
    from .stint import Stint

__all__ = [
    "CONTENT_TYPE",
    "cache_lookup",
    "observe_request",
    "render",
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


class _Figures(Collector):
    """What the database said at this scrape, as metric families."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        yield from self._families


async def _database_figures(stint: Stint) -> list[Metric]:
    runs = CounterMetricFamily("stint_job_runs", "Job runs recorded, by job and status",
                               labels=["job", "status"])
    for row in await stint.engine.run_ddl(
        "SELECT job, status, COUNT(*) AS n FROM job_run GROUP BY job, status"
    ):
        runs.add_metric([str(row["job"]), str(row["status"])], float(row["n"]))
    outbox = await stint.engine.run_ddl(
        "SELECT SUM(CASE WHEN sent_at IS NULL THEN 1 ELSE 0 END) AS waiting, "
        "SUM(CASE WHEN sent_at IS NULL THEN 0 ELSE 1 END) AS sent FROM mail_outbox"
    )
    depth = GaugeMetricFamily("stint_mail_outbox_depth", "Mails waiting in the outbox",
                              value=float(outbox[0]["waiting"] or 0))
    sent = CounterMetricFamily("stint_mails_sent", "Mails sent from the outbox",
                               value=float(outbox[0]["sent"] or 0))
    status = await jobs_status(stint)
    now = stint.clock.now()
    age = GaugeMetricFamily("stint_job_last_run_age_seconds",
                            "Seconds since each job's last run started (its lag)", labels=["job"])
    for job, run in status["last_runs"].items():
        started = datetime.fromisoformat(run["started_at"])
        if started.tzinfo is None:
            started = started.replace(tzinfo=UTC)
        age.add_metric([job], max(0.0, (now - started).total_seconds()))
    backlog = GaugeMetricFamily("stint_job_backlog", "Due work waiting for the jobs", labels=["what"])
    for what, count in status["backlog"].items():
        if isinstance(count, int | float):
            backlog.add_metric([what], float(count))
    return [runs, age, backlog, depth, sent]


async def render(stint: Stint) -> bytes:
    """The exposition text: this process's (or, in multiprocess mode, every process's)
    counters and the database's figures."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_Default())
    registry.register(_Figures(await _database_figures(stint)))
    return _generate(registry)


class _Default(Collector):
    """The process's default registry (Stint's counters, the Python process metrics)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
