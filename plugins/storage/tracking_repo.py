"""One tenant's time-tracking data. Every query here filters on ``self.tenant_id``.

``PiccoloTrackingRepo`` is the one class the rest of the code uses (the storage of
``core.tracking.ports.TrackingRepository``). It is composed of one part per concept, each in
its own module (the house rule: one concept per module), all sharing
``tracking_base.TrackingRepoBase``'s attributes:

- ``tracking_settings``: the tenant's rules, editing rule, work-item automation, and each
  user's preferences;
- ``tracking_timers``: the running timers, start's and stop's pre-built read and write;
- ``tracking_worklog_writes``: worklog writes and their history rows, the bulk paths;
- ``tracking_worklog_reads``: worklog reads, the explorer, the timesheet's query;
- ``tracking_weeks``: week statuses and approvers;
- ``tracking_outbox``: the work-item outbox.

Parts of one class rather than objects it forwards to: the port has some fifty methods, and
forwarding each would repeat every signature here. Each part is a plain class with methods
only (no ``__init__``, no state of its own, no overrides of another's methods), so the class
is the sum of its parts and nothing is resolved by inheritance order.

``PiccoloTrackingDirectory`` (the tracking jobs' tenant lists) stays here."""

from __future__ import annotations

from typing import Any

from piccolo.engine.base import Engine

from core.origin import Origin, current_origin

from .tracking_outbox import WorkItemOutboxRows
from .tracking_settings import RulesAndPreferences
from .tracking_tables import TrackingRule, TrackingTimer, WorkItemOutbox
from .tracking_timers import TimerRows
from .tracking_weeks import WeeksAndApprovers
from .tracking_worklog_reads import WorklogReads, worklog_from_row
from .tracking_worklog_writes import WorklogWrites

__all__ = ["PiccoloTrackingDirectory", "PiccoloTrackingRepo", "worklog_from_row"]


class PiccoloTrackingRepo(
    RulesAndPreferences, TimerRows, WorklogWrites, WorklogReads, WeeksAndApprovers, WorkItemOutboxRows
):
    """Every worklog write records its change (``worklog_change``) in the same transaction,
    under ``origin``: the scope's, set at the edge (``core.unit_of_work``)."""

    def __init__(self, engine: Engine[Any], tenant_id: str, origin: Origin | None = None) -> None:
        self._engine = engine
        self.tenant_id = tenant_id
        self._origin = origin if origin is not None else current_origin()


class PiccoloTrackingDirectory:
    """Which tenants have work for the tracking jobs; tenant ids only, never their rows."""

    def __init__(self, engine: Engine[Any]) -> None:
        self._engine = engine

    async def tenants_with_timers(self) -> list[str]:
        rows = await TrackingTimer.select(TrackingTimer.tenant_id).distinct()
        return sorted(row["tenant_id"] for row in rows)

    async def tenants_with_pending_work_items(self) -> list[str]:
        rows = (
            await WorkItemOutbox.select(WorkItemOutbox.tenant_id)
            .where(WorkItemOutbox.done_at.is_null())
            .distinct()
        )
        return sorted(row["tenant_id"] for row in rows)

    async def tenants_with_auto_lock(self) -> list[str]:
        rows = await TrackingRule.select(TrackingRule.tenant_id).where(
            TrackingRule.approval_start.is_not_null() | TrackingRule.auto_lock_after_days.is_not_null()
        )
        return sorted(row["tenant_id"] for row in rows)

