"""The iteration burndown (issue #19, Done when 3) on both engines: a standalone iteration of
ten days with scripted daily changes (controlled clock) draws the expected remaining line —
the history written by the mirror's own writes (the standalone edits, the standalone
write-back and, below, the Azure DevOps sync), never inserted by the test — and a re-sync
on the same day keeps one history row per item."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from core.services.signup import signup as signup_tenant
from core.services.work_item_sync import sync_work_items
from core.work_items.ports import SyncState
from plugins.devops.azure_work_items import AzureDevOpsWorkItems
from plugins.devops.standalone import StandaloneConnector
from plugins.identity.passwords import Argon2Hasher
from plugins.storage.migrations import upgrade
from plugins.storage.uow import PiccoloUnitOfWorkFactory
from plugins.storage.work_items_tables import WorkItemHistoryRow, WorkItemRow
from tests.conftest import make_settings
from tests.integration import test_storage
from tests.integration.azure_devops_server import PAT, FakeAzureDevOps, FakeIteration, serve
from tests.support.api import PASSWORD, api_client, bearer, page_sign_in, run, signup, stint, token
from web.pages.charts import line_chart

START = date(2026, 1, 5)
REMAINING = "Microsoft.VSTS.Scheduling.RemainingWork"


class Site:
    def __init__(self, client: TestClient[Any], clock: FixedClock) -> None:
        self.client, self.clock = client, clock
        self.tenant_id = ""
        self.admin = bearer(token(client, "shop", "admin@shop.test"))

    def on(self, day: int, hour: int = 9) -> None:
        self.clock.set(datetime(START.year, START.month, START.day, hour, tzinfo=UTC) + timedelta(days=day))
        self.admin = bearer(token(self.client, "shop", "admin@shop.test"))  # a token lasts a day at most

    def api(self, method: str, path: str, body: Any = None) -> Any:
        response = self.client.request(method, path, json=body, headers=self.admin)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def remaining(self, item: int, hours: float) -> None:
        self.api("PATCH", f"/api/v1/work-items/{item}", {"remaining_h": hours})

    def sign_in(self) -> None:
        page_sign_in(self.client, "shop", "admin@shop.test")


@pytest.fixture
def site(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Site]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        signup(client, "shop")
        site = Site(client, clock)

        async def tenant_id() -> str:
            async with stint(client).uow() as work:
                tenant = await work.directory.tenant_by_slug("shop")
            return str(tenant.id)

        site.tenant_id = run(client, tenant_id)
        yield site


def _points(svg: str, css_class: str) -> str:
    found = re.search(rf'<polyline class="{css_class}" points="([^"]+)"', svg)
    assert found, svg
    return found.group(1)


def test_a_ten_day_standalone_iteration_draws_the_expected_remaining_line(site: Site) -> None:
    site.on(0)
    finish = START + timedelta(days=9)
    sprint = site.api("POST", "/api/v1/iterations", {
        "path": "Shop\\Sprint 1", "start": START.isoformat(), "finish": finish.isoformat()})
    a = site.api("POST", "/api/v1/work-items", {"title": "A", "type": "Task", "iteration_id": sprint["id"],
                                                "remaining_h": 20})["id"]
    b = site.api("POST", "/api/v1/work-items", {"title": "B", "type": "Task", "iteration_id": sprint["id"],
                                                "remaining_h": 16})["id"]
    c = site.api("POST", "/api/v1/work-items", {"title": "C", "type": "Task", "remaining_h": 8})["id"]
    write_back = StandaloneConnector(site.tenant_id, site.clock)
    site.on(1)
    site.remaining(a, 18)
    site.on(2)
    site.remaining(a, 15)
    site.on(2, hour=17)
    site.remaining(a, 14)  # the day's last value wins
    site.on(3)
    # Time tracked on B: the write-back job's write (Completed 4 h, Remaining 12 h).
    state = run(site.client, write_back.work_item, str(b))
    run(site.client, write_back.update_work_item, str(b), rev=state.rev, completed_work=Decimal(4),
        remaining_work=Decimal(12))
    site.on(4)
    site.api("PATCH", f"/api/v1/work-items/{c}", {"iteration_id": sprint["id"]})  # scope added: +8 h
    site.on(6)
    site.remaining(a, 10)
    site.on(7)
    site.remaining(b, 6)
    site.on(8)
    site.remaining(c, 2)
    site.on(9)
    site.remaining(a, 0)
    site.remaining(b, 0)

    # By hand: A+B(+C from day 4), the ideal 36 h → 0 in 9 steps of 4 h.
    remaining = [36, 34, 30, 26, 34, 34, 30, 24, 18, 2]
    completed = [0, 0, 0, 4, 4, 4, 4, 4, 4, 4]
    ideal = [36 - 4 * n for n in range(10)]
    answer = site.api("GET", f"/api/v1/iterations/{sprint['id']}/burndown")
    assert [d["day"] for d in answer["days"]] == [(START + timedelta(days=n)).isoformat() for n in range(10)]
    assert [d["remaining_h"] for d in answer["days"]] == remaining
    assert [d["completed_h"] for d in answer["days"]] == completed
    assert [d["ideal_h"] for d in answer["days"]] == ideal

    site.sign_in()
    fragment = site.client.get(f"/reports/burndown?iteration={sprint['id']}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200, fragment.text
    assert fragment.text.lstrip().startswith("<section") and "<html" not in fragment.text
    days = [START + timedelta(days=n) for n in range(10)]
    drawn = line_chart(days, [h * 100 for h in remaining], axis_end=days[-1], ideal_from=3600,
                       label=str, second=[h * 100 for h in completed])
    assert _points(fragment.text, "actual") == drawn.points
    assert _points(fragment.text, "completed") == drawn.second
    assert _points(fragment.text, "ideal") == drawn.ideal
    assert "<title" in fragment.text and "<desc" in fragment.text
    table = re.findall(r"<tr><td>([-0-9]+)</td><td class=\"num\">([.0-9]*)</td><td class=\"num\">([.0-9]*)"
                       r"</td><td class=\"num\">([.0-9]*)</td></tr>", fragment.text)
    expected = [(d.isoformat(), f"{r}.00", f"{c}.00", f"{i}.00")
                for d, r, c, i in zip(days, remaining, completed, ideal, strict=True)]
    assert table == expected

    download = site.client.get(f"/reports/burndown?iteration={sprint['id']}&format=csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["day", "remaining_h", "completed_h", "ideal_h"]
    assert [tuple(r) for r in rows[1:]] == expected

    whole = site.client.get(f"/reports/burndown?iteration={sprint['id']}")
    assert whole.status_code == 200 and "<html" in whole.text and 'id="report-burndown"' in whole.text


def test_an_iteration_without_dates_or_of_another_tenant_is_refused(site: Site) -> None:
    undated = site.api("POST", "/api/v1/iterations", {"path": "Shop\\Someday"})
    response = site.client.get(f"/api/v1/iterations/{undated['id']}/burndown", headers=site.admin)
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    for missing in ("999", "x", "0"):
        response = site.client.get(f"/api/v1/iterations/{missing}/burndown", headers=site.admin)
        assert response.status_code == 404, response.text


# The Azure DevOps sync ----------------------------------------------------------------


@pytest.fixture
def uow(engine: Any) -> PiccoloUnitOfWorkFactory:
    return PiccoloUnitOfWorkFactory(engine)


@pytest.fixture
def azure() -> Iterator[tuple[FakeAzureDevOps, str]]:
    fake = FakeAzureDevOps()
    server, url = serve(fake)
    yield fake, url
    server.shutdown()
    server.server_close()


async def test_a_re_sync_on_the_same_day_keeps_one_history_row_per_item_with_the_days_last_value(
    uow: PiccoloUnitOfWorkFactory, azure: tuple[FakeAzureDevOps, str],
) -> None:
    fake, url = azure
    clock = FixedClock(datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
    made = await signup_tenant(uow, Argon2Hasher(fast=True), clock, slug="acme", name="acme",
                               deployment="cloud", admin_email="ann@acme.test", admin_password=PASSWORD,
                               admin_name="Ann", trial_days=28)
    tenant_id = made.tenant.id
    fake.iterations = [FakeIteration("Sprint 1", "Fabrikam\\Sprint 1", datetime(2026, 1, 5, tzinfo=UTC),
                                     datetime(2026, 1, 9, tzinfo=UTC))]
    first = fake.add(title="One", iteration_path="Fabrikam\\Sprint 1", remaining=10.0)
    fake.add(title="Two", iteration_path="Fabrikam\\Sprint 1", remaining=5.0)

    async def sync(full: bool = False) -> None:
        if full:  # as a run repeated from an old watermark: every item read again
            async with uow(write=True) as work:
                await work.tenant(tenant_id).work_items().save_sync_state(SyncState())
                await work.commit()
        source = AzureDevOpsWorkItems(url, PAT, project="Fabrikam", page_size=1)
        try:
            assert (await sync_work_items(uow, clock, source, tenant_id=tenant_id)).completed
        finally:
            await source.aclose()

    async def history() -> list[tuple[int, date, int | None]]:
        rows = await WorkItemHistoryRow.select().where(WorkItemHistoryRow.tenant_id == tenant_id)
        return sorted((int(r["item_id"]), r["day"], r["remaining_centihours"]) for r in rows)

    await sync()
    day = date(2026, 1, 5)
    assert await history() == [(1, day, 1000), (2, day, 500)]
    await sync(full=True)
    await sync()
    assert await history() == [(1, day, 1000), (2, day, 500)]

    fake.tick(3600)
    fake.change(first, {REMAINING: 7.5})
    await sync()
    await sync(full=True)
    assert await history() == [(1, day, 750), (2, day, 500)]

    fake.tick(86400)  # the next day: a row of its own
    fake.change(first, {REMAINING: 3.0})
    await sync()
    assert await history() == [(1, day, 750), (1, date(2026, 1, 6), 300), (2, day, 500)]


# The migration's backfill --------------------------------------------------------------

ENGINES = test_storage.ENGINES
empty_engine = test_storage.empty_engine  # the storage tests' fixture: a new, empty database


@ENGINES
async def test_the_upgrade_gives_every_existing_item_a_point_on_the_utc_day_it_last_changed(
    empty_engine: Any,
) -> None:
    await upgrade(empty_engine, target="0031")
    late = datetime(2026, 1, 5, 20, 30, tzinfo=timezone(timedelta(hours=-5)))  # 01:30 UTC on the 6th
    for item_id, changed in ((1, datetime(2026, 1, 5, 9, 0, tzinfo=UTC)), (2, late)):
        await WorkItemRow.raw(
            "INSERT INTO work_item (id, tenant_id, item_id, title, search_title, type, state, "
            "state_category, iteration_id, remaining_centihours, completed_centihours, rev, tags, "
            "changed_at) "
            "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
            f"row{item_id}", "ten1", item_id, "T", "t", "Task", "New", "Proposed", 7, 100 * item_id, 25, 1,
            "", changed,
        )
    await upgrade(empty_engine)
    rows = await WorkItemHistoryRow.select().order_by(WorkItemHistoryRow.item_id)
    assert [(r["item_id"], r["day"], r["iteration_id"], r["remaining_centihours"], r["completed_centihours"])
            for r in rows] == [(1, date(2026, 1, 5), 7, 100, 25), (2, date(2026, 1, 6), 7, 200, 25)]
    await upgrade(empty_engine)  # again: nothing more
    assert await WorkItemHistoryRow.count() == 2
