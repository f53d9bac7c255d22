"""Who makes a change and from where: the origin a unit of work's writes carry.

It is set once at the edge — a request of the API or the pages (:func:`acting`, then
:func:`act_as` once the caller is known), a job (the default: the system) — and read when a
tenant scope is made (``core.unit_of_work``), so repositories get it without an argument
and no write path can leave it out. The worklog change history records it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from enum import StrEnum

__all__ = ["Origin", "Source", "act_as", "acting", "current_origin", "sourced"]


class Source(StrEnum):
    """Where a change came from."""

    API = "api"
    PAGE = "page"
    IMPORT = "import"
    TIMER = "timer"
    APP = "app"
    SYNC = "sync"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Origin:
    """Who makes the changes of a unit of work (None: nobody, a job) and from where."""

    source: Source
    actor_id: str | None = None


#: Outside any edge that set one, changes are the system's (jobs, the command line).
_SYSTEM = Origin(Source.SYSTEM)
_origin: ContextVar[Origin | None] = ContextVar("stint_origin", default=None)


def current_origin() -> Origin:
    return _origin.get() or _SYSTEM


@contextmanager
def acting(origin: Origin) -> Iterator[Origin]:
    """Changes made inside are ``origin``'s (an edge: a request, a job)."""
    token = _origin.set(origin)
    try:
        yield origin
    finally:
        _origin.reset(token)


@contextmanager
def sourced(source: Source) -> Iterator[Origin]:
    """The same actor, from ``source`` (a use case that is itself the origin: an import)."""
    with acting(replace(current_origin(), source=source)) as origin:
        yield origin


def act_as(actor_id: str) -> None:
    """The caller is ``actor_id`` for the rest of this request (authentication, inside
    an edge's :func:`acting`, which restores what was before when the request ends)."""
    # Built directly, not with dataclasses.replace: once per authenticated request, and
    # replace() inspects the fields each time (a tenth of authentication's time).
    _origin.set(Origin(current_origin().source, actor_id))
