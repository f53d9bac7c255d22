"""Excel workbooks: the same rows as CSV, with no cell that can be a formula."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook, load_workbook

from core.errors import ValidationFailed
from core.tracking import COLUMNS, create_worklog, export_rows, parse_rows
from plugins.spreadsheets import XLSX_MEDIA_TYPE, read_xlsx, write_xlsx
from tests.unit.tracking.factories import EMAILS, USERS, a_worklog, utc
from tests.unit.tracking.strategies import exported_fields

IMPORTER = "u-admin"


def workbook_bytes(*rows: list[object]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_an_xlsx_export_imports_back_to_the_same_fields() -> None:
    """Every exported field survives the workbook, including tricky text and durations."""
    originals = [
        a_worklog(user_id="u-ann", length_s=4321, billable_length_s=1, comment='=HYPERLINK("x")',
                  work_item="-1", activity_type="'quoted"),
        a_worklog(user_id="u-eq", started_at=datetime(2026, 3, 29, 1, 59, 59, 123456, tzinfo=UTC),
                  length_s=86400, billable_length_s=86400,
                  comment="  line one\nline two\ttab  ", work_item=None, activity_type=None),
        a_worklog(user_id="u-bob", length_s=1, comment="@here +1 -1 ünïcødé 😀 \u2028",
                  work_item="+42", activity_type="1234"),
        a_worklog(user_id="u-bob", length_s=7, comment="-5", work_item="0042"),
    ]
    data = write_xlsx(export_rows(originals, USERS, "Asia/Kathmandu"))
    result = parse_rows(read_xlsx(data), EMAILS, added_by=IMPORTER)
    assert result.errors == ()
    assert [exported_fields(create_worklog(d, "w")) for d in result.drafts] == [
        exported_fields(w) for w in originals
    ]


def test_a_formula_comment_is_written_as_a_text_cell_that_cannot_run() -> None:
    """openpyxl reads the comment back as a string cell that does not start with '='."""
    data = write_xlsx(export_rows([a_worklog(user_id="u-eq", comment='=HYPERLINK("x")')], USERS, "UTC"))
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert header == list(COLUMNS)
    comment = sheet.cell(row=2, column=COLUMNS.index("Comment") + 1)
    assert comment.data_type == "s"
    assert isinstance(comment.value, str) and not comment.value.startswith("=")
    assert comment.value == '\'=HYPERLINK("x")'
    user = sheet.cell(row=2, column=1)
    assert user.data_type == "s" and user.value == "'=eq@example.com"
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"


def test_durations_are_number_cells_so_they_can_be_summed() -> None:
    """Hours are written as numbers, everything else as text."""
    data = write_xlsx(export_rows([a_worklog(user_id="u-ann", length_s=5400)], USERS, "UTC"))
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet.cell(row=2, column=3).value == 1.5
    assert sheet.cell(row=2, column=3).data_type == "n"
    assert sheet.cell(row=2, column=2).data_type == "s"


def test_line_numbers_are_the_sheets_row_numbers() -> None:
    """Blank rows are skipped but still counted, so errors point at the right row."""
    data = workbook_bytes(
        ["user", "timestamp", "duration (hours)"],
        ["ann@example.com", "2026-01-14T09:00:00+00:00", 1],
        [None, None, None],
        ["ghost@example.com", "2026-01-14T09:00:00+00:00", 1],
    )
    rows = read_xlsx(data)
    assert [line for line, _ in rows] == [2, 4]
    result = parse_rows(rows, EMAILS, added_by=IMPORTER)
    assert [error.line for error in result.errors] == [4]


def test_a_hand_made_workbook_with_excel_values_is_read() -> None:
    """Dates typed as dates and work items typed as numbers arrive as values core understands."""
    data = workbook_bytes(
        list(COLUMNS),
        ["ann@example.com", datetime(2026, 1, 14, 9), 0.25, None, None, None, 1234],
    )
    result = parse_rows(read_xlsx(data), EMAILS, added_by=IMPORTER, time_zone="UTC")
    [draft] = result.drafts
    assert (draft.started_at, draft.length_s, draft.work_item) == (utc(2026, 1, 14, 9), 900, "1234")


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04broken"])
def test_a_file_that_is_not_a_workbook_is_refused_clearly(data: bytes) -> None:
    """Garbage is bad input, not a crash."""
    with pytest.raises(ValidationFailed) as caught:
        read_xlsx(data)
    assert caught.value.field == "file"


def test_a_workbook_without_the_required_columns_is_refused_as_a_whole() -> None:
    """Same header rule as CSV."""
    with pytest.raises(ValidationFailed) as caught:
        read_xlsx(workbook_bytes(["User", "Comment"], ["ann@example.com", "x"]))
    assert caught.value.field == "header"


def test_the_media_type_is_the_xlsx_one() -> None:
    """For the export response and the import content type."""
    assert XLSX_MEDIA_TYPE == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_workbook_with_a_damaged_sheet_is_refused_clearly() -> None:
    """A sheet's XML is read lazily; breaking it is still a ValidationFailed, not a crash."""
    good = zipfile.ZipFile(io.BytesIO(write_xlsx([])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as damaged:
        for name in good.namelist():
            broken = name == "xl/worksheets/sheet1.xml"
            damaged.writestr(name, b"<sheetData" if broken else good.read(name))
    with pytest.raises(ValidationFailed):
        read_xlsx(out.getvalue())


def test_an_export_with_no_worklogs_is_a_header_only_workbook() -> None:
    """Reading it back gives no rows."""
    assert read_xlsx(write_xlsx([])) == []
