"""The request log line and the latency metric of each answer, written once per loop turn.

The edge (``web/edge.py``) hands every answer's start to :func:`response_started`. By default
(tests, the in-process test client, a bench that does not stand in for ``stint serve``) the
line is written and the metric observed at once, as :func:`web.logs.log_request` and
:func:`plugins.metrics.observe_request` do. ``stint serve`` turns on
:func:`batch_per_loop_turn` at start-up: then an answer only notes what its line needs (the
time, the request id, the tenant, method, path, status, latency and route) and every answer
that started in the same turn of the event loop is written by one :func:`flush` scheduled
right after it — one encoding call and one ``write`` to the stream for all their lines,
the metric observed for each.

Why: a line per answer is an encoding, the handler's lock, a ``write`` and a ``flush``;
under load (eight keep-alive connections) the line and the metric were about a
sixth of a trivial request's CPU. Batched, the trivial and access routes answer 3–6% more
requests a second (against the bare app's) with the log on ``/dev/null`` and 8–9% more with
it on a pipe read by another process, as under a container runtime (docs/benchmarks.md, "Eleventh session").
The lines are the very lines :class:`web.logs.JsonFormatter` would make (a test holds them
equal); a line reaches the stream at most one loop turn after its answer's head was sent, and
the process writes what is pending before it stops (the app's shutdown, and at exit).

While anything but the handler :func:`web.logs.configure_logging` installed could see the
line (a test's handler, a filter, another level), each pending line goes the logger's way,
with its request's id and tenant, as it would have at once.
"""

from __future__ import annotations

import asyncio
import atexit
import time

from plugins.metrics import observe_request

from .logs import (
    encode_request_lines,
    log_request,
    request_id_var,
    request_line,
    straight_handler,
    tenant_var,
)

__all__ = ["batch_per_loop_turn", "flush", "response_started"]


#: (time.time(), request id, tenant, method, path, status, route, seconds) per answer not
#: yet written: at most one loop turn's worth.
_Pending = tuple[float, str, str, str, str, int, str, float]
_pending: list[_Pending] = []
_batched: list[bool] = [False]


def batch_per_loop_turn(on: bool = True) -> None:
    """For ``stint serve``'s processes (and the benches that stand in for one)."""
    _batched[0] = on
    if not on:
        flush()


def response_started(method: str, path: str, status: int, seconds: float, route: str) -> None:
    """One answer's start: its request line and its latency, now or after this loop turn."""
    if _batched[0]:
        if not _pending:
            try:
                asyncio.get_running_loop().call_soon(flush)
            except RuntimeError:  # no loop running (a direct call): nothing would flush it
                _now(method, path, status, seconds, route)
                return
        _pending.append((time.time(), request_id_var.get(), tenant_var.get(), method, path, status, route,
                         seconds))
        return
    _now(method, path, status, seconds, route)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _now(method: str, path: str, status: int, seconds: float, route: str) -> None:
    log_request(method, path, status, _ms(seconds))
    observe_request(method, route, status, seconds)


def flush() -> None:
    """Write every pending line (one ``write`` while the configured handler is the only way
    out) and observe their latencies."""
    if not _pending:
        return
    items = _pending[:]
    _pending.clear()
    handler = straight_handler()
    if handler is not None:
        try:
            data = encode_request_lines([
                request_line(at, rid, tenant, method, path, status, _ms(seconds))
                for at, rid, tenant, method, path, status, _, seconds in items
            ])
            with handler.lock:  # type: ignore[union-attr]  # made by the handler's __init__
                handler.stream.write(data)
                handler.stream.flush()
        except Exception:  # a closed stream must not take the loop down, as logging's handleError
            pass
    else:
        for _, rid, tenant, method, path, status, _, seconds in items:
            rid_token, tenant_token = request_id_var.set(rid), tenant_var.set(tenant)
            try:
                log_request(method, path, status, _ms(seconds))
            finally:
                tenant_var.reset(tenant_token)
                request_id_var.reset(rid_token)
    for _, _, _, method, _, status, route, seconds in items:
        observe_request(method, route, status, seconds)


atexit.register(flush)
