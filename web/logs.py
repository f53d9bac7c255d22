"""Structured logs: one JSON object per line, with the request id and the tenant."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from collections.abc import Mapping
from os import urandom
from typing import Any

import msgspec
from litestar.types import HTTPResponseStartEvent, Message, Scope

__all__ = [
    "RequestLine",
    "before_send",
    "configure_logging",
    "encode_request_lines",
    "log_request",
    "request_id_of",
    "request_id_var",
    "request_line",
    "straight_handler",
    "tenant_var",
    "timestamp",
]

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
tenant_var: contextvars.ContextVar[str] = contextvars.ContextVar("tenant", default="")

_RESERVED = set(vars(logging.makeLogRecord({})))


_encoder = msgspec.json.Encoder(enc_hook=str)


#: Field names whose values never reach a log line (a password, a token, a key …).
_SECRET = re.compile(r"pass(word)?|secret|token|authori[sz]ation|cookie|api_?key|credential|\bpat\b", re.I)


def _safe(key: str, value: Any) -> Any:
    if _SECRET.search(key):
        return "[redacted]"
    if isinstance(value, Mapping):
        return {str(k): _safe(str(k), v) for k, v in value.items()}
    return value


def _text(value: Any) -> Any:
    """An argument of a %-message: a mapping or a list as JSON, not as a Python repr."""
    if isinstance(value, Mapping | list | tuple):
        try:
            return _encoder.encode(_safe("", value) if isinstance(value, Mapping) else value).decode()
        except (TypeError, ValueError, OverflowError):
            return json.dumps(value, default=str)
    return value


def _message(record: logging.LogRecord) -> str:
    if isinstance(record.msg, Mapping):
        return str(record.msg.get("msg", record.msg.get("event", "")))
    if record.args and isinstance(record.args, tuple):
        try:
            return str(record.msg) % tuple(_text(a) for a in record.args)
        except (TypeError, ValueError):
            return record.getMessage()
    return record.getMessage()


#: The last second :func:`timestamp` wrote, and its text: made once per second.
_second: list[int] = [-1]
_second_text: list[str] = [""]
#: ".000+00:00" … ".999+00:00": formatting the millisecond was half the stamp's time.
_MILLIS = tuple(f".{n:03d}+00:00" for n in range(1000))


def timestamp(created: float) -> str:
    """ISO 8601 in UTC with its zone, to the millisecond."""
    second = int(created)
    if second != _second[0]:
        _second_text[0] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second[0] = second
    return _second_text[0] + _MILLIS[int((created - second) * 1000)]


class JsonFormatter(logging.Formatter):
    # One line is written per request, so this is kept cheap: the timestamp string is made
    # once per second, and msgspec encodes (anything it cannot, as str).

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": _message(record),
        }
        if isinstance(record.msg, Mapping):
            # A mapping logged as the message: its items are fields, not a Python repr.
            entry.update({str(k): _safe(str(k), v) for k, v in record.msg.items()})
        if rid := request_id_var.get():
            entry["request_id"] = rid
        if tenant := tenant_var.get():
            entry["tenant"] = tenant
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = _safe(key, value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        try:
            return _encoder.encode(entry).decode()
        except (TypeError, ValueError, OverflowError):  # e.g. a dict with non-str keys
            return json.dumps(entry, default=str)


#: The handler :func:`configure_logging` installed; while it is the request log's only way
#: out, :func:`log_request` writes the line itself (see there).
_configured: list[logging.StreamHandler[Any]] = []


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    _configured[:] = [handler]
    root = logging.getLogger("stint")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # Piccolo announces the SQLite version at INFO on every start; only its warnings matter.
    logging.getLogger("piccolo").setLevel(logging.WARNING)


def request_id_of(headers: Any) -> str:
    """The request's id: a well-formed caller's ``X-Request-ID`` (up to 64 characters, letters,
    digits and dashes), else a new one: 32 random hex digits, like :func:`core.ids.new_id`'s
    but without building a UUID (a fifth of the time; nothing reads a version from it)."""
    given = b""
    for name, value in headers:
        if name == b"x-request-id":
            given = value  # the last one, as a dict of the headers would keep
    if given:
        rid = given.decode("latin-1")[:64]
        if rid.replace("-", "").isalnum():
            return rid
    return urandom(16).hex()


_stint_log = logging.getLogger("stint")
_access_log = logging.getLogger("stint.access")


class RequestLine(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The request line's fields in :class:`JsonFormatter`'s order; the request id and the
    tenant are left out when empty, as the formatter leaves them out."""

    ts: str
    level: str
    logger: str
    msg: str
    request_id: str = ""
    tenant: str = ""
    method: Any
    path: Any
    status: int
    ms: float | None


def request_line(at: float, rid: str, tenant: str, method: Any, path: Any, status: int,
                 ms: float | None) -> RequestLine:
    """The line :class:`JsonFormatter` makes of the request's record, made directly."""
    return RequestLine(ts=timestamp(at), level="info", logger="stint.access", msg="request", request_id=rid,
                       tenant=tenant, method=method, path=path, status=status, ms=ms)


def encode_request_lines(lines: list[RequestLine]) -> str:
    """``lines`` as JSON, one a line, each ending in a newline."""
    return _encoder.encode_lines(lines).decode()


def straight_handler() -> logging.StreamHandler[Any] | None:
    """The handler :func:`configure_logging` installed while it is the request line's only way
    out (no handler, filter or level added since, as in production), else None."""
    handler = _configured[0] if _configured else None
    if (
        handler is not None and not _access_log.handlers and _access_log.propagate
        and _access_log.parent is _stint_log and len(_stint_log.handlers) == 1
        and _stint_log.handlers[0] is handler and not _access_log.filters and not _stint_log.filters
        and not handler.filters and handler.level <= logging.INFO and _access_log.isEnabledFor(logging.INFO)
    ):
        return handler
    return None


def log_request(method: Any, path: Any, status: int, ms: float | None) -> None:
    """The request log line: ``{"ts", "level", "logger", "msg": "request", "request_id",
    "tenant", "method", "path", "status", "ms"}`` on ``stint.access``.

    While the handler :func:`configure_logging` installed is the line's only way out (no
    handler or filter added since, as in production), the line :class:`JsonFormatter` would
    make is written straight to its stream under its lock: the same text, without a
    LogRecord, the handler chain and the formatter's general case (a sixth of a trivial
    request's time). Anything else (a test's handler, a filter) gets the record as before.
    """
    if not _access_log.isEnabledFor(logging.INFO):
        return
    extra = {"method": method, "path": path, "status": status, "ms": ms}
    handler = straight_handler()
    if handler is not None:
        try:
            made = request_line(time.time(), request_id_var.get(), tenant_var.get(), method, path, status, ms)
            line = _encoder.encode(made).decode() + handler.terminator
            with handler.lock:  # type: ignore[union-attr]  # made by the handler's __init__
                handler.stream.write(line)
                handler.stream.flush()
            return
        except Exception:
            pass
    # The record is made here and handed to the logger's handlers, as ``info(...)`` would,
    # without its search of the call stack for a source line the line never shows.
    record = _access_log.makeRecord(_access_log.name, logging.INFO, __file__, 0, "request", (), None,
                                    extra=extra)
    _access_log.handle(record)


def response_started(message: HTTPResponseStartEvent, scope: Scope) -> None:
    """At a response's start: its ``X-Request-ID`` header and the request log line."""
    state = scope.get("state", {})
    rid = state.get("request_id", "")
    if rid:
        message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
    started = state.get("started")
    log_request(scope.get("method"), scope.get("path"), message["status"],
                round((time.perf_counter() - started) * 1000, 2) if started else None)


async def before_send(message: Message, scope: Scope) -> None:
    """:func:`response_started` as a Litestar ``before_send`` hook (the app itself runs it
    from its edge layer, ``web/edge.py``)."""
    if message["type"] == "http.response.start":
        response_started(message, scope)
