"""What every part of ``PiccoloTrackingRepo`` (``tracking_repo.py``) may rely on: the engine,
the tenant every query filters on, and the origin history rows are written under.

The repository is one class composed of a mixin per concept (``tracking_settings``,
``tracking_timers``, ``tracking_worklog_writes``, ``tracking_worklog_reads``,
``tracking_weeks``, ``tracking_outbox``); each subclasses this, so that mypy knows the
attributes they share and that ``PiccoloTrackingRepo.__init__`` sets."""

from __future__ import annotations

from typing import Any

from piccolo.engine.base import Engine

from core.origin import Origin


class TrackingRepoBase:
    _engine: Engine[Any]
    #: Every query filters on it.
    tenant_id: str
    _origin: Origin
