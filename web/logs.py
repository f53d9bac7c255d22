"""Structured logs: one JSON object per line, with the request id and the tenant."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from collections.abc import Mapping
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.ids import new_id

__all__ = [
    "RequestContextMiddleware",
    "before_send",
    "configure_logging",
    "request_id_var",
    "tenant_var",
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


class JsonFormatter(logging.Formatter):
    # One line is written per request, so this is kept cheap: the timestamp string is made
    # once per second, and msgspec encodes (anything it cannot, as str).
    _second = -1
    _stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        millis = int((record.created - second) * 1000)
        entry: dict[str, Any] = {
            # ISO 8601 in UTC with its zone, to the millisecond.
            "ts": f"{self._stamp}.{millis:03d}+00:00",
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


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("stint")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # Piccolo announces the SQLite version at INFO on every start; only its warnings matter.
    logging.getLogger("piccolo").setLevel(logging.WARNING)


class RequestContextMiddleware:
    """Gives each request an id (or keeps a well-formed caller's X-Request-ID).

    The response header and the access-log line are written by :func:`before_send`,
    which also sees responses made from exceptions raised outside this middleware.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:64]
        rid = given if given and given.replace("-", "").isalnum() else new_id()
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        state["started"] = time.perf_counter()
        token = request_id_var.set(rid)
        tenant_token = tenant_var.set("")
        try:
            await self.app(scope, receive, send)
        finally:
            tenant_var.reset(tenant_token)
            request_id_var.reset(token)


_access_log = logging.getLogger("stint.access")


async def before_send(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    state = scope.get("state", {})
    rid = state.get("request_id", "")
    if rid:
        message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
    if not _access_log.isEnabledFor(logging.INFO):
        return
    started = state.get("started")
    # The record is made here and handed to the logger's handlers, as ``info(...)`` would,
    # without its search of the call stack for a source line the line never shows.
    record = _access_log.makeRecord(
        _access_log.name,
        logging.INFO,
        __file__,
        0,
        "request",
        (),
        None,
        extra={
            "method": scope.get("method"),
            "path": scope.get("path"),
            "status": message["status"],
            "ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
        },
    )
    _access_log.handle(record)
