"""The ``/metrics`` exposition: this process's counters (:mod:`plugins.metrics`) and what the
database says at scrape time (job runs, lag, backlog, the mail outbox). Apart from the
counters because it reads the jobs' status through ``Stint``, which the counters' users (the
access-decision cache) sit below."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client import generate_latest as _generate
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .jobs.status import jobs_status

if TYPE_CHECKING:
    from .stint import Stint

__all__ = ["render"]


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
        "SELECT SUM(CASE WHEN sent_at IS NULL AND in_doubt_at IS NULL THEN 1 ELSE 0 END) AS waiting, "
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
