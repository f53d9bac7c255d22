"""The Times Explorer page shapes its items straight from the stored rows (``page_item``, no
``Worklog`` in between): held here equal, field for field and in the same order, to what
the domain path answers for the same worklogs (``Worklog`` → ``worklog_out`` with the work
item titles of ``work_item_titles`` and the budgets of ``resolve_worklogs``), on both
engines, for worklogs with every optional field set and unset, every origin, titles that
exist or not, and budgets none, direct and through the work item."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from core.budgets import NO_BUDGET, Assignment, Resolution
from core.clock import FixedClock
from core.services.explorer import ExplorerFilters, explore_worklogs
from core.tracking import Worklog, WorklogFlag
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org, run, stint_of
from tests.support.api import api_client
from web.api.worklog_answers import page_item, titled, with_budgets, worklog_out

ALL = "/api/v1/worklogs/all"


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _encoded(value: Any) -> Any:
    return json.loads(msgspec.json.encode(value))


def test_a_page_item_is_what_worklog_out_answers_for_every_optional_field_set_and_unset() -> None:
    """Without storage: every combination of the optional fields, each origin with and
    without billable, titles present or not, budgets none, direct, via the item."""
    started = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    budgets = {
        "w-direct": Resolution("b-1", Assignment.DIRECT),
        "w-item": Resolution("b-2", Assignment.PARENT),
    }
    origins = [WorklogFlag.TRACKED, WorklogFlag.MANUAL, WorklogFlag.IMPORTED, WorklogFlag.FROM_API]
    count = 0
    for n, (work_item, comment, activity, origin, billable, changed, edited, budget_id) in enumerate(
        itertools.product(
            [None, "42", "0042", "ABC-1"], [None, "a comment"], [None, ("at-1", "Design")], origins,
            [False, True], [False, True], [False, True], ["w-direct", "w-item", "w-none"],
        )
    ):
        flags = {origin, *([WorklogFlag.BILLABLE] if billable else []),
                 *([WorklogFlag.CHANGED] if changed else [])}
        worklog = Worklog(
            id=budget_id if n % 3 else f"w-{n}", user_id="u-1", started_at=started + timedelta(minutes=n),
            length_s=600, billable_length_s=300 if billable else 0, work_item=work_item, comment=comment,
            activity_type=activity[1] if activity else None, added_by="u-2", flags=frozenset(flags),
            owner_edited=edited, activity_type_id=activity[0] if activity else None,
        )
        titles = {"42": "The answer"}
        for shown_budgets in ({}, budgets):
            title = titles.get(worklog.work_item or "")
            item = page_item(
                worklog.id, worklog.user_id, worklog.started_at, worklog.length_s, worklog.billable_length_s,
                worklog.work_item, worklog.comment, worklog.activity_type, worklog.added_by, worklog.flags,
                worklog.owner_edited, worklog.activity_type_id, title,
            )
            with_budgets([item], shown_budgets)
            expected = worklog_out(worklog, titles, shown_budgets)
            assert msgspec.json.encode(item) == msgspec.json.encode(expected)
            count += 1
    assert count == 4 * 2 * 2 * 4 * 2 * 2 * 2 * 3 * 2
    assert NO_BUDGET.assignment is Assignment.NONE


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield make_org(client)


def _store(org: Org, worklogs: list[Worklog]) -> None:
    """Worklogs written through the repository, as every path stores them (including work
    item texts no request could send: a number with leading zeros, a name, an unknown item)."""
    stint = stint_of(org.client)

    async def put() -> None:
        async with stint.uow(write=True) as work:
            tenant = await work.directory.tenant_by_slug(org.slug)
            await work.tenant(tenant.id).tracking().add_worklogs(worklogs, stint.clock.now())
            await work.commit()

    run(org.client, put)


def _domain_items(org: Org) -> list[dict[str, Any]]:
    """The same worklogs through the domain path: Worklogs, then worklog_out with titles and budgets."""
    stint = stint_of(org.client)

    async def read() -> Any:
        async with stint.uow() as work:
            tenant = await work.directory.tenant_by_slug(org.slug)
        worklogs = await explore_worklogs(stint.uow, tenant=tenant, filters=ExplorerFilters())
        return await titled(stint, tenant, worklogs)

    return list(_encoded(run(org.client, read)))


def test_the_pages_items_equal_the_domain_paths_on_both_engines(org: Org) -> None:
    org.work_items(42, 43)
    activity = _ok(org.client.post("/api/v1/activity-types", json={"name": "Drafting"}, headers=org.admin),
                   201)
    started = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    origins = [WorklogFlag.TRACKED, WorklogFlag.MANUAL, WorklogFlag.IMPORTED, WorklogFlag.FROM_API]
    worklogs = []
    for n, (work_item, comment, with_activity, origin, billable, edited) in enumerate(itertools.product(
        [None, "42", "43", "0042", "ABC-1", "999"], [None, "a comment"], [False, True], origins,
        [False, True], [False, True],
    )):
        flags = {origin, *([WorklogFlag.BILLABLE] if billable else []),
                 *([WorklogFlag.CHANGED] if n % 5 else [])}
        worklogs.append(Worklog(
            id=f"w{n:04d}", user_id=org.admin_id, started_at=started + timedelta(minutes=n), length_s=600,
            billable_length_s=300 if billable else 0, work_item=work_item, comment=comment,
            activity_type="Drafting" if with_activity else None, added_by=org.admin_id,
            flags=frozenset(flags), owner_edited=edited,
            activity_type_id=activity["id"] if with_activity else None,
        ))
    _store(org, worklogs)

    def compare() -> list[dict[str, Any]]:
        page = _ok(org.client.get(ALL, params={"limit": 500}, headers=org.admin))
        assert page["next_cursor"] is None
        expected = _domain_items(org)
        assert len(page["items"]) == len(worklogs) == len(expected)
        for got, want in zip(page["items"], expected, strict=True):
            assert list(got.items()) == list(want.items())  # the same fields, values and order
        return list(page["items"])

    unassigned = compare()
    assert {item["budget"]["assignment"] for item in unassigned} == {"NoBudget"}
    assert {item["work_item_title"] for item in unassigned} == {None, "Work item 42", "Work item 43"}

    # With budgets assigned (the page then resolves each worklog's): one directly, one by item.
    direct = _ok(org.client.post("/api/v1/budgets", json={"name": "Direct"}, headers=org.admin), 201)
    by_item = _ok(org.client.post("/api/v1/budgets", json={"name": "By item"}, headers=org.admin), 201)
    _ok(org.client.post(f"/api/v1/budgets/{by_item['id']}/assign", json={"work_items": [42]},
                        headers=org.admin))
    _ok(org.client.post(f"/api/v1/budgets/{direct['id']}/assign", json={"worklogs": ["w0001", "w0030"]},
                        headers=org.admin))
    assigned = compare()
    assert {item["budget"]["assignment"] for item in assigned} > {"NoBudget"}
    assert {item["budget"]["id"] for item in assigned} == {None, direct["id"], by_item["id"]}

    # The pages after a cursor hold the same items.
    walked: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = _ok(org.client.get(ALL, params={"limit": 50, "cursor": cursor}, headers=org.admin))
        walked += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == assigned
