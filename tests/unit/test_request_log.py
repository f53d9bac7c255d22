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
