"""The Times Explorer's sums in SQL: what the storage groups by and prices with, and what
it answers (``TrackingRepository.explore_totals``).

The storage groups the matching rows in SQL by what a :class:`TotalsBy` names and answers
:class:`WorklogTotals` — partial sums that :func:`~core.tracking.explorer_groups.fold_totals`
folds into the groups the explorer shows. :class:`PriceRules` carries the rates into SQL so
that each *worklog* is still rounded once there (see the storage's comment).
:func:`offset_spans` gives the storage a zone's UTC offsets over the queried range, so it
can split by local day in SQL.

Re-exported by :mod:`core.tracking.explorer`; import from there.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from core.tracking.weeks import zone

__all__ = [
    "PriceRules",
    "TotalsBy",
    "WorklogTotals",
    "offset_spans",
]


@dataclass(frozen=True, slots=True)
class PriceRules:
    """The rates that price a worklog, as the storage applies them row by row: hourly rates
    in minor units of the tenant's one currency. Precedence (core.rates): the budget's rate
    — ``direct`` for a worklog assigned to a budget directly (``None``: that budget has no
    rate), else ``items`` for the budget its work item resolves to (only rated budgets) —
    then ``activity_types``, then ``users``; none → the worklog has no amount."""

    users: Mapping[str, int] = field(default_factory=dict)
    activity_types: Mapping[str, int] = field(default_factory=dict)
    direct: Mapping[str, int | None] = field(default_factory=dict)
    items: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TotalsBy:
    """What to sum worklogs by (each a column of :class:`WorklogTotals`; False: not split)."""

    user: bool = False
    work_item: bool = False
    activity_type: bool = False
    #: Split by the budget a worklog is assigned to directly (worklog id → budget id).
    direct_budget: Mapping[str, str] | None = None
    #: Split by the calendar day in this zone.
    day_zone: str | None = None
    #: With ``day_zone``: split by the Monday of the day's ISO week instead (fewer groups).
    week_starts: bool = False
    prices: PriceRules = field(default_factory=PriceRules)


@dataclass(frozen=True, slots=True)
class WorklogTotals:
    """The sums over the worklogs sharing these values (None on what was not split by)."""

    user_id: str | None
    work_item: str | None
    activity_type_id: str | None
    direct_budget: str | None
    #: The local day (with ``TotalsBy.week_starts``: the Monday of its week).
    day: date | None
    tracked_s: int
    billable_s: int
    amount: int


#: How far apart (seconds) :func:`offset_spans` samples a zone's offset. No IANA zone changes
#: its offset twice within six hours, so a change between two samples is exactly one change.
_SAMPLE_S = 6 * 3600


@functools.lru_cache(maxsize=512)  # pure; the explorer asks for the same months over and over
def offset_spans(time_zone: str, lo: datetime, hi: datetime) -> tuple[tuple[datetime | None, int], ...]:
    """The zone's UTC offsets (seconds) over ``[lo, hi]``: ``(since, offset)`` in order, the
    first one ``since`` None (from before ``lo``); each holds until the next one's ``since``."""
    where = zone(time_zone)

    def offset(epoch: int) -> int:
        shift = datetime.fromtimestamp(epoch, UTC).astimezone(where).utcoffset()
        return int(shift.total_seconds()) if shift is not None else 0

    first, last = math.floor(lo.timestamp()), math.ceil(hi.timestamp())
    spans: list[tuple[datetime | None, int]] = [(None, offset(first))]
    at = first
    while at < last:
        step = min(at + _SAMPLE_S, last)
        now = offset(step)
        if now != spans[-1][1]:
            before, after = at, step  # offset(before) is the old one, offset(after) the new
            while after - before > 1:  # zones change on whole seconds: bisect to the first
                middle = (before + after) // 2
                before, after = (middle, after) if offset(middle) == spans[-1][1] else (before, middle)
            spans.append((datetime.fromtimestamp(after, UTC), now))
        at = step
    return tuple(spans)
