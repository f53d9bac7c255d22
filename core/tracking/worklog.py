"""Worklogs: time a user spent, added by a timer, by hand, by import or through the API.

Invariants, checked whenever one is built: aware start time; ``0 < length_s ≤
24 h``; ``0 ≤ billable_length_s ≤ length_s``; the ``billable`` flag is set exactly
when ``billable_length_s > 0`` (one fact, so the two cannot disagree); optional
text is ``None`` rather than blank. Build new ones with :func:`draft_worklog`,
which normalises input, and give them an id with :func:`create_worklog`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from enum import Enum
from typing import Final, Literal

from core.errors import AccessDenied, ValidationFailed
from core.tracking.fields import (
    MAX_LENGTH_S,
    WorklogFlag,
    check_comment,
    check_name,
    check_span,
    clean_comment,
    clean_name,
    utc,
)
from core.tracking.timer import TrackDraft

__all__ = [
    "EVERYONE",
    "KEEP",
    "NOBODY",
    "ORIGINS",
    "OthersRights",
    "Worklog",
    "WorklogChanges",
    "WorklogDraft",
    "covers",
    "create_worklog",
    "draft_from_track",
    "draft_worklog",
    "edit",
    "ensure_may_edit",
    "may_edit",
]

ORIGINS = frozenset(
    {WorklogFlag.TRACKED, WorklogFlag.MANUAL, WorklogFlag.IMPORTED, WorklogFlag.FROM_API}
)
"""How a worklog came to be; exactly one of these is among its flags."""


def _check(
    started_at: datetime,
    length_s: int,
    billable_length_s: int,
    work_item: str | None,
    comment: str | None,
    activity_type: str | None,
    flags: frozenset[WorklogFlag],
) -> None:
    utc(started_at, "started_at")
    for name, value in (("length_s", length_s), ("billable_length_s", billable_length_s)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValidationFailed(f"{name} must be whole seconds", field=name)
    if not 0 < length_s <= MAX_LENGTH_S:
        raise ValidationFailed(
            f"the length must be more than 0 and at most {MAX_LENGTH_S} seconds (24 hours)",
            field="length_s",
        )
    if not 0 <= billable_length_s <= length_s:
        raise ValidationFailed(
            "the billable length must be between 0 and the length", field="billable_length_s"
        )
    if (WorklogFlag.BILLABLE in flags) != (billable_length_s > 0):
        raise ValidationFailed(
            "the billable flag must match a billable length above 0", field="flags"
        )
    if len(flags & ORIGINS) != 1:
        raise ValidationFailed("a worklog has exactly one origin flag", field="flags")
    check_name(work_item, "work_item")
    check_name(activity_type, "activity_type")
    check_comment(comment)


@dataclass(frozen=True, slots=True)
class WorklogDraft:
    """A worklog that is not stored yet, so has no id."""

    user_id: str
    started_at: datetime
    length_s: int
    billable_length_s: int
    work_item: str | None
    comment: str | None
    activity_type: str | None
    added_by: str
    flags: frozenset[WorklogFlag]
    #: The activity type catalogue entry (``activity_type`` is its name, kept current).
    activity_type_id: str | None = None

    def __post_init__(self) -> None:
        _check(
            self.started_at,
            self.length_s,
            self.billable_length_s,
            self.work_item,
            self.comment,
            self.activity_type,
            self.flags,
        )
        # New input only: a stored worklog from before the range existed must still load.
        check_span(self.started_at, self.length_s)


@dataclass(frozen=True, slots=True)
class Worklog:
    """A stored worklog. ``owner_edited``: its owner has edited it (see :func:`may_edit`)."""

    id: str
    user_id: str
    started_at: datetime
    length_s: int
    billable_length_s: int
    work_item: str | None
    comment: str | None
    activity_type: str | None
    added_by: str
    flags: frozenset[WorklogFlag]
    owner_edited: bool = False
    #: The activity type catalogue entry (``activity_type`` is its name, kept current).
    activity_type_id: str | None = None

    def __post_init__(self) -> None:
        _check(
            self.started_at,
            self.length_s,
            self.billable_length_s,
            self.work_item,
            self.comment,
            self.activity_type,
            self.flags,
        )


def _flags(origin: WorklogFlag, billable_length_s: int) -> frozenset[WorklogFlag]:
    if origin not in ORIGINS:
        raise ValueError(f"{origin} is not an origin flag")
    return frozenset({origin, WorklogFlag.BILLABLE} if billable_length_s > 0 else {origin})


def draft_worklog(
    user_id: str,
    started_at: datetime,
    length_s: int,
    *,
    added_by: str | None = None,
    origin: WorklogFlag = WorklogFlag.MANUAL,
    billable_length_s: int = 0,
    work_item: str | None = None,
    comment: str | None = None,
    activity_type: str | None = None,
    activity_type_id: str | None = None,
) -> WorklogDraft:
    """A new worklog from raw input; ``added_by`` defaults to the owner."""
    return WorklogDraft(
        user_id=user_id,
        started_at=utc(started_at, "started_at"),
        length_s=length_s,
        billable_length_s=billable_length_s,
        work_item=clean_name(work_item, "work_item"),
        comment=clean_comment(comment),
        activity_type=clean_name(activity_type, "activity_type"),
        added_by=user_id if added_by is None else added_by,
        flags=_flags(origin, billable_length_s),
        activity_type_id=activity_type_id,
    )


def draft_from_track(track: TrackDraft) -> WorklogDraft:
    """The worklog a stopped timer leaves. A 0-second track is refused: store nothing.

    It is billable in full when the track's activity type is billable by default.
    """
    return draft_worklog(
        track.user_id,
        track.started_at,
        track.length_s,
        origin=WorklogFlag.TRACKED,
        billable_length_s=track.length_s if track.billable else 0,
        work_item=track.work_item,
        comment=track.comment,
        activity_type=track.activity_type,
        activity_type_id=track.activity_type_id,
    )


_DRAFT_FIELDS = tuple(f.name for f in fields(WorklogDraft))


def create_worklog(draft: WorklogDraft, worklog_id: str) -> Worklog:
    """The stored form of ``draft``, under ``worklog_id``.

    A draft is frozen and was checked when it was made, and a worklog holds the same
    fields plus its id: checking them again doubled the cost of a 100,000-row import, so
    the worklog is filled in without running ``__post_init__`` a second time.
    """
    worklog = object.__new__(Worklog)
    for name in _DRAFT_FIELDS:
        object.__setattr__(worklog, name, getattr(draft, name))
    object.__setattr__(worklog, "id", worklog_id)
    object.__setattr__(worklog, "owner_edited", False)
    return worklog


@dataclass(frozen=True, slots=True)
class OthersRights:
    """Whose worklogs an actor may change besides their own: everyone's, or the owners named
    (an approval manager under the "approval managers" editing rule: the people whose weeks
    they decide)."""

    everyone: bool = False
    owners: frozenset[str] = frozenset()

    def covers(self, owner_id: str) -> bool:
        return self.everyone or owner_id in self.owners


EVERYONE = OthersRights(everyone=True)
NOBODY = OthersRights()


def covers(others: bool | OthersRights, owner_id: str) -> bool:
    """``others`` (a yes or no for every owner, or :class:`OthersRights`) allows ``owner_id``."""
    return others if isinstance(others, bool) else others.covers(owner_id)


def may_edit(worklog: Worklog, actor_id: str, actor_can_edit_others: bool | OthersRights) -> bool:
    """SPEC: one added for another user can be edited by both until its owner edits it.

    Deleting follows the same rule. ``actor_can_edit_others`` is the role's say (an
    Administrator: everyone's; the tenant's editing rule may widen it) and is not affected
    by who added the worklog.
    """
    if actor_id == worklog.user_id or covers(actor_can_edit_others, worklog.user_id):
        return True
    return actor_id == worklog.added_by and not worklog.owner_edited


def ensure_may_edit(worklog: Worklog, actor_id: str, actor_can_edit_others: bool | OthersRights) -> None:
    """:func:`may_edit` or AccessDenied ``not_permitted`` (for edits and deletes)."""
    if not may_edit(worklog, actor_id, actor_can_edit_others):
        raise AccessDenied("not_permitted", "you may not change this worklog")


class _Keep(Enum):
    KEEP = "keep"


KEEP: Final = _Keep.KEEP
"""Marks a field an edit leaves as it is (``None`` is a real value: "no work item")."""

_Kept = Literal[_Keep.KEEP]


@dataclass(frozen=True, slots=True)
class WorklogChanges:
    """What an edit sets; every field left at :data:`KEEP` stays as it was."""

    started_at: datetime | _Kept = KEEP
    length_s: int | _Kept = KEEP
    billable_length_s: int | _Kept = KEEP
    work_item: str | _Kept | None = KEEP
    comment: str | _Kept | None = KEEP
    activity_type: str | _Kept | None = KEEP
    #: Set together with ``activity_type`` (its name) by callers that resolved the entry.
    activity_type_id: str | _Kept | None = KEEP


def edit(
    worklog: Worklog,
    actor_id: str,
    changes: WorklogChanges,
    *,
    actor_can_edit_others: bool | OthersRights = False,
) -> Worklog:
    """The edited worklog, flagged ``changed``; an edit that changes nothing returns it as is.

    Locked weeks are checked by the caller with
    :func:`core.tracking.locking.ensure_edit_unlocked` on the days before and after.
    """
    ensure_may_edit(worklog, actor_id, actor_can_edit_others)
    started_at = (
        worklog.started_at if changes.started_at is KEEP else utc(changes.started_at, "started_at")
    )
    length_s = worklog.length_s if changes.length_s is KEEP else changes.length_s
    billable_length_s = (
        worklog.billable_length_s
        if changes.billable_length_s is KEEP
        else changes.billable_length_s
    )
    work_item = (
        worklog.work_item if changes.work_item is KEEP else clean_name(changes.work_item, "work_item")
    )
    comment = worklog.comment if changes.comment is KEEP else clean_comment(changes.comment)
    activity_type = (
        worklog.activity_type
        if changes.activity_type is KEEP
        else clean_name(changes.activity_type, "activity_type")
    )
    activity_type_id = (
        worklog.activity_type_id if changes.activity_type_id is KEEP else changes.activity_type_id
    )
    same = (
        started_at == worklog.started_at
        and length_s == worklog.length_s
        and billable_length_s == worklog.billable_length_s
        and work_item == worklog.work_item
        and comment == worklog.comment
        and activity_type == worklog.activity_type
        and activity_type_id == worklog.activity_type_id
    )
    if same:
        return worklog
    origin = worklog.flags & ORIGINS
    flags = origin | {WorklogFlag.CHANGED}
    if isinstance(billable_length_s, int) and billable_length_s > 0:
        flags |= {WorklogFlag.BILLABLE}
    edited = replace(
        worklog,
        started_at=started_at,
        length_s=length_s,
        billable_length_s=billable_length_s,
        work_item=work_item,
        comment=comment,
        activity_type=activity_type,
        activity_type_id=activity_type_id,
        flags=flags,
        owner_edited=worklog.owner_edited or actor_id == worklog.user_id,
    )
    check_span(edited.started_at, edited.length_s)
    return edited
