"""The request log (web/logs.py): one JSON line per response, with the request id and tenant."""

from __future__ import annotations

import io
import json
import logging
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from web.logs import JsonFormatter, before_send, request_id_var, tenant_var


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("stint.access")
    saved = (access.handlers[:], access.level, access.propagate)
    access.handlers[:] = [handler]
    access.setLevel(logging.INFO)
    access.propagate = False
    try:
        yield out
    finally:
        access.handlers[:], level, access.propagate = saved
        access.setLevel(level)


async def test_a_response_start_writes_one_json_line_with_method_path_status_time_and_ids(
    lines: io.StringIO,
) -> None:
    state = {"request_id": "r1", "started": time.perf_counter()}
    scope = {"method": "POST", "path": "/webhooks/stripe", "state": state}
    message = {"type": "http.response.start", "status": 200, "headers": []}
    rid, tenant = request_id_var.set("r1"), tenant_var.set("t1")
    try:
        await before_send(message, scope)  # type: ignore[arg-type]
        await before_send({"type": "http.response.body", "body": b""}, scope)  # type: ignore[arg-type]
    finally:
        tenant_var.reset(tenant)
        request_id_var.reset(rid)
    (line,) = lines.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["logger"] == "stint.access" and entry["level"] == "info" and entry["msg"] == "request"
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/webhooks/stripe", 200)
    assert entry["request_id"] == "r1" and entry["tenant"] == "t1"
    assert isinstance(entry["ms"], float)
    stamp = datetime.fromisoformat(entry["ts"])
    assert stamp.utcoffset() == timedelta(0) and entry["ts"].endswith("+00:00")
    assert (b"x-request-id", b"r1") in message["headers"]


async def test_no_line_is_made_when_the_request_log_is_turned_down(lines: io.StringIO) -> None:
    logging.getLogger("stint.access").setLevel(logging.WARNING)
    message = {"type": "http.response.start", "status": 204, "headers": []}
    await before_send(message, {"method": "GET", "path": "/", "state": {"request_id": "r2"}})  # type: ignore[arg-type]
    assert lines.getvalue() == ""
    assert (b"x-request-id", b"r2") in message["headers"]


def test_values_json_cannot_hold_are_written_as_text_and_exceptions_as_a_traceback() -> None:
    formatter = JsonFormatter()
    record = logging.makeLogRecord({"name": "stint.x", "msg": "odd", "levelno": 30, "levelname": "WARNING"})
    record.when = object()
    record.counts = {1: "one"}
    entry = json.loads(formatter.format(record))
    assert entry["when"].startswith("<object object") and entry["counts"] == {"1": "one"}
    try:
        raise ZeroDivisionError("boom")
    except ZeroDivisionError:
        record.exc_info = sys.exc_info()
    assert "ZeroDivisionError: boom" in json.loads(formatter.format(record))["exc"]


def _line(record: logging.LogRecord) -> dict[str, object]:
    return dict(json.loads(JsonFormatter().format(record)))


def test_a_dict_in_a_message_is_json_not_a_python_repr() -> None:
    """``log.info("done: %s", counts)`` writes the counts as JSON; a dict as the message becomes fields."""
    record = logging.makeLogRecord({"name": "stint.jobs", "msg": "done: %s", "args": ({"sent": 1},)})
    assert _line(record)["msg"] == 'done: {"sent":1}'
    as_fields = logging.makeLogRecord({"name": "stint.jobs", "msg": {"msg": "job done", "sent": 2}})
    entry = _line(as_fields)
    assert entry["msg"] == "job done" and entry["sent"] == 2 and "{" not in str(entry["msg"])


def test_secrets_never_reach_a_log_line() -> None:
    """Fields named like a password, token, key or cookie are redacted, nested ones too."""
    record = logging.makeLogRecord({
        "name": "stint.web", "msg": "x", "password": "hunter2", "access_token": "eyJ...",
        "request": {"authorization": "Bearer abc", "path": "/api"},
    })
    entry = _line(record)
    assert entry["password"] == "[redacted]" and entry["access_token"] == "[redacted]"
    assert entry["request"] == {"authorization": "[redacted]", "path": "/api"}
    assert "hunter2" not in JsonFormatter().format(record)


def test_the_request_line_written_straight_to_the_configured_stream_is_the_formatters_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In production the edge writes the request line itself (no LogRecord); it must be the very
    line JsonFormatter makes from the record, and a handler added later gets the record again."""
    import web.logs as logs

    stint_log = logging.getLogger("stint")
    saved = (stint_log.handlers[:], stint_log.level, stint_log.propagate, logs._configured[:])
    out = io.StringIO()
    monkeypatch.setattr(sys, "stderr", out)
    rid, tenant = request_id_var.set("r3"), tenant_var.set("acme")
    try:
        logs.configure_logging()
        logs.log_request("GET", "/api/v1/me/access", 200, 1.25)
        (fast,) = out.getvalue().splitlines()
        record = logging.getLogger("stint.access").makeRecord(
            "stint.access", logging.INFO, __file__, 0, "request", (), None,
            extra={"method": "GET", "path": "/api/v1/me/access", "status": 200, "ms": 1.25},
        )
        record.created = datetime.fromisoformat(json.loads(fast)["ts"]).timestamp() + 0.0004
        assert fast == JsonFormatter().format(record)
        assert list(json.loads(fast)) == ["ts", "level", "logger", "msg", "request_id", "tenant",
                                          "method", "path", "status", "ms"]
        extra = io.StringIO()
        added = logging.StreamHandler(extra)
        added.setFormatter(JsonFormatter())
        logging.getLogger("stint.access").addHandler(added)
        try:
            logs.log_request("POST", "/x", 201, None)
        finally:
            logging.getLogger("stint.access").removeHandler(added)
        assert json.loads(extra.getvalue())["status"] == 201  # the record's way, to both handlers
        assert len(out.getvalue().splitlines()) == 2
    finally:
        tenant_var.reset(tenant)
        request_id_var.reset(rid)
        stint_log.handlers[:], level, stint_log.propagate, logs._configured[:] = saved
        stint_log.setLevel(level)


def test_a_callers_well_formed_request_id_is_kept_and_anything_else_replaced() -> None:
    from web.logs import request_id_of

    assert request_id_of([(b"host", b"x"), (b"x-request-id", b"abc-123")]) == "abc-123"
    for given in (b"", b"no spaces please", b"<script>", None):
        headers = [(b"x-request-id", given)] if given is not None else []
        made = request_id_of(headers)
        assert len(made) == 32 and int(made, 16) >= 0
    assert request_id_of([(b"x-request-id", b"a" * 100)]) == "a" * 64
