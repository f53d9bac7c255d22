"""The Time tab's forms — start the timer, answer the activity check, add or edit a worklog,
write a cell of the keyboard grid — and how their fields read: blank text is none, a start is
a time of day in the user's time zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

import msgspec
from litestar.enums import RequestEncodingType
from litestar.params import Body

from core.errors import ValidationFailed
from core.tracking import check_day, zone

__all__ = ["CellBody", "CheckBody", "StartBody", "WorklogBody", "clean", "local_start"]

_HM = re.compile(r"(\d{1,2}):([0-5]\d)", re.ASCII)


def clean(text: str) -> str | None:
    return text.strip() or None


class StartForm(msgspec.Struct):
    work_item: Annotated[str, msgspec.Meta(max_length=200)] = ""
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    activity_type_id: Annotated[str, msgspec.Meta(max_length=64)] = ""


class CheckForm(msgspec.Struct):
    defer: Literal["", "one_hour", "tomorrow", "next_monday"] = ""


class WorklogForm(msgspec.Struct):
    day: date
    hours: Annotated[str, msgspec.Meta(max_length=10)]
    start: Annotated[str, msgspec.Meta(max_length=5)] = "09:00"
    work_item: Annotated[str, msgspec.Meta(max_length=200)] = ""
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    #: The work item's new Remaining Work (hours), shown while the tenant sets it per worklog.
    remaining_h: Annotated[str, msgspec.Meta(max_length=12)] = ""
    #: A select of the active activity types; "" is none. Absent (an older form): unchanged.
    activity_type_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class CellForm(msgspec.Struct):
    day: date
    #: What was typed; empty clears the cell.
    hours: Annotated[str, msgspec.Meta(max_length=40)] = ""
    work_item: Annotated[str, msgspec.Meta(max_length=200)] = ""
    #: "1" once the user confirmed clearing a cell of several worklogs.
    confirmed: Annotated[str, msgspec.Meta(max_length=5)] = ""


_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)
StartBody = Annotated[StartForm, _URL_ENCODED]
CheckBody = Annotated[CheckForm, _URL_ENCODED]
WorklogBody = Annotated[WorklogForm, _URL_ENCODED]
CellBody = Annotated[CellForm, _URL_ENCODED]


def local_start(day: date, start: str, tz: str) -> datetime:
    check_day(day, "day")
    match = _HM.fullmatch(start.strip())
    if match is None or int(match[1]) > 23:
        raise ValidationFailed(f"{start!r} is not a time of day; type 09:00", field="start")
    moment = datetime.combine(day, time(int(match[1]), int(match[2])), tzinfo=zone(tz))
    return moment.astimezone(UTC)
