"""The Reporting API's query model (core/reporting): validation against the entity model,
its limits, and who sees which rows; and the OData options parsed into it
(plugins/reporting/parsing.py and filter_parsing.py, through odata-query)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core.reporting import MAX_DEPTH, MODEL, Query, QueryRefused, Viewer, validate, visible_rows
from core.reporting.query import (
    Aggregate,
    AggregateStep,
    BoolOp,
    Compare,
    Computed,
    ComputeStep,
    Expand,
    Func,
    GroupBy,
    HitBy,
    ListValue,
    Not,
    OrderItem,
    Path,
    Value,
)
from plugins.reporting.filter_parsing import parse_filter
from plugins.reporting.parsing import parse_options


def _refused(query: Query) -> QueryRefused:
    with pytest.raises(QueryRefused) as caught:
        validate(query)
    return caught.value


def test_every_navigation_names_a_set_and_a_property_of_its_own_set() -> None:
    for entity_set in MODEL.values():
        assert entity_set.prop(entity_set.key) is not None
        for nav in entity_set.navigations:
            assert nav.target in MODEL and entity_set.prop(nav.local) is not None


def test_an_unknown_property_is_refused_naming_it() -> None:
    refused = _refused(Query("workLogs", Compare("eq", Path(("Colour",)), Value("red"))))
    assert refused.status == 400 and "'Colour'" in refused.detail
    assert (
        "'WorkItem/Colour'"
        in _refused(Query("workLogs", select=(), orderby=(OrderItem(Path(("WorkItem", "Colour"))),))).detail
    )
    assert "'Nope'" in _refused(Query("workLogs", expand=(Expand("Nope"),))).detail


def test_two_levels_of_navigation_are_refused() -> None:
    query = Query("workLogs", Compare("eq", Path(("WorkItem", "Parent", "Title")), Value("x")))
    assert "one level" in _refused(query).detail


def test_a_comparison_of_different_types_is_refused_and_numbers_and_dates_mix_within_kind() -> None:
    assert "compare" in _refused(Query("workLogs", Compare("eq", Path(("PeriodLength",)), Value("x")))).detail
    validate(Query("workLogs", Compare("gt", Path(("Amount",)), Value(5))))
    validate(Query("workLogs", Compare("ge", Path(("Timestamp",)), Value(date(2026, 1, 1)))))


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    expr = Compare("eq", Path(("PeriodLength",)), Value(1))
    for _ in range(MAX_DEPTH + 1):
        expr = Not(expr)
    assert "deeper" in _refused(Query("workLogs", expr)).detail


def test_more_terms_than_the_limit_are_refused() -> None:
    expr = Compare("eq", Path(("PeriodLength",)), Value(0))
    for n in range(1, 80):
        expr = BoolOp("or", expr, Compare("eq", Path(("PeriodLength",)), Value(n)))
    assert "terms" in _refused(Query("workLogs", expr)).detail


def test_apply_rules_sum_needs_a_number_aliases_are_new_and_nothing_follows_a_grouping() -> None:
    text = Path(("Comment",))
    assert (
        "sum needs a number"
        in _refused(Query("workLogs", apply=(AggregateStep((Aggregate(text, "sum", "S"),)),))).detail
    )
    assert (
        "alias"
        in _refused(Query("workLogs", apply=(AggregateStep((Aggregate(None, "count", "Comment"),)),))).detail
    )
    grouped = GroupBy((Path(("UserId",)),), (Aggregate(None, "count", "N"),))
    assert "follow" in _refused(Query("workLogs", apply=(grouped, grouped))).detail
    assert (
        "neither grouped"
        in _refused(Query("workLogs", apply=(grouped,), orderby=(OrderItem(Path(("Comment",))),))).detail
    )
    validate(Query("workLogs", apply=(grouped,), orderby=(OrderItem(Path(("N",)), True),)))


def test_team_sees_their_own_worklogs_user_row_and_the_budgets_they_hit_others_see_everything() -> None:
    team = Viewer("u1", sees_everyone=False)
    assert visible_rows(MODEL["workLogs"], team) == Compare("eq", Path(("UserId",)), Value("u1"))
    assert visible_rows(MODEL["users"], team) == Compare("eq", Path(("Id",)), Value("u1"))
    assert visible_rows(MODEL["budgets"], team) == HitBy("u1")
    assert visible_rows(MODEL["workItems"], team) is None
    assert all(visible_rows(s, Viewer("u2", sees_everyone=True)) is None for s in MODEL.values())


def test_the_odata_parser_output_is_translated_into_the_query_model() -> None:
    expr = parse_filter("WorkItem/Type eq 'Bug' and not contains(Comment,'it''s') or UserId in ('a','b')")
    assert expr == BoolOp(
        "or",
        BoolOp(
            "and",
            Compare("eq", Path(("WorkItem", "Type")), Value("Bug")),
            Not(Func("contains", (Path(("Comment",)), Value("it's")))),
        ),
        Compare("in", Path(("UserId",)), ListValue((Value("a"), Value("b")))),
    )
    assert parse_filter("Timestamp ge 2026-01-05T10:00:00+01:00") == Compare(
        "ge", Path(("Timestamp",)), Value(datetime(2026, 1, 5, 9, tzinfo=UTC))
    )
    assert parse_filter("Amount lt -1.5") == Compare("lt", Path(("Amount",)), Value(Decimal("-1.5")))
    assert parse_filter("year(StartDate) eq 2026") == Compare(
        "eq", Func("year", (Path(("StartDate",)),)), Value(2026)
    )


def test_the_other_options_are_read_strictly() -> None:
    query = parse_options(
        "workLogs",
        {
            "$select": "Id,PeriodLength",
            "$orderby": "Timestamp desc, Id",
            "$top": "10",
            "$skip": "5",
            "$count": "true",
            "$expand": "WorkItem($select=Title,Type),User",
            "$apply": "filter(PeriodLength gt 0)/groupby((UserId,WorkItem/Type),"
            "aggregate(PeriodLength with sum as T,$count as N))",
        },
    )
    assert query.select == (Path(("Id",)), Path(("PeriodLength",)))
    assert query.orderby == (OrderItem(Path(("Timestamp",)), True), OrderItem(Path(("Id",))))
    assert (query.top, query.skip, query.count) == (10, 5, True)
    assert query.expand == (Expand("WorkItem", ("Title", "Type")), Expand("User"))
    assert query.apply[1] == GroupBy(
        (Path(("UserId",)), Path(("WorkItem", "Type"))),
        (Aggregate(Path(("PeriodLength",)), "sum", "T"), Aggregate(None, "count", "N")),
    )


@pytest.mark.parametrize(
    "options, status, named",
    [
        ({"$search": "x"}, 400, "$search"),
        ({"$compute": "x"}, 501, "$compute"),
        ({"$wat": "x"}, 400, "$wat"),
        ({"$filter": "length(Comment) eq 1"}, 501, "length"),
        ({"$filter": "Comment eq"}, 400, "$filter"),
        ({"$filter": "(((Comment eq 'x')"}, 400, "$filter"),
        ({"$orderby": "Id, Timestamp up"}, 400, "up"),
        ({"$apply": "groupby(UserId)"}, 400, "parentheses"),
        ({"$apply": "topcount(5,PeriodLength)"}, 501, "topcount"),
        ({"$expand": "WorkItem($top=1)"}, 400, "$top"),
        ({"$top": "ten"}, 400, "$top"),
        ({"$count": "yes"}, 400, "$count"),
    ],
)
def test_a_bad_option_is_refused_naming_it(options: dict[str, str], status: int, named: str) -> None:
    with pytest.raises(QueryRefused) as caught:
        parse_options("workLogs", options)
    assert caught.value.status == status and named in caught.value.detail


def test_a_filter_of_too_many_tokens_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(QueryRefused, match="tokens"):
        parse_filter(" or ".join(["PeriodLength eq 1"] * 10_000))
    with pytest.raises(QueryRefused, match="tokens"):
        parse_filter("(" * 5_000 + "PeriodLength eq 1" + ")" * 5_000)


_MONTHLY = (
    "compute(year(Timestamp) as Year,month(Timestamp) as Month)"
    "/groupby((User/Id,Year,Month),aggregate(PeriodLength with sum as Total))"
)


def test_compute_reads_date_parts_as_new_properties_that_groupby_may_name() -> None:
    query = parse_options("workLogs", {"$apply": _MONTHLY, "$orderby": "Month desc"})
    assert query.apply[0] == ComputeStep(
        (
            Computed(Func("year", (Path(("Timestamp",)),)), "Year"),
            Computed(Func("month", (Path(("Timestamp",)),)), "Month"),
        )
    )
    assert query.apply[1] == GroupBy(
        (Path(("User", "Id")), Path(("Year",)), Path(("Month",))),
        (Aggregate(Path(("PeriodLength",)), "sum", "Total"),),
    )
    assert validate(query) is MODEL["workLogs"]
    # A date (iterations' StartDate) has date parts too.
    validate(parse_options("iterations", {"$apply": "compute(day(StartDate) as D)/groupby((D))"}))


@pytest.mark.parametrize(
    "apply, status, named",
    [
        ("compute(month(PeriodLength) as M)/groupby((M))", 400, "month takes a date"),
        ("compute(month(Comment) as M)/groupby((M))", 400, "month takes a date"),
        ("compute(frobnicate(Timestamp) as M)/groupby((M))", 400, "compute cannot be parsed"),
        ("compute(hour(Timestamp) as H)/groupby((H))", 501, "hour"),
        ("compute(PeriodLength as X)/groupby((X))", 501, "compute"),
        ("compute(month(Nope) as M)/groupby((M))", 400, "'Nope'"),
        ("compute(month(Timestamp) as Comment)/groupby((Comment))", 400, "alias"),
        ("compute(month(Timestamp) as M,year(Timestamp) as M)/groupby((M))", 400, "twice"),
        ("compute(month(Timestamp) as M)/groupby((M),aggregate($count as M))", 400, "twice"),
        ("compute(month(Timestamp) M)/groupby((M))", 400, "compute"),
        ("compute(month(2026-01-01) as M)/groupby((M))", 400, "one property"),
        ("compute(month(Timestamp) as M)", 501, "before groupby"),
        ("groupby((M),aggregate($count as N))", 400, "'M'"),
        ("compute(month(Timestamp) as M)/filter(M eq 1)/groupby((M))", 400, "'M'"),
    ],
)
def test_a_bad_compute_is_refused_naming_what_is_wrong(apply: str, status: int, named: str) -> None:
    with pytest.raises(QueryRefused) as caught:
        validate(parse_options("workLogs", {"$apply": apply}))
    assert caught.value.status == status and named in caught.value.detail, caught.value.detail
