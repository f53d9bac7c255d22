"""``/api/v1/budgets`` on both engines, standalone connector: the resolution through the API
(SPEC §12, issue #16 done-when 1), usage and the monthly statement against a hand
computation over mixed rates (done-when 2), files, roles, and every refusal a problem."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from core.activities import ActivityTypeChanges
from core.clock import FixedClock
from core.money import Money
from core.services.activity_types import list_activity_types, update_activity_type
from core.services.rates import set_user_rate
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org, run, stint_of
from tests.support.api import api_client

BUDGETS = "/api/v1/budgets"
DEC = "2025-12-0{}T10:00:00Z"


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield make_org(client)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert body["code"] == code, body
    return body


def _item(org: Org, title: str, type_: str, **more: Any) -> int:
    return int(
        _ok(
            org.client.post(
                "/api/v1/work-items", json={"title": title, "type": type_, **more}, headers=org.admin
            ),
            201,
        )["id"]
    )


def _log(
    org: Org,
    item: int | None,
    at: str,
    length_s: int = 3600,
    billable_s: int = 0,
    headers: dict[str, str] | None = None,
    **more: Any,
) -> Any:
    return org.client.post(
        "/api/v1/worklogs",
        json={
            "started_at": at,
            "length_s": length_s,
            "billable_length_s": billable_s,
            "work_item": item,
            **more,
        },
        headers=headers or org.admin,
    )


def _budget(org: Org, **body: Any) -> dict[str, Any]:
    return dict(_ok(org.client.post(BUDGETS, json=body, headers=org.admin), 201))


def _tree(org: Org) -> dict[str, int]:
    sprint = _ok(
        org.client.post(
            "/api/v1/iterations",
            json={"path": "Shop\\Sprint 1", "start": "2025-12-01", "finish": "2025-12-14"},
            headers=org.admin,
        ),
        201,
    )
    epic = _item(org, "Shop", "Epic", iteration_id=sprint["id"])
    feature = _item(org, "Checkout", "Feature", parent_id=epic, iteration_id=sprint["id"])
    story = _item(org, "Pay by card", "User Story", parent_id=feature, iteration_id=sprint["id"])
    task = _item(org, "Card form", "Task", parent_id=story, iteration_id=sprint["id"])
    other = _item(org, "Office move", "Task")
    return {
        "sprint": sprint["id"],
        "epic": epic,
        "feature": feature,
        "story": story,
        "task": task,
        "other": other,
    }


def test_the_tree_resolves_through_the_api_and_a_closed_budget_refuses_new_worklogs(org: Org) -> None:
    """Done-when 1: budget A on the feature, budget B on one worklog."""
    tree = _tree(org)
    a = _budget(
        org,
        name="Checkout build",
        hours=100,
        amount={"amount": 1_000_000, "currency": "USD"},
        customer="ACME-42",
    )
    b = _budget(org, name="Support retainer")
    assert _ok(
        org.client.post(
            f"{BUDGETS}/{a['id']}/assign", json={"work_items": [tree["feature"]]}, headers=org.admin
        )
    )["work_items"] == [tree["feature"]]
    on_task = [_ok(_log(org, tree["task"], DEC.format(n)), 201) for n in (1, 2, 3)]
    single = on_task[2]
    unrelated = _ok(_log(org, tree["other"], DEC.format(4)), 201)
    _ok(org.client.post(f"{BUDGETS}/{b['id']}/assign", json={"worklogs": [single["id"]]}, headers=org.admin))

    listed = {
        w["id"]: w["budget"]
        for w in _ok(
            org.client.get("/api/v1/worklogs", params={"from": "2025-11-01T00:00:00Z"}, headers=org.admin)
        )["items"]
    }
    assert listed[on_task[0]["id"]] == {"id": a["id"], "assignment": "InheritedFromParent"}
    assert listed[on_task[1]["id"]] == {"id": a["id"], "assignment": "InheritedFromParent"}
    assert listed[single["id"]] == {"id": b["id"], "assignment": "DirectlyAssigned"}
    assert listed[unrelated["id"]] == {"id": None, "assignment": "NoBudget"}
    # A new worklog answers its budget too, and the items say how they got theirs.
    assert on_task[0]["budget"] == {"id": a["id"], "assignment": "InheritedFromParent"}
    items = "/api/v1/work-items"
    assert _ok(org.client.get(f"{items}/{tree['feature']}", headers=org.admin))["budget"] == {
        "id": a["id"],
        "assignment": "DirectlyAssigned",
    }
    assert _ok(org.client.get(f"{items}/{tree['task']}", headers=org.admin))["budget"] == {
        "id": a["id"],
        "assignment": "InheritedFromParent",
    }
    assert _ok(org.client.get(f"{items}/{tree['epic']}", headers=org.admin))["budget"] == {
        "id": None,
        "assignment": "NoBudget",
    }

    closed = _ok(org.client.patch(f"{BUDGETS}/{a['id']}", json={"open": False}, headers=org.admin))
    assert closed["open"] is False
    _problem(_log(org, tree["task"], DEC.format(5)), 409, "budget_closed")
    _problem(
        org.client.post("/api/v1/tracking/start", json={"work_item": tree["task"]}, headers=org.admin),
        409,
        "budget_closed",
    )
    _problem(
        org.client.post(
            f"{BUDGETS}/{a['id']}/assign", json={"work_items": [tree["other"]]}, headers=org.admin
        ),
        409,
        "budget_closed",
    )
    _problem(
        org.client.post(
            f"{BUDGETS}/{a['id']}/unassign", json={"work_items": [tree["feature"]]}, headers=org.admin
        ),
        409,
        "budget_closed",
    )
    # Work elsewhere goes on; so does the single worklog's own budget.
    _ok(_log(org, tree["other"], DEC.format(5)), 201)
    # Reopened, it takes worklogs again.
    _ok(org.client.patch(f"{BUDGETS}/{a['id']}", json={"open": True}, headers=org.admin))
    _ok(_log(org, tree["task"], DEC.format(6)), 201)


def test_usage_and_the_monthly_statement_agree_to_the_cent_with_a_hand_computation(org: Org) -> None:
    """Done-when 2: user rates, an activity type rate and a budget rate, in their precedence."""
    tree = _tree(org)
    bob_headers, bob = org.add_user("bob", role="team")
    _cy_headers, cy = org.add_user("cy", role="team")
    stint = stint_of(org.client)

    async def tenant() -> Any:
        async with stint.uow() as work:
            return await work.directory.tenant_by_slug(org.slug)

    acme = run(org.client, tenant)
    run(org.client, set_user_rate, stint.uow, tenant=acme, user_id=org.admin_id, rate=Money(8_000))  # 80.00
    run(org.client, set_user_rate, stint.uow, tenant=acme, user_id=bob, rate=Money(10_000))  # 100.00
    catalogue = run(org.client, list_activity_types, stint.uow, tenant=acme)
    design = catalogue[0]
    run(
        org.client,
        update_activity_type,
        stint.uow,
        tenant=acme,
        activity_type_id=design.id,
        changes=ActivityTypeChanges(hourly_rate=Money(12_000)),
    )  # 120.00

    a = _budget(org, name="Checkout", amount={"amount": 100_000, "currency": "USD"}, hours=10)
    c = _budget(org, name="Premium", hourly_rate={"amount": 15_000, "currency": "USD"})  # 150.00
    _ok(
        org.client.post(
            f"{BUDGETS}/{a['id']}/assign", json={"work_items": [tree["feature"]]}, headers=org.admin
        )
    )
    task, story = tree["task"], tree["story"]
    on_a = [
        # (who, when, length, billable, activity type) → the rate that applies, the amount by hand
        _log(org, task, "2025-12-01T10:00:00Z", 5_400, 5_400),  # user 80.00: 120.00
        _log(org, task, "2025-12-02T10:00:00Z", 3_600, 1_234, activity_type=design.name),
        # activity type 120.00: 1234/3600 × 120.00 = 41.1333… → 41.13
        _log(
            org, story, "2025-12-03T10:00:00Z", 2_000, 2_000, headers=bob_headers
        ),  # bob 100.00: 55.555… → 55.56
        _log(
            org, story, "2025-12-04T10:00:00Z", 900, 450, headers=bob_headers, activity_type=design.name
        ),  # 450/3600 × 120.00 = 15.00
        _log(org, task, "2025-12-05T10:00:00Z", 3_600, 3_600, user_id=cy),  # cy has no rate: 0.00
        _log(org, task, "2025-12-06T10:00:00Z", 1_800, 0),  # not billable: 0.00
        _log(org, task, "2025-11-30T23:30:00Z", 3_600, 3_600),  # November: 80.00
    ]
    ids = [_ok(response, 201)["id"] for response in on_a]
    premium = [
        _ok(_log(org, task, "2025-12-07T10:00:00Z", 600, 3, activity_type=design.name), 201)["id"],
        _ok(_log(org, task, "2025-12-08T10:00:00Z", 3_600, 3_000, activity_type=design.name), 201)["id"],
    ]
    # Budget C's rate wins over the activity type's and the user's, on its own worklogs:
    # 3/3600 × 150.00 = 0.125 → 0.12 (half-even); 3000/3600 × 150.00 = 125.00.
    _ok(org.client.post(f"{BUDGETS}/{c['id']}/assign", json={"worklogs": premium}, headers=org.admin))

    december = [12_000, 4_113, 5_556, 1_500, 0, 0]
    statement = _ok(
        org.client.get(f"{BUDGETS}/{a['id']}/statement", params={"month": "2025-12"}, headers=org.admin)
    )
    assert [line["worklog_id"] for line in statement["lines"]] == [ids[0], ids[1], ids[2], ids[3], ids[4]]
    assert [line["amount"]["amount"] for line in statement["lines"]] == december[:5]
    assert [line["rate"]["amount"] if line["rate"] else None for line in statement["lines"]] == [
        8_000,
        12_000,
        10_000,
        12_000,
        None,
    ]
    assert statement["totals"]["amount"] == {"amount": sum(december), "currency": "USD"}
    assert statement["totals"]["billable_s"] == 5_400 + 1_234 + 2_000 + 450 + 3_600
    assert statement["lines"][0]["work_item_title"] == "Card form"
    assert statement["customer"] is None and statement["budget"] == "Checkout"

    usage = _ok(
        org.client.get(
            f"{BUDGETS}/{a['id']}/usage", params={"from": "2025-12-01", "to": "2025-12-31"}, headers=org.admin
        )
    )
    assert usage["amount"] == statement["totals"]["amount"]
    assert usage["tracked_s"] == 5_400 + 3_600 + 2_000 + 900 + 3_600 + 1_800
    assert usage["amount_left"] == {"amount": 100_000 - sum(december), "currency": "USD"}
    assert usage["seconds_left"] == 36_000 - usage["tracked_s"]
    by_user = {row["user_id"]: row["amount"]["amount"] for row in usage["by_user"]}
    assert by_user == {org.admin_id: 12_000 + 4_113, bob: 5_556 + 1_500, cy: 0}
    # Over both months, usage is the two statements' sum, to the cent.
    november = _ok(
        org.client.get(f"{BUDGETS}/{a['id']}/statement", params={"month": "2025-11"}, headers=org.admin)
    )
    assert november["totals"]["amount"]["amount"] == 8_000
    whole = _ok(org.client.get(f"{BUDGETS}/{a['id']}/usage", headers=org.admin))
    assert whole["amount"]["amount"] == sum(december) + 8_000

    premium_statement = _ok(
        org.client.get(f"{BUDGETS}/{c['id']}/statement", params={"month": "2025-12"}, headers=org.admin)
    )
    assert [line["amount"]["amount"] for line in premium_statement["lines"]] == [12, 12_500]
    assert premium_statement["totals"]["amount"]["amount"] == 12_512


def test_the_statement_downloads_as_csv_and_xlsx_with_formulas_neutralised(org: Org) -> None:
    tree = _tree(org)
    budget = _budget(org, name="Files", hourly_rate={"amount": 10_000, "currency": "USD"})
    _ok(
        org.client.post(
            f"{BUDGETS}/{budget['id']}/assign", json={"iterations": [tree["sprint"]]}, headers=org.admin
        )
    )
    evil = _item(org, '=HYPERLINK("http://x")', "Task", iteration_id=tree["sprint"])
    _ok(_log(org, evil, DEC.format(2), 3_600, 1_800), 201)
    response = org.client.get(
        f"{BUDGETS}/{budget['id']}/statement", params={"month": "2025-12", "format": "csv"}, headers=org.admin
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0]["Title"] == '\'=HYPERLINK("http://x")'
    assert (rows[0]["Billable hours"], rows[0]["Amount"]) == ("0.5", "50.00")
    assert rows[-1]["Date"] == "Total" and rows[-1]["Amount"] == "50.00"
    response = org.client.get(
        f"{BUDGETS}/{budget['id']}/statement",
        params={"month": "2025-12", "format": "xlsx"},
        headers=org.admin,
    )
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert '\'=HYPERLINK("http://x")' in values[1]
    assert all(not (isinstance(v, str) and v.startswith("=")) for row in values for v in row)


def test_who_may_manage_read_and_see_their_own_budgets_only(org: Org) -> None:
    tree = _tree(org)
    team, team_id = org.add_user("tim", role="team")
    product, _ = org.add_user("pat", role="product")
    budgeter, _ = org.add_user("bea", role="budget")
    mine = _budget(org, name="Mine")
    others = _budget(org, name="Others")
    _ok(
        org.client.post(
            f"{BUDGETS}/{mine['id']}/assign", json={"work_items": [tree["task"]]}, headers=org.admin
        )
    )
    _ok(
        org.client.post(
            f"{BUDGETS}/{others['id']}/assign", json={"work_items": [tree["other"]]}, headers=org.admin
        )
    )
    _ok(_log(org, tree["task"], DEC.format(1), 600, headers=team), 201)
    _ok(_log(org, tree["task"], DEC.format(1), 1_200), 201)

    _problem(org.client.post(BUDGETS, json={"name": "x"}, headers=team), 403, "not_permitted")
    _problem(org.client.post(BUDGETS, json={"name": "x"}, headers=product), 403, "not_permitted")
    _ok(org.client.post(BUDGETS, json={"name": "By the budget role"}, headers=budgeter), 201)
    _problem(
        org.client.patch(f"{BUDGETS}/{mine['id']}", json={"open": False}, headers=product),
        403,
        "not_permitted",
    )
    assert {b["name"] for b in _ok(org.client.get(BUDGETS, headers=product))["items"]} == {
        "Mine",
        "Others",
        "By the budget role",
    }
    assert [b["name"] for b in _ok(org.client.get(BUDGETS, headers=team))["items"]] == ["Mine"]
    _problem(org.client.get(f"{BUDGETS}/{others['id']}", headers=team), 404, "not_found")
    _problem(org.client.get(f"{BUDGETS}/{others['id']}/usage", headers=team), 404, "not_found")
    usage = _ok(org.client.get(f"{BUDGETS}/{mine['id']}/usage", headers=team))
    assert usage["tracked_s"] == 600 and [row["user_id"] for row in usage["by_user"]] == [team_id]
    assert usage["amount_left"] is None and usage["hours_left"] is None
    assert _ok(org.client.get(f"{BUDGETS}/{mine['id']}/usage", headers=product))["tracked_s"] == 1_800


def test_bad_input_is_a_clear_problem_and_stores_nothing(org: Org) -> None:
    tree = _tree(org)
    budget = _budget(org, name="Checks", amount={"amount": 100, "currency": "USD"})
    for body in (
        {"name": ""},
        {"name": "x" * 201},
        {"name": "x", "hours": -1},
        {"name": "x", "hours": 1.234},
        {"name": "x", "amount": {"amount": -5, "currency": "USD"}},
        {"name": "x", "amount": {"amount": 5, "currency": "usd"}},
        {"name": "x", "starts_on": "2026-02-01", "ends_on": "2026-01-01"},
        {"name": "x", "extra": 1},
    ):
        response = org.client.post(BUDGETS, json=body, headers=org.admin)
        assert response.status_code == 422, (body, response.text)
    _problem(
        org.client.post(
            BUDGETS, json={"name": "x", "amount": {"amount": 5, "currency": "EUR"}}, headers=org.admin
        ),
        422,
        "rate_currency_mismatch",
    )
    assert [b["name"] for b in _ok(org.client.get(BUDGETS, headers=org.admin))["items"]] == ["Checks"]
    assign = f"{BUDGETS}/{budget['id']}/assign"
    _problem(
        org.client.post(assign, json={"work_items": [tree["task"], 999]}, headers=org.admin),
        422,
        "validation_error",
    )
    _problem(org.client.post(assign, json={"iterations": [77]}, headers=org.admin), 422, "validation_error")
    _problem(org.client.post(assign, json={"worklogs": ["nope"]}, headers=org.admin), 422, "validation_error")
    assert (
        _ok(org.client.get(f"/api/v1/work-items/{tree['task']}", headers=org.admin))["budget"]["id"] is None
    )
    _problem(org.client.post(f"{BUDGETS}/nope/assign", json={}, headers=org.admin), 404, "not_found")
    for params in ({"month": "2025-13"}, {"month": "25-12"}, {"month": "2025-12", "format": "pdf"}):
        response = org.client.get(f"{BUDGETS}/{budget['id']}/statement", params=params, headers=org.admin)
        assert response.status_code in (400, 422), (params, response.text)
    for params in (
        {"from": "yesterday"},
        {"from": "2026-01-02", "to": "2026-01-01"},
        {"from": "2026-01-01T00:00:00"},
    ):
        response = org.client.get(f"{BUDGETS}/{budget['id']}/usage", params=params, headers=org.admin)
        assert response.status_code in (400, 422), (params, response.text)


def test_usage_dates_outside_the_supported_range_are_a_422_naming_the_parameter(org: Org) -> None:
    """The usage reads ``from``/``to`` as the worklog lists do: 9999-12-31 as ``to`` was read as
    no end (200) and a year-1 ``from`` went on to the query; both are out of the range now."""
    budget = _budget(org, name="Edge")
    for name, value in (("to", "9999-12-31"), ("from", "0001-01-01"), ("to", "3000-01-01"),
                        ("from", "0001-01-01T00:00:00+14:00")):
        response = org.client.get(f"{BUDGETS}/{budget['id']}/usage", params={name: value}, headers=org.admin)
        body = _problem(response, 422, "validation_error")
        assert "out of range" in body["detail"] and body["errors"][0]["field"] == name, body
    assert _ok(org.client.get(f"{BUDGETS}/{budget['id']}/usage", params={"to": "2999-12-30"},
                              headers=org.admin))["tracked_s"] == 0


def test_the_list_pages_by_name_with_an_opaque_cursor(org: Org) -> None:
    for name in ("Delta", "alpha", "Charlie", "Bravo", "Charlie"):
        _budget(org, name=name)
    seen, cursor = [], ""
    while True:
        page = _ok(org.client.get(BUDGETS, params={"limit": 2, "cursor": cursor}, headers=org.admin))
        seen += [b["name"] for b in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert seen == ["Bravo", "Charlie", "Charlie", "Delta", "alpha"]
    bad = org.client.get(BUDGETS, params={"cursor": "not-ours"}, headers=org.admin)
    _problem(bad, 422, "validation_error")


def test_another_tenant_reaches_none_of_a_budgets_routes_even_with_valid_input(org: Org) -> None:
    """The isolation walker fills query strings and bodies with the other tenant's ids, which
    usage, statement and PATCH refuse as bad input first; here each gets valid input."""
    tree = _tree(org)
    budget = _budget(org, name="Ours", amount={"amount": 100, "currency": "USD"})
    assign = {"work_items": [tree["task"]]}
    _ok(org.client.post(f"{BUDGETS}/{budget['id']}/assign", json=assign, headers=org.admin))
    _ok(_log(org, tree["task"], DEC.format(1), 3_600, 3_600), 201)
    other = make_org(org.client, "other")
    path = f"{BUDGETS}/{budget['id']}"
    for method, url, body, params in (
        ("GET", path, None, {}),
        ("PATCH", path, {"open": False}, {}),
        ("POST", f"{path}/assign", {"work_items": [1]}, {}),
        ("POST", f"{path}/unassign", {"work_items": [tree["task"]]}, {}),
        ("GET", f"{path}/usage", None, {"from": "2025-12-01", "to": "2025-12-31"}),
        ("GET", f"{path}/statement", None, {"month": "2025-12"}),
        ("GET", f"{path}/statement", None, {"month": "2025-12", "format": "csv"}),
    ):
        response = other.client.request(method, url, json=body, params=params, headers=other.admin)
        _problem(response, 404, "not_found")
    assert _ok(other.client.get(BUDGETS, headers=other.admin))["items"] == []
    assert _ok(org.client.get(path, headers=org.admin))["open"] is True
