"""The export row format, formula neutralisation and the CSV codec."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationFailed
from core.tracking import (
    COLUMNS,
    export_rows,
    format_hours,
    neutralise_formula,
    read_csv,
    restore_text,
    write_csv,
)
from tests.unit.tracking.factories import USERS, a_worklog, utc


def test_the_columns_are_exactly_those_of_the_spec() -> None:
    """User, Timestamp, Duration (hours), Billable duration, Activity type, Comment, Work item."""
    assert COLUMNS == (
        "User", "Timestamp", "Duration (hours)", "Billable duration", "Activity type", "Comment",
        "Work item",
    )


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1+2", "'+1+2"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'quoted", "''quoted"),
        ("-1.5", "-1.5"),
        ("+3", "+3"),
        ("-", "'-"),
        ("review", "review"),
        ("x=1", "x=1"),
        ("a;b", "a;b"),
        ("\u2212 1", "\u2212 1"),  # the minus sign is not hyphen-minus, in any form
        ("", ""),
        (" ", " "),
        # Found by the adversarial run (#15): all were written as they came.
        ("\nx", "'\nx"),
        ("\uff1d1+1", "'\uff1d1+1"),  # full-width = (Excel reads it as =)
        ("\uff0b1", "'\uff0b1"),
        ("\uff0d1", "'\uff0d1"),
        ("\uff20SUM(A1)", "'\uff20SUM(A1)"),
        ("\ufe66x", "'\ufe66x"),  # small equals sign, = in compatibility form too
        ("|calc", "'|calc"),
        (";=1+2", "';=1+2"),
        (" =1", "' =1"),
        ("  @SUM(A1)", "'  @SUM(A1)"),
        ("\u3000=1", "'\u3000=1"),  # ideographic space
        ("\u00a0+1", "'\u00a0+1"),  # no-break space
        (" -1.5", "' -1.5"),
    ],
)
def test_text_that_could_start_a_formula_gets_a_leading_apostrophe(cell: str, written: str) -> None:
    """OWASP's triggers (= + - @ tab CR LF), their full-width forms, | and ;, any of them after
    leading whitespace, and a leading apostrophe are escaped; plain numbers are left alone."""
    assert neutralise_formula(cell) == written


@given(st.text())
def test_restoring_neutralised_text_gives_back_the_original(text: str) -> None:
    """The escape is reversible, so imports see exactly what was exported."""
    assert restore_text(neutralise_formula(text)) == text


@pytest.mark.parametrize(
    ("seconds", "hours"),
    [(3600, "1"), (5400, "1.5"), (1, "0.000278"), (86400, "24"), (0, "0"), (36000, "10"),
     (4321, "1.200278")],
)
def test_durations_are_written_as_decimal_hours_with_at_most_six_places(seconds: int, hours: str) -> None:
    """Never exponent notation, no trailing zeros."""
    assert format_hours(seconds) == hours


def test_an_export_row_holds_every_field_in_the_exporters_zone() -> None:
    """Timestamp is ISO 8601 with the offset of the zone asked for."""
    worklog = a_worklog(user_id="u-ann", started_at=utc(2026, 7, 1, 7, 30), length_s=5400,
                        billable_length_s=3600, work_item="42", comment="review",
                        activity_type="Development")
    [row] = export_rows([worklog], USERS, "Europe/Berlin")
    assert row == {
        "User": "ann@example.com",
        "Timestamp": "2026-07-01T09:30:00+02:00",
        "Duration (hours)": "1.5",
        "Billable duration": "1",
        "Activity type": "Development",
        "Comment": "review",
        "Work item": "42",
    }


def test_an_export_of_a_formula_comment_cannot_run_it() -> None:
    """A comment =HYPERLINK("x") is written to CSV as text starting with an apostrophe."""
    worklog = a_worklog(user_id="u-eq", comment='=HYPERLINK("x")')
    text = write_csv(export_rows([worklog], USERS, "UTC"))
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert records[0] == list(COLUMNS)
    assert records[1][5] == '\'=HYPERLINK("x")'
    assert records[1][0] == "'=eq@example.com"
    for record in records:
        for cell in record:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_missing_text_is_exported_as_empty_cells() -> None:
    """No work item, comment or activity type: empty cells."""
    [row] = export_rows([a_worklog(user_id="u-ann", work_item=None, comment=None,
                                   activity_type=None)], USERS, "UTC")
    assert (row["Work item"], row["Comment"], row["Activity type"]) == ("", "", "")


def test_exporting_a_worklog_of_an_unknown_user_is_a_programming_error() -> None:
    """The caller must pass every owner's e-mail."""
    with pytest.raises(ValueError):
        export_rows([a_worklog(user_id="nobody")], USERS, "UTC")


def test_reading_csv_numbers_lines_like_a_spreadsheet() -> None:
    """Header is line 1; a quoted line break stays in one line; blank rows are skipped."""
    text = (
        "\ufeffuser,TIMESTAMP,Duration (hours),Extra\r\n"
        'a@x,2026-01-01T09:00:00+00:00,1,"two\nlines"\r\n'
        ",,,\r\n"
        "b@x,2026-01-02T09:00:00+00:00,2,\r\n"
    )
    rows = read_csv(text)
    assert [line for line, _ in rows] == [2, 4]
    assert rows[0][1] == {"User": "a@x", "Timestamp": "2026-01-01T09:00:00+00:00",
                          "Duration (hours)": "1"}


@pytest.mark.parametrize(
    "text", ["", "User,Timestamp\r\n", "User,Timestamp,Duration (hours),user\r\n"],
)
def test_a_file_without_the_required_columns_is_refused_as_a_whole(text: str) -> None:
    """A bad header is one error on line 1, not one per row."""
    with pytest.raises(ValidationFailed) as caught:
        read_csv(text)
    assert caught.value.field == "header"
    assert caught.value.extra["line"] == 1


def test_short_csv_records_leave_the_missing_cells_empty() -> None:
    """A row with fewer cells than the header reads the rest as empty."""
    rows = read_csv("User,Timestamp,Duration (hours),Comment\r\na@x,2026-01-01T09:00Z\r\n")
    assert rows == [(2, {"User": "a@x", "Timestamp": "2026-01-01T09:00Z",
                         "Duration (hours)": None, "Comment": None})]
