"""The import/export row format shared by CSV and Excel files, and the CSV codec.

Columns (SPEC §8): User, Timestamp, Duration (hours), Billable duration,
Activity type, Comment, Work item.

- **User** is the e-mail address; **Timestamp** is ISO 8601 with its UTC offset,
  in the exporter's time zone (the instant is what counts).
- **Durations** are decimal hours with at most 6 decimals (``1.5``, ``0.000278``).
  Import multiplies by 3600 and rounds to the nearest second; 6 decimals err by
  under 0.002 s, so export → import gives back the exact seconds.
- **Formula injection** (OWASP "CSV injection"): Excel, LibreOffice Calc and Google
  Sheets start a formula at ``= + - @``; Excel also reads the full-width forms
  (``＝ ＋ － ＠``, which Japanese and Chinese input methods type) as those, and some
  importers trim leading spaces first. So a text cell gets a leading apostrophe when
  it starts with a tab, a carriage return or a line feed (OWASP's list), with ``|``
  (DDE) or ``;`` (the separator of spreadsheets in many locales), or when its first
  character after any leading whitespace is, in Unicode compatibility form (NFKC),
  one of ``= + - @ | ;``. A cell that already starts with an apostrophe gets one
  too, which makes the rule reversible: import drops exactly one leading
  apostrophe, so round trips are exact. Plain decimal numbers such as ``-1.5`` are
  left alone: a spreadsheet reads them as numbers, never as formulas, and an
  apostrophe would turn numeric data into text. A ``,`` inside a cell cannot start a
  new one: the CSV writer quotes such cells.
- **Lines** are counted as a spreadsheet shows rows: the header is line 1, the
  first data row line 2; a CSV record with line breaks inside a quoted comment is
  still one line. Rows whose cells are all empty are skipped.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NamedTuple

from core.errors import ValidationFailed
from core.tracking.weeks import zone
from core.tracking.worklog import Worklog

__all__ = [
    "ACTIVITY_TYPE",
    "BILLABLE_DURATION",
    "COLUMNS",
    "COMMENT",
    "DURATION",
    "NUMBER_COLUMNS",
    "REQUIRED_COLUMNS",
    "TIMESTAMP",
    "USER",
    "WORK_ITEM",
    "XLSX_MEDIA_TYPE",
    "NumberedRow",
    "export_rows",
    "format_hours",
    "neutralise_formula",
    "read_csv",
    "restore_text",
    "table_rows",
    "write_csv",
]

USER = "User"
TIMESTAMP = "Timestamp"
DURATION = "Duration (hours)"
BILLABLE_DURATION = "Billable duration"
ACTIVITY_TYPE = "Activity type"
COMMENT = "Comment"
WORK_ITEM = "Work item"
COLUMNS = (USER, TIMESTAMP, DURATION, BILLABLE_DURATION, ACTIVITY_TYPE, COMMENT, WORK_ITEM)
REQUIRED_COLUMNS = (USER, TIMESTAMP, DURATION)
"""Columns a file must have; the others may be left out (empty for every row)."""
NUMBER_COLUMNS = (DURATION, BILLABLE_DURATION)
#: The media type of an Excel workbook (.xlsx), the other file format besides CSV.
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

class NumberedRow(NamedTuple):
    """A data row keyed by column name, with its 1-based line (the header is line 1)."""

    line: int
    cells: dict[str, object]

_UNSAFE_STARTS = ("\t", "\r", "\n", "|", ";", "'")
_TRIGGERS = frozenset("=+-@|;")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_HOUR_PLACES = Decimal("0.000001")


def _could_start_a_formula(cell: str) -> bool:
    if cell.startswith(_UNSAFE_STARTS):
        return True
    body = cell.lstrip()  # any Unicode space, the ideographic and no-break ones too
    return bool(body) and unicodedata.normalize("NFKC", body[0])[:1] in _TRIGGERS


def neutralise_formula(cell: str) -> str:
    """The text as it may be written to a file without ever starting a formula."""
    if _could_start_a_formula(cell) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def restore_text(cell: str) -> str:
    """Undo :func:`neutralise_formula`: drop one leading apostrophe."""
    return cell[1:] if cell.startswith("'") else cell


def format_hours(seconds: int) -> str:
    """Seconds as decimal hours, 6 places at most, no trailing zeros: 5400 → ``1.5``."""
    hours = (Decimal(seconds) / 3600).quantize(_HOUR_PLACES, rounding=ROUND_HALF_EVEN)
    return f"{hours.normalize():f}"


def export_rows(
    worklogs: Iterable[Worklog], user_emails: Mapping[str, str], time_zone: str
) -> list[dict[str, str]]:
    """One neutralised text row per worklog; ``user_emails`` maps user id → e-mail."""
    tz = zone(time_zone)
    rows = []
    for worklog in worklogs:
        email = user_emails.get(worklog.user_id)
        if email is None:
            raise ValueError(f"no e-mail for user {worklog.user_id!r}")
        cells = {
            USER: email,
            TIMESTAMP: worklog.started_at.astimezone(tz).isoformat(),
            DURATION: format_hours(worklog.length_s),
            BILLABLE_DURATION: format_hours(worklog.billable_length_s),
            ACTIVITY_TYPE: worklog.activity_type or "",
            COMMENT: worklog.comment or "",
            WORK_ITEM: worklog.work_item or "",
        }
        rows.append({name: neutralise_formula(value) for name, value in cells.items()})
    return rows


def write_csv(rows: Iterable[Mapping[str, str]], columns: Sequence[str] | None = None) -> str:
    """CSV text with a header row (RFC 4180 line ends). Encode it as UTF-8; a BOM
    (``utf-8-sig``) helps Excel recognise UTF-8 and :func:`read_csv` ignores it. ``columns``:
    another file's columns than the worklog export's (a budget statement's)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS if columns is None else columns))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def read_csv(text: str) -> list[NumberedRow]:
    """The data rows of CSV text, keyed by column, with their lines (see module doc)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        records = list(reader)
    except csv.Error as exc:
        raise ValidationFailed(
            f"not readable as CSV near line {reader.line_num}: {exc}", field="file"
        ) from exc
    return table_rows(records)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def table_rows(table: Iterable[Sequence[object]]) -> list[NumberedRow]:
    """Rows of any table (CSV records, sheet rows), header first, as numbered dicts.

    Header names match case-insensitively and in any order; unknown columns are
    ignored. A file without the required columns is refused as a whole
    (ValidationFailed on ``header``, line 1): every row would be wrong the same way.
    """
    lines = iter(table)
    header = next(lines, None)
    if header is None:
        raise ValidationFailed("the file is empty; the first line must name the columns",
                               field="header", line=1)
    known = {name.casefold(): name for name in COLUMNS}
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = known.get(str(cell).strip().casefold()) if isinstance(cell, str) else None
        if name is None:
            continue
        if name in positions:
            raise ValidationFailed(f"the column {name!r} appears twice", field="header", line=1)
        positions[name] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in positions]
    if missing:
        raise ValidationFailed(
            "the first line lacks the column(s) " + ", ".join(repr(m) for m in missing),
            field="header",
            line=1,
        )
    rows: list[NumberedRow] = []
    for line, record in enumerate(lines, start=2):
        if all(_blank(value) for value in record):
            continue
        rows.append(
            NumberedRow(line, {name: record[i] if i < len(record) else None for name, i in positions.items()})
        )
    return rows
