"""A worklog's change history: what each add, edit and delete did to it, by whom, from where.

Pure values. The tracking repository writes a :class:`WorklogChange` with every write to a
worklog (in the same transaction), so no use case can forget one; the origin (who and from where) is
the tenant scope's (``core.origin``).

``before``/``after`` hold only the fields that changed, as JSON values (an instant as ISO
text): an added worklog has ``after`` only (every field it was added with), a deleted one
``before`` only (its last values), an edit both, restricted to what it changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.origin import Origin, Source
from core.tracking.fields import WorklogFlag
from core.tracking.worklog import Worklog

__all__ = [
    "HISTORY_FIELDS",
    "ChangeAction",
    "ChangeCursor",
    "FieldChange",
    "JsonValue",
    "WorklogChange",
    "added_source",
    "edited_values",
    "worklog_values",
]

#: The fields a change records; the owner never changes, the flags follow from these.
HISTORY_FIELDS = (
    "started_at", "length_s", "billable_length_s", "work_item", "comment", "activity_type",
    "activity_type_id",
)

JsonValue = str | int | None


class ChangeAction(StrEnum):
    ADDED = "added"
    EDITED = "edited"
    DELETED = "deleted"


def worklog_values(worklog: Worklog) -> dict[str, JsonValue]:
    """The recorded fields of ``worklog`` as JSON values."""
    return {
        "started_at": worklog.started_at.isoformat(),
        "length_s": worklog.length_s,
        "billable_length_s": worklog.billable_length_s,
        "work_item": worklog.work_item,
        "comment": worklog.comment,
        "activity_type": worklog.activity_type,
        "activity_type_id": worklog.activity_type_id,
    }


def added_source(worklog: Worklog, origin: Origin) -> Source:
    """Where an added worklog came from: a timer's or an import's say so themselves (their
    origin flag, whichever edge stopped the timer or ran the import), else the edge's."""
    if WorklogFlag.TRACKED in worklog.flags:
        return Source.TIMER
    if WorklogFlag.IMPORTED in worklog.flags:
        return Source.IMPORT
    return origin.source


def edited_values(
    before: Worklog, after: Worklog
) -> tuple[dict[str, JsonValue], dict[str, JsonValue]]:
    """The fields an edit changed, before and after (both empty: nothing changed)."""
    old, new = worklog_values(before), worklog_values(after)
    changed = [name for name in HISTORY_FIELDS if old[name] != new[name]]
    return {name: old[name] for name in changed}, {name: new[name] for name in changed}


@dataclass(frozen=True, slots=True)
class FieldChange:
    before: JsonValue
    after: JsonValue


@dataclass(frozen=True, slots=True)
class ChangeCursor:
    """A position in a worklog's history, ordered by ``at``, then ``id`` (write order)."""

    at: datetime
    id: str


@dataclass(frozen=True, slots=True)
class WorklogChange:
    """One recorded change of worklog ``worklog_id``, owned by ``user_id``.

    ``actor_id`` is None when no user made it (a background job); ``source`` is one of
    ``core.origin.Source``'s values, kept as text so an old row always loads. ``id``
    sorts in write order among changes at the same ``at``.
    """

    id: str
    worklog_id: str
    user_id: str
    at: datetime
    actor_id: str | None
    source: str
    action: ChangeAction
    before: Mapping[str, JsonValue]
    after: Mapping[str, JsonValue]

    @property
    def changes(self) -> dict[str, FieldChange]:
        """Field by field, in :data:`HISTORY_FIELDS` order (a field one side lacks: None)."""
        names = [name for name in HISTORY_FIELDS if name in self.before or name in self.after]
        return {name: FieldChange(self.before.get(name), self.after.get(name)) for name in names}
