"""The Reporting API (OData v4, issue #18) against hand-written SQL over the same seeded data,
on SQLite and PostgreSQL: filters, select, expand, orderby, count, $apply, paging to the end;
its refusals; its credentials."""

from __future__ import annotations

import base64
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from tests.integration.reporting_support import ODATA, Seeded, every_row, odata, ok, seeded_world, sql


@pytest.fixture
def world(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Seeded]:
    with seeded_world(database_url, tmp_path, clock) as seeded:
        yield seeded


def _tenant(s: Seeded) -> str:
    return str(
        sql(s.client, "SELECT tenant_id FROM tenant_user WHERE id = {}", s.users["admin"])[0]["tenant_id"]
    )


#: Time per user per month (docs/reporting.md): compute the date parts, group by them.
MONTHLY = (
    "compute(year(Timestamp) as Year,month(Timestamp) as Month)"
    "/groupby((User/Id,Year,Month),aggregate(PeriodLength with sum as Total))"
)


def _money(minor: int) -> Decimal:
    return Decimal(minor) / 100


def test_twelve_queries_give_the_numbers_a_hand_written_sql_computation_gives(world: Seeded) -> None:
    """Each OData query's answer equals the same question asked in SQL written by hand here
    (amounts and budgets reckoned by hand from the rules, ``reporting_support``)."""
    s, c, admin = world, world.client, world.headers["admin"]
    tenant = _tenant(s)
    tina = s.users["tina"]

    # 1. comparison and `and`
    got = {
        r["Id"]
        for r in odata(c, admin, "workLogs", **{"$filter": f"UserId eq '{tina}' and PeriodLength ge 2700"})[
            "value"
        ]
    }
    want = {
        r["id"]
        for r in sql(
            c,
            "SELECT id FROM worklog WHERE tenant_id = {} AND user_id = {} AND length_s >= 2700",
            tenant,
            tina,
        )
    }
    assert got == want and len(want) >= 3

    # 2. year/month of a date-time
    got = {
        r["Id"]
        for r in odata(
            c, admin, "workLogs", **{"$filter": "year(Timestamp) eq 2026 and month(Timestamp) eq 2"}
        )["value"]
    }
    want = {
        r["id"]
        for r in sql(
            c,
            "SELECT id FROM worklog WHERE tenant_id = {} AND started_at >= {} AND started_at < {}",
            tenant,
            datetime(2026, 2, 1, tzinfo=UTC),
            datetime(2026, 3, 1, tzinfo=UTC),
        )
    }
    assert got == want and len(want) >= 10

    # 3. contains / startswith, `or`, `not`, `in`
    expr = "(contains(Comment,'review') or startswith(Comment,'Fix')) and not (PeriodLength in (900, 1800))"
    got = {r["Id"] for r in odata(c, admin, "workLogs", **{"$filter": expr})["value"]}
    want = {
        r["id"]
        for r in sql(
            c,
            "SELECT id FROM worklog WHERE tenant_id = {} AND (comment LIKE '%review%' "
            "OR comment LIKE 'Fix%') AND length_s NOT IN (900, 1800)",
            tenant,
        )
    }
    assert got == want and want

    # 4. a navigation path in a filter
    got = {r["Id"] for r in odata(c, admin, "workLogs", **{"$filter": "WorkItem/Type eq 'Task'"})["value"]}
    want = {
        r["id"]
        for r in sql(
            c,
            "SELECT w.id FROM worklog w JOIN work_item i ON i.tenant_id = w.tenant_id "
            "AND CAST(i.item_id AS TEXT) = w.work_item WHERE w.tenant_id = {} AND i.type = 'Task'",
            tenant,
        )
    }
    assert got == want and want

    # 5. $select, $orderby (two keys), $top
    body = odata(
        c,
        admin,
        "workLogs",
        **{"$select": "Id,PeriodLength", "$orderby": "PeriodLength desc,Timestamp", "$top": "5"},
    )
    assert all(set(r) == {"Id", "PeriodLength"} for r in body["value"])
    want_rows = sql(
        c, "SELECT id FROM worklog WHERE tenant_id = {} ORDER BY length_s DESC, started_at LIMIT 5", tenant
    )
    assert [r["Id"] for r in body["value"]] == [r["id"] for r in want_rows]
    assert "@odata.nextLink" not in body  # $top reached

    # 6. $count
    body = odata(c, admin, "workLogs", **{"$count": "true", "$filter": "BillableLength gt 0", "$top": "2"})
    want_n = sql(
        c, "SELECT COUNT(*) AS n FROM worklog WHERE tenant_id = {} AND billable_length_s > 0", tenant
    )[0]["n"]
    assert body["@odata.count"] == want_n and len(body["value"]) == 2

    # 7. $expand with a nested $select
    body = odata(
        c,
        admin,
        "workLogs",
        **{
            "$filter": f"UserId eq '{tina}'",
            "$expand": "WorkItem($select=Title,Type)",
            "$select": "Id,WorkItemId",
        },
    )
    titles = {r["Id"]: r["WorkItem"] for r in body["value"]}
    want_rows = sql(
        c,
        "SELECT w.id, i.title, i.type FROM worklog w JOIN work_item i ON i.tenant_id = w.tenant_id "
        "AND CAST(i.item_id AS TEXT) = w.work_item WHERE w.tenant_id = {} AND w.user_id = {}",
        tenant,
        tina,
    )
    assert titles == {r["id"]: {"Title": r["title"], "Type": r["type"]} for r in want_rows}

    # 8. $apply groupby + sum: time per user
    body = odata(
        c, admin, "workLogs", **{"$apply": "groupby((UserId),aggregate(PeriodLength with sum as Total))"}
    )
    want_rows = sql(
        c, "SELECT user_id, SUM(length_s) AS total FROM worklog WHERE tenant_id = {} GROUP BY user_id", tenant
    )
    assert {r["UserId"]: r["Total"] for r in body["value"]} == {r["user_id"]: r["total"] for r in want_rows}

    # 9. $apply filter/groupby: billable amount per budget (each line rounded once, then summed)
    body = odata(
        c,
        admin,
        "workLogs",
        **{
            "$apply": "filter(BillableLength gt 0)/groupby((BudgetId,BudgetAssignmentType),"
            "aggregate(Amount with sum as Money,BillableLength with sum as B))"
        },
    )
    money: dict[Any, list[int]] = defaultdict(list)
    billable: dict[Any, int] = defaultdict(int)
    for w in s.worklogs:
        if w["billable"] > 0:
            key = s.budget_of(w)
            amount = s.amount_of(w)
            money[key] += [] if amount is None else [amount]
            billable[key] += w["billable"]
    # A group with no priced line sums to null, as SQL's SUM does.
    assert {(r["BudgetId"], r["BudgetAssignmentType"]): (r["Money"], r["B"]) for r in body["value"]} == {
        k: (_money(sum(money[k])) if money[k] else None, billable[k]) for k in billable
    }
    # (The epic's worklogs, the only ones without a budget, are all unbillable in the seed.)
    assert {r["BudgetAssignmentType"] for r in body["value"]} == {
        "DirectlyAssigned",
        "InheritedFromParent",
        "InheritedFromIteration",
    }

    # 10. aggregate without groupby: $count, max, countdistinct
    body = odata(
        c,
        admin,
        "workLogs",
        **{
            "$apply": "aggregate($count as N,PeriodLength with max as Longest,"
            "UserId with countdistinct as People)"
        },
    )
    want_row = sql(
        c,
        "SELECT COUNT(*) AS n, MAX(length_s) AS longest, COUNT(DISTINCT user_id) AS people FROM worklog "
        "WHERE tenant_id = {}",
        tenant,
    )[0]
    assert body["value"] == [
        {"N": want_row["n"], "Longest": want_row["longest"], "People": want_row["people"]}
    ]

    # 11. grouped by a navigation property: estimate vs. actual per type
    body = odata(
        c,
        admin,
        "workLogs",
        **{"$apply": "groupby((WorkItem/Type),aggregate(PeriodLength with sum as T))", "$orderby": "T desc"},
    )
    want_rows = sql(
        c,
        "SELECT i.type, SUM(w.length_s) AS t FROM worklog w JOIN work_item i ON i.tenant_id = w.tenant_id "
        "AND CAST(i.item_id AS TEXT) = w.work_item WHERE w.tenant_id = {} GROUP BY i.type ORDER BY t DESC",
        tenant,
    )
    assert [(r["WorkItem"]["Type"], r["T"]) for r in body["value"]] == [
        (r["type"], r["t"]) for r in want_rows
    ]

    # 12. paging to the end, 7 a page, newest first
    rows = every_row(c, admin, "workLogs", page_size=7, **{"$orderby": "Timestamp desc", "$select": "Id"})
    want_rows = sql(c, "SELECT id FROM worklog WHERE tenant_id = {} ORDER BY started_at DESC, id", tenant)
    assert [r["Id"] for r in rows] == [r["id"] for r in want_rows] and len(rows) == len(s.worklogs)

    # And every worklog's budget, assignment and amount, as reckoned by hand.
    rows = every_row(c, admin, "workLogs", page_size=10)
    by_id = {w["id"]: w for w in s.worklogs}
    for row in rows:
        w = by_id[row["Id"]]
        amount = s.amount_of(w)
        assert (row["BudgetId"], row["BudgetAssignmentType"]) == s.budget_of(w)
        assert row["Amount"] == (None if amount is None else _money(amount))
        assert row["Currency"] == (None if amount is None else "USD")

    # 13. grouped by user and month: compute(year/month) then groupby, months in UTC. A worklog
    # started late on 31 January at UTC-3 is 1 February in UTC, so it counts in February.
    ok(c.post("/api/v1/worklogs", json={"user_id": tina, "started_at": "2026-01-31T23:30:00-03:00",
                                        "length_s": 600, "comment": "late",
                                        "work_item": s.items["E"]}, headers=admin), 201)
    body = odata(c, admin, "workLogs", **{"$apply": MONTHLY, "$orderby": "Year,Month desc"})
    want_totals: dict[tuple[str, int, int], int] = defaultdict(int)
    for r in sql(c, "SELECT user_id, started_at, length_s FROM worklog WHERE tenant_id = {}", tenant):
        at = r["started_at"]
        at = at if isinstance(at, datetime) else datetime.fromisoformat(at)
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)  # stored in UTC
        want_totals[(r["user_id"], at.year, at.month)] += r["length_s"]
    got_totals = {(g["User"]["Id"], g["Year"], g["Month"]): g["Total"] for g in body["value"]}
    assert got_totals == want_totals and len(want_totals) >= 9
    assert got_totals[(tina, 2026, 2)] == 600 + sum(
        w["length"] for w in s.worklogs if w["user"] == "tina" and w["at"].startswith("2026-02")
    )
    assert [g["Month"] for g in body["value"]][:2] == [3, 3]  # $orderby names computed properties


def test_work_items_and_budgets_carry_the_totals_a_hand_sum_gives(world: Seeded) -> None:
    """workItems: the tracked time on each item; budgets: tracked, billable and amount per
    budget, summed by hand from the worklogs' reckoned budgets and amounts."""
    s, c, admin = world, world.client, world.headers["admin"]
    items = {r["Id"]: r for r in every_row(c, admin, "workItems")}
    tracked = Counter()
    for w in s.worklogs:
        tracked[w["work_item"]] += w["length"]
    assert {i: r["TrackedLength"] for i, r in items.items()} == {i: tracked[i] for i in s.items.values()}
    # With descendants: E ⊃ F ⊃ T; U stands alone.
    below = {"E": ("E", "F", "T"), "F": ("F", "T"), "T": ("T",), "U": ("U",)}
    for name, members in below.items():
        mine = [w for w in s.worklogs if w["work_item"] in {s.items[m] for m in members}]
        row = items[s.items[name]]
        assert row["TrackedLengthWithDescendants"] == sum(w["length"] for w in mine), name
        assert row["BillableLengthWithDescendants"] == sum(w["billable"] for w in mine), name
    # Through a navigation too (the roll-up is computed when the answer can show it).
    epic_total = items[s.items["E"]]["TrackedLengthWithDescendants"]
    through = odata(
        c,
        admin,
        "workLogs",
        **{
            "$filter": f"WorkItemId eq {s.items['E']} and "
            f"WorkItem/TrackedLengthWithDescendants eq {epic_total}",
            "$expand": "WorkItem($select=TrackedLengthWithDescendants)",
        },
    )["value"]
    assert through and all(r["WorkItem"]["TrackedLengthWithDescendants"] == epic_total for r in through)
    assert items[s.items["F"]]["BudgetAssignmentType"] == "DirectlyAssigned"
    assert items[s.items["T"]]["BudgetAssignmentType"] == "InheritedFromParent"
    assert items[s.items["U"]]["BudgetAssignmentType"] == "InheritedFromIteration"
    assert items[s.items["E"]]["BudgetId"] is None
    budgets = {r["Id"]: r for r in every_row(c, admin, "budgets")}
    for name, budget_id in s.budgets.items():
        mine = [w for w in s.worklogs if s.budget_of(w)[0] == budget_id]
        amounts = [s.amount_of(w) for w in mine]
        priced = [a for a in amounts if a is not None]
        assert budgets[budget_id]["TrackedLength"] == sum(w["length"] for w in mine), name
        assert budgets[budget_id]["BillableLength"] == sum(w["billable"] for w in mine), name
        assert budgets[budget_id]["Amount"] == (_money(sum(priced)) if priced else None), name
    hierarchy = {r["Id"]: r for r in every_row(c, admin, "workItemsHierarchy")}
    assert hierarchy[s.items["T"]]["RootId"] == s.items["E"] and hierarchy[s.items["T"]]["Depth"] == 2


def test_a_team_user_sees_only_their_own_worklogs_and_their_apply_totals_cover_only_their_time(
    world: Seeded,
) -> None:
    s, c = world, world.client
    tina = s.users["tina"]
    team = s.headers["tina"]
    rows = every_row(c, team, "workLogs")
    assert {r["UserId"] for r in rows} == {tina}
    assert len(rows) == sum(1 for w in s.worklogs if w["user"] == "tina")
    body = odata(c, team, "workLogs", **{"$apply": "aggregate(PeriodLength with sum as T,$count as N)"})
    assert body["value"] == [
        {"T": sum(w["length"] for w in s.worklogs if w["user"] == "tina"), "N": len(rows)}
    ]
    grouped = odata(c, team, "workLogs", **{"$apply": "groupby((UserId),aggregate($count as N))"})["value"]
    assert [g["UserId"] for g in grouped] == [tina]
    # Her month totals are her own time only, as the same grouping by an admin shows hers.
    months = odata(c, team, "workLogs", **{"$apply": MONTHLY})["value"]
    assert {g["User"]["Id"] for g in months} == {tina}
    mine: Counter[tuple[int, int]] = Counter()
    for w in s.worklogs:
        if w["user"] == "tina":
            mine[(int(w["at"][:4]), int(w["at"][5:7]))] += w["length"]
    assert {(g["Year"], g["Month"]): g["Total"] for g in months} == mine
    everyone = odata(c, s.headers["admin"], "workLogs", **{"$apply": MONTHLY})["value"]
    assert sum(g["Total"] for g in everyone) > sum(mine.values())
    # Work items' totals are their own time too; users: only themselves; budgets: none.
    items = every_row(c, team, "workItems")
    assert sum(r["TrackedLength"] for r in items) == sum(
        w["length"] for w in s.worklogs if w["user"] == "tina"
    )
    epic = next(r for r in items if r["Id"] == s.items["E"])
    assert epic["TrackedLengthWithDescendants"] == sum(
        w["length"] for w in s.worklogs if w["user"] == "tina" and w["work_item"] != s.items["U"]
    )
    assert [r["Id"] for r in every_row(c, team, "users")] == [tina]
    # Budgets: those her own worklogs hit (as the budgets API shows Team), usage of her time only.
    own = [w for w in s.worklogs if w["user"] == "tina"]
    hit = {s.budget_of(w)[0] for w in own} - {None}
    budgets = {r["Id"]: r for r in every_row(c, team, "budgets")}
    assert set(budgets) == hit and hit
    for budget_id, row in budgets.items():
        assert row["TrackedLength"] == sum(w["length"] for w in own if s.budget_of(w)[0] == budget_id)
    expanded = odata(c, team, "workLogs", **{"$expand": "User,Budget", "$top": "50"})["value"]
    assert {r["User"]["Id"] for r in expanded} == {tina}
    by_id = {w["id"]: w for w in own}
    assert all((r["Budget"] or {}).get("Id") == s.budget_of(by_id[r["Id"]])[0] for r in expanded)
    assert s.budgets["B2"] not in {(r["Budget"] or {}).get("Id") for r in expanded}
    # A product user sees everyone's.
    assert len(every_row(c, s.headers["pat"], "workLogs")) == len(s.worklogs)


def test_a_next_link_is_refused_for_another_user_another_filter_or_when_changed(world: Seeded) -> None:
    s, c = world, world.client
    first = ok(
        c.get(
            f"{ODATA}/workLogs",
            params={"$orderby": "Timestamp"},
            headers={**s.headers["pat"], "Prefer": "odata.maxpagesize=3"},
        )
    )
    link = "/" + first["@odata.nextLink"].split("://", 1)[1].split("/", 1)[1]
    assert c.get(link, headers=s.headers["pat"]).status_code == 200
    for headers in (s.headers["admin"], s.headers["tina"]):
        refused = c.get(link, headers=headers)
        assert refused.status_code == 400 and "$skiptoken" in refused.json()["error"]["message"]
    other_filter = link.replace("%24orderby=Timestamp", "%24orderby=Timestamp&%24filter=PeriodLength+gt+0")
    assert c.get(other_filter, headers=s.headers["pat"]).status_code == 400
    token = link.split("%24skiptoken=", 1)[1]
    changed = link.replace(token, token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:])
    assert c.get(changed, headers=s.headers["pat"]).status_code == 400


def test_prefer_maxpagesize_is_honoured_down_to_one_and_said_applied(world: Seeded) -> None:
    s, c = world, world.client
    answer = c.get(f"{ODATA}/workLogs", headers={**s.headers["admin"], "Prefer": "odata.maxpagesize=1"})
    assert answer.status_code == 200 and len(answer.json()["value"]) == 1
    assert answer.headers["preference-applied"] == "odata.maxpagesize=1"
    larger = c.get(f"{ODATA}/users", headers={**s.headers["admin"], "Prefer": "odata.maxpagesize=5000"})
    assert larger.headers["preference-applied"] == "odata.maxpagesize=100"  # the set's own page size
    assert answer.headers["odata-version"] == "4.0"
    ids = [r["Id"] for r in every_row(c, s.headers["admin"], "workLogs", page_size=1)]
    assert len(ids) == len(set(ids)) == len(s.worklogs)


def test_a_worklog_page_may_be_asked_up_to_5000_rows(world: Seeded) -> None:
    """Worklogs come 1,000 a page unless the client asks for more (up to 5,000): a client
    paging through a tenant's year pays the request's own cost five times less often."""
    s, c = world, world.client
    for asked, applied in (("2500", "2500"), ("5000", "5000"), ("20000", "5000")):
        prefer = {"Prefer": f"odata.maxpagesize={asked}"}
        answer = c.get(f"{ODATA}/workLogs", headers={**s.headers["admin"], **prefer})
        assert answer.status_code == 200 and len(answer.json()["value"]) == len(s.worklogs)
        assert answer.headers["preference-applied"] == f"odata.maxpagesize={applied}"


REFUSALS: list[tuple[dict[str, str], int, str]] = [
    ({"$search": "review"}, 400, "$search"),
    ({"$compute": "PeriodLength as X"}, 501, "$compute"),
    ({"$levels": "2"}, 501, "$levels"),
    ({"$frobnicate": "1"}, 400, "$frobnicate"),
    ({"plain": "1"}, 400, "plain"),
    ({"$filter": "Nope eq 1"}, 400, "Nope"),
    ({"$filter": "WorkItem/Nope eq 1"}, 400, "WorkItem/Nope"),
    ({"$filter": "length(Comment) eq 3"}, 501, "length"),
    ({"$filter": "PeriodLength add 1 eq 3"}, 501, "arithmetic"),
    ({"$filter": "PeriodLength eq 'x'"}, 400, "compare"),
    ({"$filter": "PeriodLength eq"}, 400, "$filter"),
    ({"$select": "Id,Nope"}, 400, "Nope"),
    ({"$orderby": "Nope desc"}, 400, "Nope"),
    ({"$orderby": "Id sideways"}, 400, "sideways"),
    ({"$expand": "Nope"}, 400, "Nope"),
    ({"$expand": "WorkItem($filter=Id eq 1)"}, 400, "$filter"),
    ({"$apply": "compute(PeriodLength as X)"}, 501, "compute"),
    ({"$apply": "groupby((UserId),aggregate(Comment with sum as S))"}, 400, "sum"),
    ({"$apply": "aggregate(PeriodLength with median as M)"}, 501, "median"),
    ({"$top": "-1"}, 400, "$top"),
    ({"$skiptoken": "v2:nope:AAAA"}, 400, "$skiptoken"),
    ({"$format": "xml"}, 400, "$format"),
]


def test_an_unsupported_or_unknown_option_is_refused_naming_it_as_an_odata_error(world: Seeded) -> None:
    """400 for what is wrong or unknown, 501 for an OData feature Stint does not implement;
    never ignored, never a problem+json."""
    for options, status, named in REFUSALS:
        answer = world.client.get(f"{ODATA}/workLogs", params=options, headers=world.headers["admin"])
        assert answer.status_code == status, (options, answer.text)
        error = answer.json()["error"]
        assert set(error) == {"code", "message"} and named in error["message"], (options, error)
        assert answer.headers["odata-version"] == "4.0"
        assert not answer.headers["content-type"].startswith("application/problem")


def test_injection_strings_are_values_and_hostile_filters_are_refused(world: Seeded) -> None:
    """A quote or SQL in a literal is only text to compare; 10,000 terms and 5,000 nested
    parentheses are refused with 400 before anything runs."""
    s, c, admin = world, world.client, world.headers["admin"]
    nasty = "x'); DROP TABLE worklog; --"
    ok(
        c.post(
            "/api/v1/worklogs",
            json={
                "started_at": "2026-04-01T09:00:00Z",
                "length_s": 60,
                "work_item": s.items["E"],
                "comment": nasty,
            },
            headers=admin,
        ),
        201,
    )
    escaped = nasty.replace("'", "''")
    for expr in (
        f"Comment eq '{escaped}'",
        f"contains(Comment,'{escaped}')",
        f"startswith(Comment,'{escaped}')",
    ):
        assert len(odata(c, admin, "workLogs", **{"$filter": expr})["value"]) == 1
    for expr in (
        "Comment eq '1'' or 1 eq 1 --'",
        "Comment eq '%'",
        "contains(Comment,'%')",
        "contains(Comment,'_')",
        "startswith(Comment,'%')",
    ):
        assert odata(c, admin, "workLogs", **{"$filter": expr})["value"] == []
    assert len(every_row(c, admin, "workLogs")) == len(s.worklogs) + 1
    # Odd but valid filters: literals on both sides, null, functions of literals.
    for expr, rows in (
        ("null eq null", "all"),
        ("1 eq 1", "all"),
        ("1 eq 2", "none"),
        ("true", "all"),
        ("2026-01-01 eq 2026-01-01", "all"),
        ("year(2026-03-01T10:00:00Z) eq 2026", "all"),
        ("year(2026-03-01) eq 2025", "none"),
        ("contains('abc','b')", "all"),
        ("tolower('A') eq 'a'", "all"),
        ("Comment eq null", "none"),
        ("not (Comment ne null)", "none"),
        ("Timestamp ge 2026-01-01 and Amount lt 0.005", "some"),
        ("BudgetId eq null", "some"),
    ):
        found = every_row(c, admin, "workLogs", **{"$filter": expr, "$select": "Id"})
        expected = {"all": len(s.worklogs) + 1, "none": 0}.get(rows)
        assert (len(found) == expected) if expected is not None else found, (expr, len(found))
    huge = " or ".join(["PeriodLength eq 1"] * 10_000)
    deep = "(" * 5_000 + "PeriodLength eq 1" + ")" * 5_000
    for text in (f"$filter={huge}", f"$filter={deep}", "$filter=" + "not " * 3_000 + "true"):
        answer = c.post(
            f"{ODATA}/workLogs/$query", content=text.encode(), headers={**admin, "Content-Type": "text/plain"}
        )
        assert answer.status_code == 400, answer.text[:300]
        assert "error" in answer.json()
    many = " or ".join(f"PeriodLength eq {n}" for n in range(150))
    assert (
        c.post(f"{ODATA}/workLogs/$query", content=f"$filter={many}".encode(), headers=admin).status_code
        == 400
    )  # over 200 terms


def test_a_long_query_posted_as_text_answers_as_the_get(world: Seeded) -> None:
    s, c, admin = world, world.client, world.headers["admin"]
    options = {"$filter": f"UserId eq '{s.users['umar']}'", "$orderby": "Timestamp", "$select": "Id"}
    got = ok(
        c.post(
            f"{ODATA}/workLogs/$query",
            content="&".join(f"{k}={v}" for k, v in options.items()).encode(),
            headers={**admin, "Content-Type": "text/plain"},
        )
    )
    assert got["value"] == odata(c, admin, "workLogs", **options)["value"] and got["value"]


def test_one_entity_by_its_key_and_a_missing_one_is_404(world: Seeded) -> None:
    s, c, admin = world, world.client, world.headers["admin"]
    one = ok(
        c.get(
            f"{ODATA}/workItems({s.items['T']})", params={"$expand": "Parent($select=Title)"}, headers=admin
        )
    )
    assert one["Title"] == "Card field" and one["Parent"] == {"Title": "Payment form"}
    assert one["@odata.context"].endswith("#workItems/$entity")
    user = ok(c.get(f"{ODATA}/users('{s.users['umar']}')", headers=admin))
    assert user["Email"] == "umar@acme.test"
    assert c.get(f"{ODATA}/workItems(999999)", headers=admin).status_code == 404
    assert c.get(f"{ODATA}/users('{s.users['umar']}')", headers=s.headers["tina"]).status_code == 404
    assert c.get(f"{ODATA}/nothing", headers=admin).status_code == 404
    # Refused before any route is found (no such path, no such method): OData errors too.
    for method, path, status in (
        ("GET", "/workLogs/$count", 404),
        ("DELETE", "/workLogs", 405),
        ("GET", "/workItems(1)/Parent", 404),
    ):
        answer = c.request(method, f"{ODATA}{path}", headers=admin)
        assert answer.status_code == status and set(answer.json()["error"]) == {"code", "message"}
        assert answer.headers["odata-version"] == "4.0"


def test_basic_with_a_personal_access_token_works_here_only_and_401_asks_for_it(world: Seeded) -> None:
    c, admin = world.client, world.headers["admin"]
    pat = ok(
        c.post("/api/v1/me/tokens", json={"name": "Power BI", "expires_in_days": 30}, headers=admin), 201
    )["token"]

    def basic(user: str, password: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    assert c.get(f"{ODATA}/workLogs", headers=basic("anything", pat)).status_code == 200
    assert c.get(f"{ODATA}/workLogs", headers={"Authorization": f"Bearer {pat}"}).status_code == 200
    for headers in (
        {},
        basic("admin@acme.test", "correct horse battery"),
        basic("x", pat + "x"),
        {"Authorization": "Basic !!!"},
    ):
        refused = c.get(f"{ODATA}/workLogs", headers=headers)
        assert refused.status_code == 401
        assert 'Basic realm="Stint reporting"' in refused.headers["www-authenticate"]
        assert set(refused.json()["error"]) == {"code", "message"}
    # The rest of the API takes no Basic credentials.
    assert c.get("/api/v1/me", headers=basic("anything", pat)).status_code == 401


def test_role_none_is_refused_as_everywhere(world: Seeded) -> None:
    s, c = world, world.client
    headers, _ = s.org.add_user("nobody", role="none")
    refused = c.get(f"{ODATA}/workLogs", headers=headers)
    assert refused.status_code in (403, 404) and "error" in refused.json()


def test_the_service_document_and_metadata_name_every_set(world: Seeded) -> None:
    from core.reporting import MODEL

    c, admin = world.client, world.headers["admin"]
    root = ok(c.get(f"{ODATA}/", headers=admin))
    assert [v["name"] for v in root["value"]] == list(MODEL)
    metadata = c.get(f"{ODATA}/$metadata", headers=admin)
    assert metadata.status_code == 200 and metadata.headers["odata-version"] == "4.0"
    for name in MODEL:
        assert odata(c, admin, name)["@odata.context"].endswith(f"$metadata#{name}")


def test_the_worked_examples_in_the_reporting_doc_run(world: Seeded) -> None:
    """Every ``GET /api/odata/v1/…`` example in docs/reporting.md answers 200 with rows."""
    import re
    from urllib.parse import parse_qsl

    doc = (Path(__file__).resolve().parents[2] / "docs" / "reporting.md").read_text()
    examples = re.findall(r"^GET (/api/odata/v1/.+(?:\n    \S.*)*)", doc, re.M)
    assert len(examples) >= 4
    for example in examples:
        lines = example.splitlines()
        url = lines[0] + "".join(part.strip() for part in lines[1:])
        path, _, query = url.partition("?")
        params = dict(parse_qsl(query.replace("…", world.users["tina"]), keep_blank_values=True))
        body = ok(world.client.get(path, params=params, headers=world.headers["admin"]))
        assert body["value"], url


def test_a_worklog_carries_its_weeks_approval_state(world: Seeded) -> None:
    """Tina submits week 2026-W02: her worklogs in it read ``submitted``, every other one
    ``open`` (a week without a status is open), as a filter and a grouping too."""
    s, c = world, world.client
    ok(c.post("/api/v1/weeks/2026-W02/submit", headers=s.headers["tina"]))
    rows = every_row(c, s.headers["admin"], "workLogs", **{"$select": "Id,UserId,Timestamp,ApprovalState"})
    tina = s.users["tina"]
    submitted = {r["Id"] for r in rows if r["ApprovalState"] == "submitted"}
    want = {
        w["id"] for w in s.worklogs if w["user"] == "tina" and "2026-01-05" <= w["at"][:10] <= "2026-01-11"
    }
    assert submitted == want and want
    assert {r["ApprovalState"] for r in rows if r["Id"] not in want} == {"open"}
    assert {r["UserId"] for r in rows if r["Id"] in submitted} == {tina}
    found = odata(c, s.headers["admin"], "workLogs", **{"$filter": "ApprovalState eq 'submitted'"})["value"]
    assert {r["Id"] for r in found} == want
