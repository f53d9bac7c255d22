"""The activity type record and its rules.

* a name is trimmed and 1–100 characters, unique within the tenant case-insensitively
  (``casefold``), so "Design" and "design " are the same entry;
* a colour is ``#RRGGBB`` (stored upper-case);
* an hourly rate, when set, is a :class:`~core.money.Money` (checked by :mod:`core.rates`);
* an inactive entry stays on the worklogs that used it but takes no new use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import Enum
from typing import Final, Literal

from core.errors import Conflict, ValidationFailed
from core.money import Money

__all__ = [
    "DEFAULT_CATALOGUE",
    "DEFAULT_COLOR",
    "MAX_NAME",
    "ActivityType",
    "ActivityTypeChanges",
    "ActivityTypeExists",
    "UnknownActivityType",
    "check_color",
    "check_name",
    "default_catalogue",
    "find_by_name",
    "name_key",
    "new_activity_type",
    "resolve",
    "updated",
]

MAX_NAME: Final = 100
DEFAULT_COLOR: Final = "#607D8B"
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")


class UnknownActivityType(ValidationFailed):
    """No active activity type of the tenant by that id or name (SPEC §12)."""

    code = "unknown_activity_type"


class ActivityTypeExists(Conflict):
    """Another activity type of the tenant has that name (case-insensitively)."""

    code = "activity_type_exists"


@dataclass(frozen=True, slots=True)
class ActivityType:
    id: str
    name: str
    color: str = DEFAULT_COLOR
    billable_by_default: bool = False
    active: bool = True
    hourly_rate: Money | None = None

    def __post_init__(self) -> None:
        # Only the shape: the name rules (1–100 characters) apply to new and renamed entries,
        # and an entry made from an older worklog's longer free text must still load.
        if not self.name.strip():
            raise ValidationFailed("an activity type needs a name", field="name")
        check_color(self.color)


def name_key(name: str) -> str:
    """What uniqueness compares: the trimmed name, case-folded."""
    return name.strip().casefold()


def check_name(name: object, field: str = "name") -> str:
    if not isinstance(name, str):
        raise ValidationFailed("an activity type's name must be text", field=field)
    cleaned = name.strip()
    if not 1 <= len(cleaned) <= MAX_NAME:
        raise ValidationFailed(
            f"an activity type's name must be 1 to {MAX_NAME} characters", field=field
        )
    if any(ch in cleaned for ch in "\r\n\t\x00"):
        raise ValidationFailed("an activity type's name must be one line of text", field=field)
    return cleaned


def check_color(color: object, field: str = "color") -> str:
    if not isinstance(color, str) or _COLOR.fullmatch(color) is None:
        raise ValidationFailed("a colour must be #RRGGBB, e.g. #1E88E5", field=field)
    return color.upper()


def new_activity_type(
    activity_type_id: str,
    name: str,
    *,
    color: str | None = None,
    billable_by_default: bool = False,
    hourly_rate: Money | None = None,
) -> ActivityType:
    return ActivityType(
        id=activity_type_id,
        name=check_name(name),
        color=DEFAULT_COLOR if color is None else check_color(color),
        billable_by_default=billable_by_default,
        hourly_rate=hourly_rate,
    )


class _Keep(Enum):
    KEEP = "keep"


KEEP: Final = _Keep.KEEP
_Kept = Literal[_Keep.KEEP]


@dataclass(frozen=True, slots=True)
class ActivityTypeChanges:
    """What a PATCH sets; fields left at ``KEEP`` stay (``hourly_rate=None`` removes the rate)."""

    name: str | _Kept = KEEP
    color: str | _Kept = KEEP
    billable_by_default: bool | _Kept = KEEP
    active: bool | _Kept = KEEP
    hourly_rate: Money | _Kept | None = KEEP


def updated(current: ActivityType, changes: ActivityTypeChanges) -> ActivityType:
    return replace(
        current,
        name=current.name if changes.name is KEEP else check_name(changes.name),
        color=current.color if changes.color is KEEP else check_color(changes.color),
        billable_by_default=(
            current.billable_by_default
            if changes.billable_by_default is KEEP
            else changes.billable_by_default
        ),
        active=current.active if changes.active is KEEP else changes.active,
        hourly_rate=current.hourly_rate if changes.hourly_rate is KEEP else changes.hourly_rate,
    )


def find_by_name(catalogue: Iterable[ActivityType], name: str) -> ActivityType | None:
    """The entry whose name matches case-insensitively (active or not), if any."""
    key = name_key(name)
    return next((entry for entry in catalogue if name_key(entry.name) == key), None)


def resolve(
    catalogue: Iterable[ActivityType], *, activity_type_id: str | None, name: str | None
) -> ActivityType | None:
    """The active entry a worklog or timer names, by id (wins) or by name; ``None`` for neither.

    An unknown or inactive one is :class:`UnknownActivityType` (422 ``unknown_activity_type``).
    """
    entries = list(catalogue)
    if activity_type_id is not None:
        found = next((entry for entry in entries if entry.id == activity_type_id), None)
        if found is None or not found.active:
            raise UnknownActivityType(
                "there is no active activity type with this id", field="activity_type_id"
            )
        if name is not None and name_key(name) != name_key(found.name):
            raise ValidationFailed(
                "activity_type and activity_type_id name different activity types",
                field="activity_type",
            )
        return found
    if name is None or not name.strip():
        return None
    found = find_by_name(entries, name)
    if found is None or not found.active:
        raise UnknownActivityType(
            "there is no active activity type with this name", field="activity_type"
        )
    return found


#: The list every new tenant starts with: (name, colour, billable by default). Work done for
#: the product is billable; internal overhead (meetings, management) is not by default.
DEFAULT_CATALOGUE: Final[tuple[tuple[str, str, bool], ...]] = (
    ("Development", "#1E88E5", True),
    ("Testing", "#43A047", True),
    ("Design", "#8E24AA", True),
    ("Documentation", "#00897B", True),
    ("Meeting", "#FB8C00", False),
    ("Support", "#E53935", True),
    ("Project management", "#6D4C41", False),
    ("Research", "#3949AB", True),
)


def default_catalogue(ids: Iterable[str]) -> list[ActivityType]:
    """The default entries under the given ids (one id per entry, in order)."""
    return [
        ActivityType(id=entry_id, name=name, color=color, billable_by_default=billable)
        for entry_id, (name, color, billable) in zip(ids, DEFAULT_CATALOGUE, strict=True)
    ]
