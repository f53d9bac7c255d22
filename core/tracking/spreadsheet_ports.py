"""Tracking's spreadsheet port: worklog rows in and out of a workbook, the format the
import and export also speak as CSV (SPEC §8). Re-exported by :mod:`core.tracking.ports`,
where the other contexts find it."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Protocol

from core.tracking.rows import NumberedRow

__all__ = ["Spreadsheets"]


class Spreadsheets(Protocol):
    """Worklog rows in and out of a workbook (.xlsx); the row format is core's (``rows.py``)."""

    media_type: str

    def write(
        self, rows: Iterable[Mapping[str, str]], *, columns: Sequence[str] | None = None,
        number_columns: Collection[str] | None = None, title: str | None = None,
    ) -> bytes:
        """The rows as a workbook: core's worklog columns, or ``columns`` (a budget
        statement's), with ``number_columns`` written as numbers rather than text."""
        ...

    def read(self, data: bytes) -> list[NumberedRow]: ...
