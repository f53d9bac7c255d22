"""Work item automation settings (SPEC §8, issue #16): whether time tracking writes the
work item's DevOps time fields, which ones, and how a new worklog changes Remaining Work.

Pure rules. The outbox job (``core.services.work_items``) reads the tenant's settings at
the start of every run and asks :func:`planned_fields` what to write, so a change of
settings applies from the next run on. Effects a run finds while automation is off (or
writes no field) are *dropped* — marked done, never applied later: turning automation on
again must not replay weeks of worklogs onto estimates people kept by hand meanwhile.
Completed Work is a sum over every stored worklog, so it is whole again the next time
the item's worklogs change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum
from typing import NamedTuple

from core.errors import ValidationFailed

__all__ = [
    "MAX_REMAINING_H",
    "FieldsWritten",
    "PlannedFields",
    "RemainingMode",
    "RemainingNotPerWorklog",
    "WorkItemAutomation",
    "automation_settings",
    "check_remaining_given",
    "completed_hours",
    "lowered_remaining",
    "planned_fields",
    "remaining_hours",
]

_ONE_DECIMAL = Decimal("0.1")
_TWO_DECIMALS = Decimal("0.01")
#: The largest Remaining Work a user may set on a worklog (hours): ten years of full days.
MAX_REMAINING_H = Decimal(100_000)


class FieldsWritten(StrEnum):
    """Which of the work item's time fields the automation writes."""

    BOTH = "both"
    COMPLETED = "completed"
    REMAINING = "remaining"
    NONE = "none"


class RemainingMode(StrEnum):
    """How a new worklog changes Remaining Work (when Remaining Work is written)."""

    #: Lower it by the worklog's length (never below zero): the default.
    REDUCE = "reduce"
    #: Leave it as it is on the platform.
    LEAVE = "leave"
    #: Set it to what the user gave on the worklog (``remaining_h``); worklogs without one leave it.
    PER_WORKLOG = "per_worklog"


@dataclass(frozen=True, slots=True)
class WorkItemAutomation:
    """A tenant's settings; the defaults are the behaviour before there were settings."""

    enabled: bool = True
    fields: FieldsWritten = FieldsWritten.BOTH
    remaining: RemainingMode = RemainingMode.REDUCE

    @property
    def writes_completed(self) -> bool:
        return self.enabled and self.fields in (FieldsWritten.BOTH, FieldsWritten.COMPLETED)

    @property
    def writes_remaining(self) -> bool:
        return self.enabled and self.fields in (FieldsWritten.BOTH, FieldsWritten.REMAINING)

    @property
    def active(self) -> bool:
        """Whether the job writes anything at all."""
        return self.writes_completed or self.writes_remaining

    @property
    def takes_remaining_per_worklog(self) -> bool:
        """Whether a new worklog may carry the Remaining Work its user sets."""
        return self.writes_remaining and self.remaining is RemainingMode.PER_WORKLOG


def automation_settings(enabled: bool, fields: str, remaining: str) -> WorkItemAutomation:
    """Settings from what an administrator sent; 422 naming the field for an unknown value."""
    try:
        chosen_fields = FieldsWritten(fields)
    except ValueError:
        allowed = ", ".join(f.value for f in FieldsWritten)
        raise ValidationFailed(f"fields must be one of {allowed}", field="fields") from None
    try:
        mode = RemainingMode(remaining)
    except ValueError:
        allowed = ", ".join(m.value for m in RemainingMode)
        raise ValidationFailed(f"remaining must be one of {allowed}", field="remaining") from None
    return WorkItemAutomation(enabled=enabled, fields=chosen_fields, remaining=mode)


class RemainingNotPerWorklog(ValidationFailed):
    """A worklog carried a Remaining Work while the tenant's automation does not take one."""

    code = "remaining_work_not_per_worklog"


def remaining_hours(value: Decimal | float | int | str, *, field: str = "remaining_h") -> Decimal:
    """A Remaining Work a user typed: hours from 0 to :data:`MAX_REMAINING_H`, two decimals."""
    try:
        hours = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed("Remaining Work must be a number of hours", field=field) from None
    if not hours.is_finite() or hours < 0 or hours > MAX_REMAINING_H:
        raise ValidationFailed(f"Remaining Work must be between 0 and {MAX_REMAINING_H} hours", field=field)
    if hours != hours.quantize(_TWO_DECIMALS, rounding=ROUND_HALF_EVEN):
        raise ValidationFailed("Remaining Work has at most two decimals", field=field)
    return hours.quantize(_TWO_DECIMALS)


def check_remaining_given(
    settings: WorkItemAutomation, work_item: str | None, remaining_h: Decimal | None
) -> Decimal | None:
    """``remaining_h`` checked (see :func:`remaining_hours`) and normalised. A worklog may
    carry one only for a work item, and only while the tenant sets Remaining Work per
    worklog — anything else would be silently thrown away."""
    if remaining_h is None:
        return None
    hours = remaining_hours(remaining_h)
    if work_item is None:
        raise ValidationFailed("Remaining Work needs a work item", field="remaining_h")
    if not settings.takes_remaining_per_worklog:
        raise RemainingNotPerWorklog(
            "this tenant's work item automation does not take Remaining Work per worklog",
            field="remaining_h",
        )
    return hours


def completed_hours(seconds: int) -> Decimal:
    """Tracked seconds as hours with one decimal (half to even): 5400 → 1.5."""
    return (Decimal(seconds) / 3600).quantize(_ONE_DECIMAL, rounding=ROUND_HALF_EVEN)


def lowered_remaining(remaining: Decimal | None, seconds: int) -> Decimal | None:
    """Remaining Work less ``seconds`` of work, two decimals, never below zero.

    An item without a Remaining Work estimate keeps none: there is nothing to lower.
    """
    if remaining is None or seconds == 0:
        return remaining
    left = max(Decimal(0), remaining - Decimal(seconds) / 3600)
    return left.quantize(_TWO_DECIMALS, rounding=ROUND_HALF_EVEN)


class PendingChange(NamedTuple):
    """What one pending effect asks, in the order the effects were queued."""

    remaining_delta_s: int
    remaining_set: Decimal | None = None


class PlannedFields(NamedTuple):
    """The values the job means to write; None: that field is not written."""

    completed_work: Decimal | None
    remaining_work: Decimal | None


def planned_fields(
    settings: WorkItemAutomation, *, tracked_s: int, current_remaining: Decimal | None,
    changes: Sequence[PendingChange],
) -> PlannedFields:
    """What to write for one item with pending ``changes``, under the settings of this run.

    Completed Work: the item's tracked time. Remaining Work: ``reduce`` lowers the current
    value by every pending delta (an item without an estimate keeps none); ``leave`` writes
    nothing; ``per_worklog`` writes the value set on the most recently queued worklog that
    set one (none set: nothing).
    """
    completed = completed_hours(tracked_s) if settings.writes_completed else None
    remaining: Decimal | None = None
    if settings.writes_remaining:
        if settings.remaining is RemainingMode.REDUCE:
            remaining = lowered_remaining(current_remaining, sum(c.remaining_delta_s for c in changes))
        elif settings.remaining is RemainingMode.PER_WORKLOG:
            given = [c.remaining_set for c in changes if c.remaining_set is not None]
            remaining = given[-1] if given else None
    return PlannedFields(completed, remaining)
