"""Worklog rows as an .xlsx workbook, and back.

Writing: text cells are written as strings (``data_type "s"``), so no cell can
be a formula whatever it holds; they also carry core's apostrophe rule, so an
.xlsx export holds exactly what a CSV export holds and both import the same way
(in Excel the apostrophe is visible as part of the text — that is the price of
one rule for both formats). The two duration columns are written as numbers so
that they can be summed in a spreadsheet.

Reading: the first sheet, first row as the header; line numbers are the
sheet's row numbers, so they match what the user sees. Formula cells are read
as their cached values (``data_only``), never evaluated.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Iterable, Mapping, Sequence

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell

from core.errors import ValidationFailed
from core.tracking import COLUMNS, NUMBER_COLUMNS, NumberedRow, table_rows
from core.tracking.rows import XLSX_MEDIA_TYPE

__all__ = ["XLSX_MEDIA_TYPE", "read_xlsx", "write_xlsx"]

SHEET_TITLE = "Worklogs"


def write_xlsx(
    rows: Iterable[Mapping[str, str]], columns: Sequence[str] | None = None,
    number_columns: Collection[str] | None = None, title: str = SHEET_TITLE,
) -> bytes:
    """A workbook with one sheet: the header, then one line per row of core's export (or of
    ``columns``, e.g. a budget statement's, whose ``number_columns`` are written as numbers)."""
    names = list(COLUMNS if columns is None else columns)
    numbers = NUMBER_COLUMNS if number_columns is None else frozenset(number_columns)
    workbook = Workbook(write_only=True)  # streams rows: exports can be large
    sheet = workbook.create_sheet(title)
    sheet.append(names)
    for row in rows:
        cells = []
        for name in names:
            text = row.get(name, "")
            if name in numbers and text:
                cells.append(WriteOnlyCell(sheet, value=float(text)))
                continue
            cell = WriteOnlyCell(sheet, value=text)
            # openpyxl makes any text starting with "=" a formula; say it is text.
            cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def read_xlsx(data: bytes) -> list[NumberedRow]:
    """The data rows of the workbook's first sheet, for :func:`core.tracking.parse_rows`."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        # Not a zip, a zip without a workbook, broken XML: openpyxl raises
        # whatever its parsers raise. All of it is bad input, never a 500.
        raise _not_a_workbook() from exc
    try:
        sheet = workbook.worksheets[0]
        # Some writers store a wrong sheet size; read what is there instead, and
        # from row 1 so that line numbers are the sheet's own.
        sheet.reset_dimensions()
        return table_rows(sheet.iter_rows(min_row=1, values_only=True))
    except ValidationFailed:
        raise
    except Exception as exc:
        # A read-only workbook parses its sheets lazily, so a damaged sheet
        # fails only here.
        raise _not_a_workbook() from exc
    finally:
        workbook.close()


def _not_a_workbook() -> ValidationFailed:
    return ValidationFailed("the file is not a readable Excel (.xlsx) workbook", field="file")


class XlsxSpreadsheets:
    """The :class:`~core.tracking.ports.Spreadsheets` port on openpyxl."""

    media_type = XLSX_MEDIA_TYPE

    def write(
        self, rows: Iterable[Mapping[str, str]], *, columns: Sequence[str] | None = None,
        number_columns: Collection[str] | None = None, title: str | None = None,
    ) -> bytes:
        return write_xlsx(rows, columns, number_columns, title or SHEET_TITLE)

    def read(self, data: bytes) -> list[NumberedRow]:
        return read_xlsx(data)
