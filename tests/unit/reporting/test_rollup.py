"""Totals with descendants against a naive walk up every item's ancestors."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.reporting.rollup import with_descendants


def _naive(parents: dict[int, int | None], own: dict[int, tuple[int, int]]) -> dict[int, tuple[int, int]]:
    total = {item: [0, 0] for item in parents}
    for item in parents:
        tracked, billable = own.get(item, (0, 0))
        node: int | None = item
        walked: set[int] = set()
        while node is not None and node in parents and node not in walked:
            walked.add(node)
            total[node][0] += tracked
            total[node][1] += billable
            node = parents[node]
    return {item: (t, b) for item, (t, b) in total.items()}


@st.composite
def forests(draw: st.DrawFn) -> tuple[dict[int, int | None], dict[int, tuple[int, int]]]:
    size = draw(st.integers(1, 40))
    # Parents only among earlier items: a forest, no cycles (the mirror refuses them).
    parents: dict[int, int | None] = {
        i: draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None for i in range(size)
    }
    own = {
        i: (draw(st.integers(0, 10_000)), draw(st.integers(0, 10_000)))
        for i in draw(st.sets(st.integers(0, size - 1)))
    }
    return parents, own


@given(forests())
def test_totals_with_descendants_equal_a_naive_walk(
    case: tuple[dict[int, int | None], dict[int, tuple[int, int]]],
) -> None:
    parents, own = case
    assert with_descendants(parents, own) == _naive(parents, own)


def test_a_deep_chain_is_fine_and_a_cycle_passes_nothing_around() -> None:
    chain: dict[int, int | None] = {i: (i - 1 if i else None) for i in range(20_000)}
    assert with_descendants(chain, {19_999: (5, 1)})[0] == (5, 1)
    cycle: dict[int, int | None] = {1: 2, 2: 1, 3: 1}
    totals = with_descendants(cycle, {1: (1, 0), 2: (2, 0), 3: (4, 0)})
    assert totals[3] == (4, 0) and totals[1][0] >= 1 and totals[2][0] >= 2
