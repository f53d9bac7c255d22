"""Generated Reporting API queries, valid by construction, over every entity set and property
type (strings with quotes and wildcards, numbers, decimals, booleans, dates, date-times, null,
navigation paths, functions, and/or/not, $orderby, $select, $apply): each answers 200 on SQLite
and PostgreSQL — never a 400 for a valid query, never a 500 (a literal the SQL could not type).

``STINT_ODATA_EXAMPLES`` (default 150) sets the number of generated queries per engine for a
longer local run; ``--hypothesis-seed`` picks a different draw.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import FixedClock
from core.reporting import MODEL, Edm, EntitySet, Property
from tests.conftest import make_settings
from tests.integration.reporting_support import ODATA, Seeded, seed
from tests.support.api import api_client


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Seeded]:
    """One seeded tenant per engine for all generated queries (they only read)."""
    from tests.support import databases

    root = tmp_path_factory.mktemp("generated")
    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'stint.sqlite3'}"
    else:
        name, url = databases.create_from_template(request.getfixturevalue("postgres_template"))
    settings_ = make_settings(
        url,
        root,
        STINT_ACCESS_TOKEN_MINUTES="1440",
        STINT_RATE_LIMIT_API="100000000",
        STINT_RATE_LIMIT_CLIENT="1000000",
    )
    try:
        with api_client(settings_, FixedClock(datetime(2026, 1, 1, 9, tzinfo=UTC))) as client:
            yield seed(client, count=12)
    finally:
        if name is not None:
            databases.drop(name)


#: Generated queries per engine: CI's count unless a longer local run asks for more.
EXAMPLES = int(os.environ.get("STINT_ODATA_EXAMPLES", "150"))
TEXT = st.text(alphabet=st.sampled_from("ab Zé'%_\\/-.,()*ü😀"), max_size=8)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _literal(prop: Property) -> st.SearchStrategy[str]:
    edm = prop.edm
    if edm is Edm.STRING:
        return TEXT.map(_quote)
    # Now and then a number past 64 bits (in storage terms too: money is kept in minor units).
    if edm is Edm.INT64:
        return st.one_of(st.integers(-(10**12), 10**12), st.integers(-(10**30), 10**30)).map(str)
    if edm is Edm.DECIMAL:
        return st.one_of(
            st.decimals(-(10**6), 10**6, places=2, allow_nan=False, allow_infinity=False),
            st.decimals(-(10**30), 10**30, places=2, allow_nan=False, allow_infinity=False),
        ).map(str)
    if edm is Edm.BOOLEAN:
        return st.sampled_from(["true", "false"])
    if edm is Edm.DATE:
        return st.dates(min_value=date(1000, 1, 1)).map(lambda d: d.isoformat())
    return st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(UTC)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
    )


def _paths(entity_set: EntitySet) -> list[tuple[str, Property]]:
    found = [(p.name, p) for p in entity_set.properties]
    for nav in entity_set.navigations:
        found += [(f"{nav.name}/{p.name}", p) for p in MODEL[nav.target].properties]
    return found


@st.composite
def condition(draw: st.DrawFn, entity_set: EntitySet, depth: int = 0) -> str:
    if depth < 2 and draw(st.booleans()):
        kind = draw(st.sampled_from(["and", "or", "not"]))
        if kind == "not":
            return f"not ({draw(condition(entity_set, depth + 1))})"
        return f"({draw(condition(entity_set, depth + 1))}) {kind} ({draw(condition(entity_set, depth + 1))})"
    path, prop = draw(st.sampled_from(_paths(entity_set)))
    choice = draw(st.integers(0, 4))
    if choice == 0:
        return f"{path} {draw(st.sampled_from(['eq', 'ne']))} null"
    if prop.edm is Edm.STRING and choice == 1:
        func = draw(st.sampled_from(["contains", "startswith", "endswith"]))
        inner = draw(st.sampled_from([path, f"tolower({path})", f"toupper({path})"]))
        return f"{func}({inner},{_quote(draw(TEXT))})"
    if prop.edm.temporal and choice == 1:
        part = draw(st.sampled_from(["year", "month", "day"]))
        return f"{part}({path}) {draw(st.sampled_from(['eq', 'ge', 'lt']))} {draw(st.integers(0, 3000))}"
    if prop.edm is Edm.BOOLEAN and choice == 1:
        return draw(st.sampled_from([path, f"not {path}"]))
    if choice == 2 and prop.edm is not Edm.BOOLEAN:
        # Two or more: odata-query reads "(x)" as a parenthesised value, not a list of one
        # (docs/reporting.md says to write eq for one value).
        values = draw(st.lists(_literal(prop), min_size=2, max_size=4))
        return f"{path} in ({','.join(values)})"
    op = draw(st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]))
    return f"{path} {op} {draw(_literal(prop))}"


@st.composite
def queries(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    entity_set = MODEL[draw(st.sampled_from(list(MODEL)))]
    options = {"$filter": draw(condition(entity_set))}
    own = [p.name for p in entity_set.properties]
    if draw(st.booleans()):
        paths = draw(
            st.lists(st.sampled_from(_paths(entity_set)), min_size=1, max_size=2, unique_by=lambda x: x[0])
        )
        options["$orderby"] = ",".join(f"{p} {draw(st.sampled_from(['asc', 'desc']))}" for p, _ in paths)
    if draw(st.booleans()):
        options["$select"] = ",".join(
            draw(st.lists(st.sampled_from(own), min_size=1, max_size=3, unique=True))
        )
    elif entity_set.navigations and draw(st.booleans()):
        options["$expand"] = draw(st.sampled_from(entity_set.navigations)).name
    if draw(st.integers(0, 3)) == 0:
        options.pop("$orderby", None)
        options.pop("$select", None)
        options.pop("$expand", None)
        group, _ = draw(st.sampled_from(_paths(entity_set)))
        numbers = [p for p, prop in _paths(entity_set) if prop.edm.numeric]
        measure = draw(st.sampled_from(numbers)) if numbers else None
        method = draw(st.sampled_from(["sum", "min", "max", "average", "countdistinct"]))
        aggregate = f"{measure} with {method} as M," if measure else ""
        options["$apply"] = (
            f"filter({options.pop('$filter')})/groupby(({group}),aggregate({aggregate}$count as N))"
        )
    options["$count"] = draw(st.sampled_from(["true", "false"]))
    return entity_set.name, options


def _check(world: Seeded, case: tuple[str, dict[str, str]]) -> None:
    name, options = case
    answer = world.client.get(
        f"{ODATA}/{name}", params=options, headers={**world.headers["admin"], "Prefer": "odata.maxpagesize=5"}
    )
    assert answer.status_code == 200, (name, options, answer.text[:300])
    body: dict[str, Any] = answer.json()
    assert isinstance(body["value"], list)
    # The same query as a Team user: it answers too, and shows only their own worklogs.
    mine = world.client.get(f"{ODATA}/{name}", params=options, headers=world.headers["tina"])
    assert mine.status_code == 200, (name, options, mine.text[:300])
    if name == "workLogs" and "$apply" not in options and "$select" not in options:
        assert {r["UserId"] for r in mine.json()["value"]} <= {world.users["tina"]}
    link = body.get("@odata.nextLink")
    if link is not None:
        nxt = world.client.get(
            "/" + link.split("://", 1)[1].split("/", 1)[1],
            headers={**world.headers["admin"], "Prefer": "odata.maxpagesize=5"},
        )
        assert nxt.status_code == 200, (name, options, nxt.text[:300])


@given(case=queries())
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_generated_valid_queries_answer_200(world: Seeded, case: tuple[str, dict[str, str]]) -> None:
    _check(world, case)


@pytest.mark.parametrize("order", ["Id asc,WorkItem/ParentId desc", "Id desc,WorkItem/IterationId desc"])
def test_paging_by_a_key_then_a_nullable_path_descending_reads_every_worklog_once(
    world: Seeded, order: str,
) -> None:
    """Found by the generated queries: a page ending on a row whose second order value is
    NULL (sorted last when descending) left the cursor's SQL one placeholder short (500)."""
    headers = {**world.headers["admin"], "Prefer": "odata.maxpagesize=5"}
    options = {"$orderby": order, "$select": "Id"}
    answer = world.client.get(f"{ODATA}/workLogs", params=options, headers=headers)
    ids: list[str] = []
    while True:
        assert answer.status_code == 200, answer.text[:300]
        body = answer.json()
        ids += [row["Id"] for row in body["value"]]
        link = body.get("@odata.nextLink")
        if link is None:
            break
        answer = world.client.get("/" + link.split("://", 1)[1].split("/", 1)[1], headers=headers)
    assert sorted(ids, reverse=order.startswith("Id desc")) == ids
    assert sorted(ids) == sorted(w["id"] for w in world.worklogs)


@pytest.mark.parametrize(
    ("name", "condition", "everything"),
    [
        ("workItems", "Id eq 9223372036854775808", False),
        ("workItems", "Id in (1,-9223372036854775809)", None),
        ("workItems", "year(ChangedTimestamp) eq 99999999999999999999", False),
        ("workItems", "OriginalEstimate gt 100000000000000000", False),
        ("workLogs", "Amount lt 1e30", None),
        ("workLogs", "99999999999999999999 gt PeriodLength", True),
    ],
)
def test_a_number_beyond_64_bits_is_compared_like_any_other_not_answered_500(
    world: Seeded, name: str, condition: str, everything: bool | None,
) -> None:
    """Found by wider generated queries: an integer literal (or a money or hours literal in
    storage terms) outside 64 bits reached the engine as an int neither could bind (500)."""
    answer = world.client.get(
        f"{ODATA}/{name}", params={"$filter": condition, "$count": "true"}, headers=world.headers["admin"]
    )
    assert answer.status_code == 200, answer.text[:300]
    count = answer.json()["@odata.count"]
    if everything is not None:
        every = world.client.get(f"{ODATA}/{name}", params={"$count": "true"}, headers=world.headers["admin"])
        assert count == (every.json()["@odata.count"] if everything else 0)


@pytest.mark.parametrize(
    "literal", ["1e100", "-1" + "0" * 100, "1.5e-400", "0." + "0" * 100 + "1", "1e999999999"]
)
def test_a_number_literal_past_a_hundred_digits_is_refused_with_400(world: Seeded, literal: str) -> None:
    """Beyond any stored value by far; refused before it is scaled or bound (1e999999999 in
    minor units overflowed the decimal context)."""
    answer = world.client.get(
        f"{ODATA}/workLogs", params={"$filter": f"Amount lt {literal}"}, headers=world.headers["admin"]
    )
    assert answer.status_code == 400, answer.text[:300]
    assert "out of range" in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("name", "condition"),
    [
        ("workLogs", "Timestamp gt 9999-12-31T23:59:59-14:00"),
        ("iterations", "StartDate lt 9999-12-31T20:00:00-05:00"),
    ],
)
def test_a_date_time_past_year_9999_in_utc_is_refused_with_400_not_a_500(
    world: Seeded, name: str, condition: str,
) -> None:
    """Found by wider generated queries: converting such a literal to UTC overflowed (500)."""
    options = {"$filter": condition}
    answer = world.client.get(f"{ODATA}/{name}", params=options, headers=world.headers["admin"])
    assert answer.status_code == 400, answer.text[:300]
    assert "out of range" in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "condition"),
    [
        ("workLogs", "Comment eq 'a\x00b'"),
        ("workLogs", "contains(Comment,'\x00')"),
        ("users", "Name in ('x','\x00')"),
        ("workLogs('a%00b')", None),
    ],
)
def test_a_text_literal_with_a_nul_character_is_refused_with_400_on_both_engines(
    world: Seeded, path: str, condition: str | None,
) -> None:
    """Found by wider generated queries: PostgreSQL's text cannot hold U+0000, so such a
    literal failed there as a 500 (no stored text holds one: every write refuses it)."""
    options = {} if condition is None else {"$filter": condition}
    answer = world.client.get(f"{ODATA}/{path}", params=options, headers=world.headers["admin"])
    assert answer.status_code == 400, answer.text[:300]
    assert "U+0000" in answer.json()["error"]["message"]
