"""The request line and latency metric batched per loop turn (web/request_lines.py), as
``stint serve`` writes them: the same lines, fewer writes, nothing left behind."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
from collections.abc import Iterator
from datetime import datetime

import pytest
from prometheus_client import REGISTRY

import web.logs as logs
import web.request_lines as request_lines
from web.logs import JsonFormatter, request_id_var, tenant_var

ROUTE = "/test/request-lines/{n:int}"


class _Writes(io.StringIO):
    """A stream that counts the writes it was given."""

    monkeypatch: pytest.MonkeyPatch

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@pytest.fixture
def stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Writes]:
    """A counting stream for the production logging set-up, which each test makes first
    (:func:`_production`): when a test starts, pytest points ``sys.stderr`` at its own capture
    and attaches its handler to the non-propagating ``stint`` logger; production has neither."""
    stint_log = logging.getLogger("stint")
    saved = (stint_log.handlers[:], stint_log.level, stint_log.propagate, logs._configured[:])
    out = _Writes()
    out.monkeypatch = monkeypatch
    try:
        yield out
    finally:
        request_lines.batch_per_loop_turn(False)
        stint_log.handlers[:], level, stint_log.propagate, logs._configured[:] = saved
        stint_log.setLevel(level)


def _production(out: _Writes) -> None:
    out.monkeypatch.setattr(sys, "stderr", out)
    logs.configure_logging()
    request_lines.batch_per_loop_turn()


def _answered(rid: str, tenant: str, path: str, status: int, seconds: float) -> None:
    rid_token, tenant_token = request_id_var.set(rid), tenant_var.set(tenant)
    try:
        request_lines.response_started("GET", path, status, seconds, ROUTE)
    finally:
        tenant_var.reset(tenant_token)
        request_id_var.reset(rid_token)


def _formatters_line(line: str, rid: str, tenant: str, path: str, status: int, ms: float) -> str:
    record = logging.getLogger("stint.access").makeRecord(
        "stint.access", logging.INFO, __file__, 0, "request", (), None,
        extra={"method": "GET", "path": path, "status": status, "ms": ms},
    )
    record.created = datetime.fromisoformat(json.loads(line)["ts"]).timestamp() + 0.0004
    rid_token, tenant_token = request_id_var.set(rid), tenant_var.set(tenant)
    try:
        return JsonFormatter().format(record)
    finally:
        tenant_var.reset(tenant_token)
        request_id_var.reset(rid_token)


def _count(status: str) -> float:
    return REGISTRY.get_sample_value(
        "stint_http_request_duration_seconds_count", {"method": "GET", "route": ROUTE, "status": status}
    ) or 0.0


async def test_the_answers_of_one_loop_turn_are_written_in_one_write_after_it_each_the_formatters_line(
    stream: _Writes,
) -> None:
    _production(stream)
    before = _count("2xx")
    _answered("r-1", "acme", "/test/request-lines/1", 200, 0.00125)
    _answered("r-2", "", "/test/request-lines/\u00e4\"2", 200, 0.5)
    assert stream.getvalue() == "" and _count("2xx") == before  # nothing yet: the turn is not over

    await asyncio.sleep(0)

    first, second = stream.getvalue().splitlines()
    assert stream.writes == 1
    assert first == _formatters_line(first, "r-1", "acme", "/test/request-lines/1", 200, 1.25)
    assert second == _formatters_line(second, "r-2", "", "/test/request-lines/\u00e4\"2", 200, 500.0)
    assert "tenant" not in json.loads(second)
    assert _count("2xx") == before + 2


async def test_the_next_turns_answers_are_written_by_the_next_write(stream: _Writes) -> None:
    _production(stream)
    _answered("r-3", "acme", "/test/request-lines/3", 404, 0.01)
    await asyncio.sleep(0)
    _answered("r-4", "acme", "/test/request-lines/4", 500, 0.02)
    await asyncio.sleep(0)
    assert stream.writes == 2
    assert [json.loads(line)["request_id"] for line in stream.getvalue().splitlines()] == ["r-3", "r-4"]


async def test_what_is_pending_when_the_process_stops_is_written_by_flush(stream: _Writes) -> None:
    _production(stream)
    _answered("r-5", "acme", "/test/request-lines/5", 201, 0.003)
    request_lines.flush()  # what the app's shutdown (and exit) calls
    assert json.loads(stream.getvalue())["request_id"] == "r-5"
    await asyncio.sleep(0)  # the scheduled flush then finds nothing left
    assert len(stream.getvalue().splitlines()) == 1


async def test_while_another_handler_listens_each_line_goes_the_loggers_way_with_its_own_request_id(
    stream: _Writes,
) -> None:
    _production(stream)
    extra = io.StringIO()
    added = logging.StreamHandler(extra)
    added.setFormatter(JsonFormatter())
    access = logging.getLogger("stint.access")
    access.addHandler(added)
    try:
        _answered("r-6", "acme", "/test/request-lines/6", 200, 0.001)
        _answered("r-7", "beta", "/test/request-lines/7", 200, 0.001)
        await asyncio.sleep(0)
    finally:
        access.removeHandler(added)
    seen = [json.loads(line) for line in extra.getvalue().splitlines()]
    assert [(s["request_id"], s["tenant"]) for s in seen] == [("r-6", "acme"), ("r-7", "beta")]
    assert len(stream.getvalue().splitlines()) == 2  # the configured handler got them too, as records


def test_without_a_running_loop_the_line_is_written_at_once(stream: _Writes) -> None:
    _production(stream)
    _answered("r-8", "acme", "/test/request-lines/8", 200, 0.001)
    assert json.loads(stream.getvalue())["request_id"] == "r-8"


async def test_unbatched_as_in_tests_and_benches_each_line_is_written_at_once(stream: _Writes) -> None:
    _production(stream)
    request_lines.batch_per_loop_turn(False)
    _answered("r-9", "acme", "/test/request-lines/9", 200, 0.001)
    assert json.loads(stream.getvalue())["request_id"] == "r-9"
