"""The Times Explorer page through the app without a browser (plain forms, no JavaScript), on
both engines: who opens it, the filters in the address, chosen columns, grouping with
subtotals, paging, the bulk change after a confirmation stating the count, saved views,
export of exactly the view, and an import refused line by line."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from core.tracking.rows import COMMENT, DURATION, TIMESTAMP
from tests.conftest import make_settings
from tests.support.api import add_user, api_client, bearer, page_sign_in, signup, token

ALL = "/api/v1/worklogs/all"


class Site:
    def __init__(self, client: TestClient[Any]) -> None:
        self.client = client
        self.admin = bearer(token(client, "shop", "admin@shop.test"))

    def sign_in(self, email: str) -> None:
        page_sign_in(self.client, "shop", email)

    def form(self, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
        return self.client.post(path, data={**data, "_csrf_token": self.client.cookies["csrftoken"]},
                                **kwargs)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        response = self.client.request(method, path, json=body, headers=self.admin)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def log(self, at: str, length_s: int, comment: str, **more: Any) -> str:
        body = {"started_at": at, "length_s": length_s, "comment": comment, **more}
        return str(self.api("POST", "/api/v1/worklogs", body)["id"])

    def listed(self) -> dict[str, dict[str, Any]]:
        return {w["comment"]: w for w in self.api("GET", ALL)["items"]}


@pytest.fixture
def site(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Site]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        signup(client, "shop")
        admin = token(client, "shop", "admin@shop.test")
        add_user(client, admin, "tia@shop.test", role="team")
        add_user(client, admin, "pat@shop.test", role="product")
        yield Site(client)


def test_a_team_user_finds_the_door_locked_and_a_product_user_no_bulk_budget(site: Site) -> None:
    site.sign_in("tia@shop.test")
    locked = site.client.get("/explorer/")
    assert locked.status_code == 403
    assert "This door is locked" in locked.text
    assert 'href="/explorer/"' not in site.client.get("/time").text
    site.sign_in("pat@shop.test")
    page = site.client.get("/explorer/")
    assert page.status_code == 200, page.text
    assert 'aria-current="page">Times Explorer' in page.text
    assert "Assign to a budget" not in page.text  # assigning budgets is the Budget role's


def test_the_filters_columns_and_grouping_are_the_address_and_the_groups_carry_subtotals(site: Site) -> None:
    site.log("2026-01-05T09:00:00Z", 3600, "monday", billable_length_s=3600)
    site.log("2026-01-06T09:00:00Z", 1800, "tuesday")
    site.log("2026-01-20T09:00:00Z", 600, "later")
    site.sign_in("admin@shop.test")

    page = site.client.get("/explorer/", params=[("from", "2026-01-05"), ("to", "2026-01-11"),
                                                 ("columns", "date"), ("columns", "comment")])
    assert page.status_code == 200, page.text
    rows = re.findall(r'<tr id="worklog-', page.text)
    assert len(rows) == 2
    assert "monday" in page.text and "tuesday" in page.text and "later" not in page.text
    header = page.text.split('<table class="explorer"')[1].split("</thead>")[0]
    assert "Comment" in header and "Amount" not in header

    grouped = site.client.get("/explorer/", params=[("group_by", "day"), ("group_by", "")])
    assert grouped.status_code == 200, grouped.text
    table = grouped.text.split('id="groups"')[1]
    assert "2026-01-05" in table and "2026-01-20" in table
    assert re.search(r"Total</th><td class=\"num\">1:40</td><td class=\"num\">1:00</td>", table)

    item = site.api("POST", "/api/v1/work-items", {"title": "Card form", "type": "Task"})["id"]
    site.log("2026-01-07T09:00:00Z", 900, "on an item", work_item=item)
    by_item = site.client.get("/explorer/", params=[("group_by", "work_item")])
    assert f"#{item} Card form" in by_item.text and "(none)" in by_item.text

    refused = site.client.get("/explorer/", params={"from": "someday"})
    assert refused.status_code == 422
    assert "from" in refused.text


def test_more_pages_through_the_list_fifty_at_a_time(site: Site) -> None:
    for n in range(55):
        site.log(f"2026-01-{1 + n % 28:02d}T{8 + n // 28:02d}:00:00Z", 60, f"log {n}")
    site.sign_in("admin@shop.test")
    first = site.client.get("/explorer/")
    assert len(re.findall(r'<tr id="worklog-', first.text)) == 50
    more = re.search(r'<a id="more" href="([^"]+)"', first.text)
    assert more is not None
    rest = site.client.get(more.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert len(re.findall(r'<tr id="worklog-', rest.text)) == 5
    assert 'id="more"' not in rest.text


def test_a_bulk_change_asks_first_stating_the_count_then_changes_them_all(site: Site) -> None:
    one = site.log("2026-01-05T09:00:00Z", 3600, "one")
    two = site.log("2026-01-06T09:00:00Z", 1800, "two")
    site.log("2026-01-07T09:00:00Z", 600, "three")
    site.sign_in("admin@shop.test")
    site.client.get("/explorer/")

    asked = site.form("/explorer/bulk", {"action": "billable", "ids": [one, two], "back": "billable=false"})
    assert asked.status_code == 200, asked.text
    assert "Set billable (the whole length) 2 worklogs?" in asked.text
    assert site.listed()["one"]["billable_length_s"] == 0

    done = site.form("/explorer/bulk", {"action": "billable", "ids": [one, two], "confirm": "yes",
                                        "back": "billable=false"}, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"].startswith("/explorer/?billable=false&done=")
    listed = site.listed()
    assert [listed[c]["billable_length_s"] for c in ("one", "two", "three")] == [3600, 1800, 0]
    assert "2 worklogs changed." in site.client.get(done.headers["location"]).text

    gone = site.form("/explorer/bulk", {"action": "delete", "ids": [two], "confirm": "yes"},
                     follow_redirects=False)
    assert gone.status_code == 303, gone.text
    assert sorted(site.listed()) == ["one", "three"]
    nothing = site.form("/explorer/bulk", {"action": "billable"})
    assert nothing.status_code == 422


def test_a_saved_view_opens_its_filters_and_is_the_users_own(site: Site) -> None:
    site.sign_in("admin@shop.test")
    site.client.get("/explorer/")
    query = "from=2026-01-01&columns=date&group_by=user"
    saved = site.form("/explorer/views", {"name": "January", "query": query}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    page = site.client.get("/explorer/")
    link = re.search(r'<a href="/explorer/\?([^"]+)" class="saved-view">January</a>', page.text)
    assert link is not None
    assert link.group(1).replace("&amp;", "&") == query
    [view] = site.api("GET", "/api/v1/explorer/views")["items"]
    site.sign_in("pat@shop.test")
    assert "January" not in site.client.get("/explorer/").text
    refused = site.form(f"/explorer/views/{view['id']}/delete", {})
    assert refused.status_code == 404
    site.sign_in("admin@shop.test")
    site.client.get("/explorer/")
    deleted = site.form(f"/explorer/views/{view['id']}/delete", {}, follow_redirects=False)
    assert deleted.status_code == 303
    assert site.api("GET", "/api/v1/explorer/views")["items"] == []


def test_export_takes_exactly_the_views_filters_and_a_bad_import_lists_each_line(site: Site) -> None:
    site.log("2026-01-05T09:00:00Z", 3600, "in range")
    site.log("2026-02-05T09:00:00Z", 3600, "out of range")
    site.sign_in("admin@shop.test")
    page = site.client.get("/explorer/", params={"from": "2026-01-01", "to": "2026-01-31"})
    link = re.search(r'id="export-csv" href="([^"]+)"', page.text)
    assert link is not None
    exported = site.client.get(link.group(1).replace("&amp;", "&"))
    assert exported.status_code == 200, exported.text
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [r[COMMENT] for r in rows] == ["in range"]

    def file(*lines: dict[str, str]) -> bytes:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(lines)
        return out.getvalue().encode()

    bad = file(rows[0], {**rows[0], DURATION: "soon"}, {**rows[0], TIMESTAMP: "yesterday"})
    refused = site.client.post("/explorer/import", files={"file": ("bad.csv", bad, "text/csv")},
                               data={"_csrf_token": site.client.cookies["csrftoken"]})
    assert refused.status_code == 422, refused.text
    assert "Nothing was imported" in refused.text
    assert re.findall(r'<td class="num">(\d+)</td>', refused.text) == ["3", "4"]
    imported = site.client.post("/explorer/import", files={"file": ("good.csv", file(rows[0]), "text/csv")},
                                data={"_csrf_token": site.client.cookies["csrftoken"]},
                                follow_redirects=False)
    assert imported.status_code == 303, imported.text
    assert sorted(site.listed()) == ["in range", "out of range"]
    assert len(site.api("GET", ALL)["items"]) == 3


def _wait_for(site: Site, path: str) -> str:
    """The progress partial once the background import has ended (it runs on the app's loop)."""
    for _ in range(600):
        partial = site.client.get(path, headers={"HX-Request": "true"})
        assert partial.status_code == 200, partial.text
        if 'hx-trigger="every 1s"' not in partial.text:
            return str(partial.text)
        time.sleep(0.05)
    raise AssertionError(f"the import at {path} did not end")


def test_a_big_import_runs_in_the_background_with_its_progress_and_then_its_report(site: Site) -> None:
    """More than 2,000 rows: 202 with a progress bar that polls the job, which ends done with
    every row stored; a big file with bad lines ends failed, naming them, storing nothing."""
    site.sign_in("admin@shop.test")
    site.client.get("/explorer/")
    header = "User,Timestamp,Duration (hours),Billable duration,Activity type,Comment,Work item\r\n"
    lines = [f"admin@shop.test,2025-0{1 + n // 1000}-{1 + n % 28:02d}T{8 + n % 10:02d}:{n % 60:02d}:00Z,"
             f"0.25,0,,row {n},\r\n" for n in range(2001)]
    big = (header + "".join(lines)).encode()
    started = site.client.post("/explorer/import", files={"file": ("big.csv", big, "text/csv")},
                               data={"_csrf_token": site.client.cookies["csrftoken"]})
    assert started.status_code == 202, started.text
    assert "Importing 2001 rows" in started.text
    found = re.search(r'hx-get="(/explorer/import/[^"]+)"', started.text)
    assert found is not None
    report = _wait_for(site, found.group(1))
    assert "2001 worklogs imported." in report
    job_id = found.group(1).rsplit("/", 1)[1]
    status = site.api("GET", f"/api/v1/import-jobs/{job_id}")
    assert {k: status[k] for k in ("state", "done", "total", "imported", "errors")} == {
        "state": "done", "done": 2001, "total": 2001, "imported": 2001, "errors": []}
    pat = bearer(token(site.client, "shop", "pat@shop.test"))
    assert site.client.get(f"/api/v1/import-jobs/{job_id}", headers=pat).status_code == 404

    lines[5] = "admin@shop.test,not a time,0.25,0,,bad,\r\n"
    lines[1999] = "nobody@shop.test,2025-01-01T08:00:00Z,0.25,0,,bad,\r\n"
    bad = (header + "".join(lines)).encode()
    refused = site.client.post("/explorer/import", files={"file": ("bad.csv", bad, "text/csv")},
                               data={"_csrf_token": site.client.cookies["csrftoken"]})
    assert refused.status_code == 202, refused.text
    found = re.search(r'hx-get="(/explorer/import/[^"]+)"', refused.text)
    assert found is not None
    report = _wait_for(site, found.group(1))
    assert "2 bad lines; nothing was imported." in report
    assert re.findall(r'<td class="num">(\d+)</td>', report) == ["7", "2001"]
    [only] = site.api("GET", f"{ALL}?group_by=user")["groups"]
    assert only["tracked_s"] == 2001 * 900  # the first file's rows, none of the second's
    failed = site.api("GET", f"/api/v1/import-jobs/{found.group(1).rsplit('/', 1)[1]}")
    assert (failed["state"], [e["line"] for e in failed["errors"]]) == ("failed", [7, 2001])
