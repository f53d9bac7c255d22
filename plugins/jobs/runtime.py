"""One event loop per worker process, with the database pool started on it.

Celery has no async tasks, and an asyncpg pool belongs to the loop it was started on,
so each worker process creates one loop when it starts (``worker_process_init``),
starts the adapters (:func:`plugins.bootstrap.start`) on it, and runs every task's
coroutine on that same loop through :func:`run_async`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

from plugins import bootstrap
from plugins.settings import Settings, load_settings

__all__ = ["init_process", "run_async", "shutdown_process", "stint"]

log = logging.getLogger("stint.jobs")

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_stint: bootstrap.Stint | None = None


def init_process(settings: Settings | None = None) -> None:
    """Create this process's loop and start the adapters on it (once per process)."""
    global _loop, _stint
    if _loop is not None:
        return
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    _stint = loop.run_until_complete(bootstrap.start(settings or load_settings()))
    _loop = loop


def stint() -> bootstrap.Stint:
    """This process's adapters (started on first use when no signal did it)."""
    if _stint is None:
        init_process()
    assert _stint is not None
    return _stint


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on this process's loop."""
    if _loop is None:
        init_process()
    assert _loop is not None
    return _loop.run_until_complete(coro)


def shutdown_process() -> None:
    global _loop, _stint
    if _loop is None or _stint is None:
        return
    try:
        _loop.run_until_complete(bootstrap.stop(_stint))
    except Exception:
        log.exception("could not close the adapters cleanly")
    finally:
        _loop.close()
        _loop, _stint = None, None
