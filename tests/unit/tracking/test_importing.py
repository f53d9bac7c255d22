"""Import: every bad row reported with its line and reason; exact round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core.errors import ValidationFailed
from core.tracking import (
    COLUMNS,
    Worklog,
    WorklogFlag,
    create_worklog,
    export_rows,
    parse_rows,
    read_csv,
    write_csv,
)
from tests.unit.tracking.factories import EMAILS, USERS, a_worklog, utc
from tests.unit.tracking.strategies import exported_fields, worklogs

IMPORTER = "u-admin"
GOOD = {
    "User": "ann@example.com",
    "Timestamp": "2026-01-14T09:00:00+01:00",
    "Duration (hours)": "1.5",
    "Billable duration": "0.5",
    "Activity type": "Development",
    "Comment": "review",
    "Work item": "42",
}


def parse(*rows: dict[str, object], **options: object) -> object:
    numbered = [(line, row) for line, row in enumerate(rows, start=2)]
    return parse_rows(numbered, EMAILS, added_by=IMPORTER, **options)  # type: ignore[arg-type]


def test_a_good_row_becomes_an_imported_worklog_draft() -> None:
    """Every column lands in its field; the importer is recorded as the one who added it."""
    result = parse_rows([(2, GOOD)], EMAILS, added_by=IMPORTER)
    assert result.ok and result.errors == ()
    [draft] = result.drafts
    assert draft.user_id == "u-ann"
    assert draft.started_at == utc(2026, 1, 14, 8)
    assert (draft.length_s, draft.billable_length_s) == (5400, 1800)
    assert (draft.activity_type, draft.comment, draft.work_item) == ("Development", "review", "42")
    assert draft.added_by == IMPORTER
    assert draft.flags == {WorklogFlag.IMPORTED, WorklogFlag.BILLABLE}


def test_rows_may_be_lists_in_column_order() -> None:
    """A list row is read in the order of COLUMNS."""
    result = parse_rows([(2, [GOOD[name] for name in COLUMNS])], EMAILS, added_by=IMPORTER)
    assert result.ok and result.drafts[0].work_item == "42"


def test_three_bad_rows_among_a_thousand_are_reported_by_exactly_their_lines() -> None:
    """All or nothing needs every bad line: here lines 2, 500 and 1001 (header is line 1)."""
    rows = [dict(GOOD) for _ in range(1000)]
    rows[0]["User"] = "ghost@example.com"
    rows[498]["Timestamp"] = "yesterday"
    rows[999]["Duration (hours)"] = "-1"
    result = parse_rows(list(enumerate(rows, start=2)), EMAILS, added_by=IMPORTER)
    assert [error.line for error in result.errors] == [2, 500, 1001]
    assert "unknown user 'ghost@example.com'" in result.errors[0].reason
    assert "bad timestamp 'yesterday'" in result.errors[1].reason
    assert "negative duration '-1'" in result.errors[2].reason
    assert len(result.drafts) == 997 and not result.ok


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("User", "ghost@example.com", "unknown user"),
        ("User", "", "the user is missing"),
        ("Timestamp", "2026-13-01T00:00", "bad timestamp"),
        ("Timestamp", None, "the timestamp is missing"),
        ("Duration (hours)", "-0.5", "negative duration"),
        ("Duration (hours)", "0", "the duration must be more than 0"),
        ("Duration (hours)", "", "the duration is missing"),
        ("Duration (hours)", "1,5", "not a number of hours"),
        ("Duration (hours)", "NaN", "not a number of hours"),
        ("Duration (hours)", "25", "longer than 24 hours"),
        ("Billable duration", "2", "the billable duration is longer than the duration"),
        ("Billable duration", "-1", "negative billable duration"),
        ("Comment", "x" * 2001, "longer than 2000"),
        ("Work item", "a\x00b", "control characters"),
    ],
)
def test_each_kind_of_bad_row_is_reported_with_a_clear_reason(
    column: str, value: object, reason: str
) -> None:
    """The reason says what is wrong in words a user understands."""
    result = parse({**GOOD, column: value})
    assert result.errors[0].line == 2  # type: ignore[attr-defined]
    assert reason in result.errors[0].reason  # type: ignore[attr-defined]


def test_every_problem_of_one_row_is_reported_together() -> None:
    """A row with three problems gets one error naming all three."""
    result = parse_rows(
        [(7, {**GOOD, "User": "nobody", "Timestamp": "soon", "Duration (hours)": "x"})],
        EMAILS, added_by=IMPORTER,
    )
    [error] = result.errors
    assert error.line == 7
    assert error.reason.count(";") == 2


def test_a_timestamp_without_offset_is_read_in_the_importers_zone() -> None:
    """Naive times are local to whoever imports."""
    result = parse_rows([(2, {**GOOD, "Timestamp": "2026-07-01 09:00"})], EMAILS,
                        added_by=IMPORTER, time_zone="Europe/Berlin")
    assert result.drafts[0].started_at == utc(2026, 7, 1, 7)


def test_spreadsheet_values_are_accepted_as_well_as_text() -> None:
    """Numbers and datetimes from Excel cells read like their text."""
    row = {**GOOD, "Timestamp": datetime(2026, 1, 14, 9, tzinfo=UTC), "Duration (hours)": 1.5,
           "Billable duration": 0, "Work item": 1234.0}
    [draft] = parse_rows([(2, row)], EMAILS, added_by=IMPORTER).drafts
    assert (draft.length_s, draft.billable_length_s, draft.work_item) == (5400, 0, "1234")


def test_user_emails_match_whatever_their_case() -> None:
    """E-mail addresses are compared case-insensitively."""
    result = parse({**GOOD, "User": "  bob.smith@example.ORG "})
    assert result.drafts[0].user_id == "u-bob"  # type: ignore[attr-defined]


def test_activity_types_can_be_limited_to_the_tenants_list() -> None:
    """Unknown activity types are bad rows when a list is given."""
    result = parse({**GOOD, "Activity type": "Napping"}, activity_types=["Development"])
    assert "unknown activity type 'Napping'" in result.errors[0].reason  # type: ignore[attr-defined]
    assert parse(GOOD, activity_types=["development"]).ok  # type: ignore[attr-defined]


def test_a_row_in_a_locked_week_is_a_bad_row() -> None:
    """Imports cannot add worklogs to locked weeks either."""
    def locked(user_id: str, started_at: datetime) -> bool:
        return started_at < utc(2026, 1, 19)

    result = parse(GOOD, {**GOOD, "Timestamp": "2026-01-20T09:00:00+00:00"}, week_locked=locked)
    assert [error.line for error in result.errors] == [2]  # type: ignore[attr-defined]
    assert "locked week" in result.errors[0].reason  # type: ignore[attr-defined]


def test_an_unknown_time_zone_is_the_callers_error_not_every_rows() -> None:
    """One ValidationFailed rather than a thousand row errors."""
    with pytest.raises(ValidationFailed):
        parse_rows([(2, GOOD)], EMAILS, added_by=IMPORTER, time_zone="Nowhere/Land")


def _reimported(worklogs: list[Worklog], time_zone: str) -> list[tuple[object, ...]]:
    text = write_csv(export_rows(worklogs, USERS, time_zone))
    result = parse_rows(read_csv(text), EMAILS, added_by=IMPORTER)
    assert result.errors == ()
    return [exported_fields(create_worklog(draft, "w")) for draft in result.drafts]


def test_a_csv_export_imports_back_to_the_same_fields() -> None:
    """Every exported field survives, including formula-like text and odd durations."""
    originals = [
        a_worklog(user_id="u-ann", length_s=4321, billable_length_s=1, comment='=HYPERLINK("x")',
                  work_item="-1", activity_type="'quoted"),
        a_worklog(user_id="u-eq", started_at=datetime(2026, 3, 29, 1, 59, 59, 123456,
                                                      tzinfo=ZoneInfo("Europe/Berlin")),
                  length_s=86400, billable_length_s=86400, comment="line one\nline two\ttab",
                  work_item=None, activity_type=None),
        a_worklog(user_id="u-bob", started_at=utc(2026, 1, 1) - timedelta(seconds=1), length_s=1,
                  comment="@here +1 -1", work_item="+42"),
    ]
    assert _reimported(originals, "America/St_Johns") == [exported_fields(w) for w in originals]


@given(st.lists(worklogs(), max_size=5),
       st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kathmandu", "America/St_Johns"]))
def test_csv_export_then_import_round_trips_every_field(
    originals: list[Worklog], time_zone: str
) -> None:
    """For any valid worklogs, export → CSV → import gives back user, times, lengths and text."""
    assert _reimported(originals, time_zone) == [exported_fields(w) for w in originals]


def test_rows_dated_outside_1970_to_2999_are_row_errors_not_crashes() -> None:
    """Year 0 or 10000 in UTC (text or a spreadsheet's date cell) and a worklog that ends after
    2999 are reported by line."""
    result = parse(
        {**GOOD, "Timestamp": "0001-01-01T00:00:00+14:00"},
        {**GOOD, "Timestamp": "9999-12-31T23:00:00-05:00"},
        {**GOOD, "Timestamp": "2999-12-31T23:00:00+00:00", "Duration (hours)": "2"},
        {**GOOD, "Timestamp": datetime(9999, 12, 31, 23)},  # an Excel date cell, read in New York
        GOOD,
        time_zone="America/New_York",
    )
    assert [error.line for error in result.errors] == [2, 3, 4, 5]  # type: ignore[attr-defined]
    assert all(
        "dates must lie between 1970-01-01 and 2999-12-31" in error.reason
        for error in result.errors  # type: ignore[attr-defined]
    )


@example(whole=0, fraction="00125", padded=False)  # 4.5 s: half to even, 4
@example(whole=0, fraction="00375", padded=True)  # 13.5 s: 14
@given(
    whole=st.integers(0, 999_999_999),
    fraction=st.one_of(st.none(), st.text("0123456789", min_size=1, max_size=9)),
    padded=st.booleans(),
)
def test_plain_hours_become_the_seconds_decimal_arithmetic_gives(
    whole: int, fraction: str | None, padded: bool
) -> None:
    """Digits with an optional fraction take a shortcut; it rounds half to even exactly as
    Decimal does, and refuses what is longer than 24 hours the same way."""
    text = str(whole) if fraction is None else f"{whole}.{fraction}"
    expected = int((Decimal(text) * 3600).to_integral_value(rounding=ROUND_HALF_EVEN))

    result = parse({**GOOD, "Duration (hours)": f" {text} " if padded else text, "Billable duration": ""})

    if expected == 0:
        assert result.errors[0].reason == "the duration must be more than 0"  # type: ignore[attr-defined]
    elif expected > 86_400:
        assert "is longer than 24 hours" in result.errors[0].reason  # type: ignore[attr-defined]
    else:
        assert result.drafts[0].length_s == expected  # type: ignore[attr-defined]
