"""Worklog import and export through the API: CSV and .xlsx, all or nothing, no formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from core.clock import FixedClock
from plugins.spreadsheets import XLSX_MEDIA_TYPE
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org
from tests.support.api import api_client

HEADER = "User,Timestamp,Duration (hours),Billable duration,Activity type,Comment,Work item\r\n"
FORMULA = '=HYPERLINK("x")'


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield make_org(client)


def _worklogs(org: Org) -> list[dict[str, object]]:
    return list(org.client.get("/api/v1/worklogs", headers=org.admin).json()["items"])


def _seed(org: Org) -> None:
    # Work items are ids of the mirror now ("-7" was a formula-looking name; it can be no id).
    org.work_items(42, 7)
    for body in [
        {"started_at": "2026-01-05T09:00:00+01:00", "length_s": 5400, "billable_length_s": 1800,
         "work_item": "42", "comment": FORMULA, "activity_type": "Development"},
        {"started_at": "2026-01-06T23:30:00Z", "length_s": 1, "comment": "line one\nline two, \"quoted\" ü"},
        {"started_at": "2026-01-07T08:00:00Z", "length_s": 86400, "comment": "'apostrophe",
         "work_item": "7"},
    ]:
        assert org.client.post("/api/v1/worklogs", json=body, headers=org.admin).status_code == 201


def _fields(worklogs: list[dict[str, object]]) -> list[tuple[object, ...]]:
    keys = ("user_id", "started_at", "length_s", "billable_length_s", "work_item", "comment", "activity_type")
    return sorted(tuple(w[k] for k in keys) for w in worklogs)  # type: ignore[misc]


def _delete_all(org: Org) -> None:
    for worklog in _worklogs(org):
        assert org.client.delete(f"/api/v1/worklogs/{worklog['id']}", headers=org.admin).status_code == 204


@pytest.mark.parametrize(("fmt", "media_type"), [("csv", "text/csv"), ("xlsx", XLSX_MEDIA_TYPE)])
def test_export_then_import_gives_back_every_field(org: Org, fmt: str, media_type: str) -> None:
    """Export, delete everything, import the file: the same worklogs, field for field."""
    _seed(org)
    before = _fields(_worklogs(org))
    exported = org.client.get(f"/api/v1/worklogs/export?format={fmt}", headers=org.admin)
    assert exported.status_code == 200, exported.text
    _delete_all(org)

    imported = org.client.post("/api/v1/worklogs/import", content=exported.content,
                               headers={**org.admin, "Content-Type": media_type})

    assert imported.status_code == 201, imported.text
    assert imported.json() == {"imported": 3}
    after = _worklogs(org)
    assert _fields(after) == before
    assert {tuple(w["flags"]) for w in after} <= {("imported",), ("billable", "imported")}


def test_an_exported_formula_comment_cannot_run_in_either_format(org: Org) -> None:
    """=HYPERLINK("x") is written as text with a leading apostrophe, in CSV and as an xlsx string cell."""
    _seed(org)
    text = org.client.get("/api/v1/worklogs/export?format=csv", headers=org.admin).content.decode("utf-8-sig")
    comments = [row["Comment"] for row in csv.DictReader(io.StringIO(text))]
    assert "'" + FORMULA in comments
    assert not any(c.startswith(("=", "+", "-", "@")) for c in comments)

    data = org.client.get("/api/v1/worklogs/export?format=xlsx", headers=org.admin).content
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    cells = [row[5] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in cells)
    assert "'" + FORMULA in [cell.value for cell in cells]


def test_an_import_with_3_bad_rows_of_1000_stores_nothing_and_names_the_3_lines(org: Org) -> None:
    """All or nothing: 422 lists lines 11, 501 and 1001 with reasons; no worklog is stored."""
    lines = [f"admin@acme.test,2026-01-05T09:00:00Z,0.5,,,row {n},7\r\n" for n in range(1000)]
    lines[9] = "nobody@acme.test,2026-01-05T09:00:00Z,0.5,,,,\r\n"
    lines[499] = "admin@acme.test,yesterday,0.5,,,,\r\n"
    lines[999] = "admin@acme.test,2026-01-05T09:00:00Z,-1,,,,\r\n"

    response = org.client.post("/api/v1/worklogs/import", content=(HEADER + "".join(lines)).encode(),
                               headers={**org.admin, "Content-Type": "text/csv"})

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert [e["line"] for e in errors] == [11, 501, 1001]
    assert "unknown user" in errors[0]["reason"]
    assert _worklogs(org) == []


def test_a_file_can_be_sent_as_the_multipart_field_file(org: Org) -> None:
    """multipart/form-data with field 'file' works like a raw body."""
    body = HEADER + "admin@acme.test,2026-01-05T09:00:00Z,1.5,,,,\r\n"
    response = org.client.post("/api/v1/worklogs/import", headers=org.admin,
                               files={"file": ("w.csv", body.encode(), "text/csv")})
    assert response.status_code == 201, response.text
    assert [w["length_s"] for w in _worklogs(org)] == [5400]


@pytest.mark.parametrize(
    ("content", "media_type"),
    [(b"", "text/csv"), (b"name,age\r\nx,1\r\n", "text/csv"), (b"PK\x03\x04broken", XLSX_MEDIA_TYPE),
     (b"\xff\xfe\x00bad", "text/csv")],
    ids=["empty", "wrong columns", "broken xlsx", "not utf-8"],
)
def test_an_unreadable_file_is_refused_with_422_and_line_1(org: Org, content: bytes, media_type: str) -> None:
    """Bad files get the same {errors: [{line, reason}]} answer, never a 500."""
    response = org.client.post("/api/v1/worklogs/import", content=content,
                               headers={**org.admin, "Content-Type": media_type})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["line"] == 1


def test_a_team_user_cannot_import_rows_for_someone_else(org: Org) -> None:
    """Another user's e-mail is unknown to a Team user's import: the row is reported."""
    ann, _ = org.add_user("ann")
    body = HEADER + "admin@acme.test,2026-01-05T09:00:00Z,1,,,,\r\n"
    response = org.client.post("/api/v1/worklogs/import", content=body.encode(),
                               headers={**ann, "Content-Type": "text/csv"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"line": 2, "reason": "unknown user 'admin@acme.test'"}]


def test_an_import_with_rows_dated_outside_1970_to_2999_is_refused_by_line(org: Org) -> None:
    """Years 0 and 10000 in UTC were 500s; they are now row errors with the range, and nothing is stored."""
    rows = [
        "admin@acme.test,0001-01-01T00:00:00+14:00,1,,,,\r\n",
        "admin@acme.test,2026-01-05T09:00:00Z,1,,,,\r\n",
        "admin@acme.test,9999-12-31T23:00:00-05:00,1,,,,\r\n",
    ]
    response = org.client.post("/api/v1/worklogs/import", content=(HEADER + "".join(rows)).encode(),
                               headers={**org.admin, "Content-Type": "text/csv"})
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [e["line"] for e in errors] == [2, 4]
    assert all("dates must lie between 1970-01-01 and 2999-12-31" in e["reason"] for e in errors)
    assert _worklogs(org) == []


def test_the_csv_export_names_its_charset_once(org: Org) -> None:
    """Content-Type is exactly text/csv; charset=utf-8 (it said charset=utf-8 twice)."""
    exported = org.client.get("/api/v1/worklogs/export?format=csv", headers=org.admin)
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"


RISKY = ["\uff1dHYPERLINK(\"x\")", "|calc", ";=1+2", " =1+2", "\n=1+2", "\u3000@SUM(A1)", "\uff0b1"]


@pytest.mark.parametrize(("fmt", "media_type"), [("csv", "text/csv"), ("xlsx", XLSX_MEDIA_TYPE)])
def test_full_width_piped_and_indented_formulas_are_inert_in_exports_and_round_trip(
    org: Org, fmt: str, media_type: str
) -> None:
    """Comments starting with a full-width ＝ or ＋, |, ;, a line feed, or whitespace before a
    trigger are written with a leading apostrophe in both formats, and import gives them back."""
    for n, comment in enumerate(RISKY):
        body = {"started_at": f"2026-01-05T{9 + n:02d}:00:00Z", "length_s": 60, "comment": comment}
        assert org.client.post("/api/v1/worklogs", json=body, headers=org.admin).status_code == 201
    before = _fields(_worklogs(org))
    exported = org.client.get(f"/api/v1/worklogs/export?format={fmt}", headers=org.admin)
    if fmt == "csv":
        text = exported.content.decode("utf-8-sig")
        comments = [row["Comment"] for row in csv.DictReader(io.StringIO(text))]
    else:
        sheet = load_workbook(io.BytesIO(exported.content)).worksheets[0]
        comments = [row[5].value for row in sheet.iter_rows(min_row=2)]
    assert sorted(comments) == sorted("'" + c for c in RISKY)
    _delete_all(org)
    imported = org.client.post("/api/v1/worklogs/import", content=exported.content,
                               headers={**org.admin, "Content-Type": media_type})
    assert imported.status_code == 201, imported.text
    assert _fields(_worklogs(org)) == before
