"""The work item rules: field checks and the hierarchy (no cycles at any depth)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ValidationFailed
from core.work_items.errors import UnknownParent, WorkItemCycle
from core.work_items.rules import (
    ancestors,
    check_hours,
    check_parent,
    check_title,
    check_type,
    descendants,
    would_cycle,
)


def test_a_title_is_trimmed_and_must_hold_one_to_255_characters() -> None:
    assert check_title("  Fix login \n") == "Fix login"
    assert check_title("x" * 255) == "x" * 255
    for bad in ("", "   ", "x" * 256, "tab\tinside"):
        with pytest.raises(ValidationFailed) as caught:
            check_title(bad)
        assert caught.value.field == "title"


def test_any_non_empty_type_up_to_64_characters_is_allowed_not_only_the_usual_ones() -> None:
    assert check_type("Bug") == "Bug"
    assert check_type(" Risk ") == "Risk"
    with pytest.raises(ValidationFailed):
        check_type(" ")
    with pytest.raises(ValidationFailed):
        check_type("t" * 65)


@pytest.mark.parametrize("hours", ["0", "1.5", "8.25", "1E+2", "1000000", "3.10"])
def test_hours_are_non_negative_with_at_most_two_places(hours: str) -> None:
    assert check_hours(Decimal(hours), "remaining_h") == Decimal(hours)


@pytest.mark.parametrize("hours", ["-0.01", "1.005", "NaN", "Infinity", "1000000.01"])
def test_negative_finer_than_a_hundredth_or_not_finite_hours_are_refused(hours: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_hours(Decimal(hours), "remaining_h")
    assert caught.value.field == "remaining_h"


def test_a_parent_must_exist_and_may_not_be_the_item_or_below_it() -> None:
    parents = {1: None, 2: 1, 3: 2, 4: 3, 9: None}
    check_parent(4, 9, parents)
    check_parent(None, 4, parents)
    with pytest.raises(UnknownParent):
        check_parent(None, 77, parents)
    with pytest.raises(WorkItemCycle):
        check_parent(1, 1, parents)
    with pytest.raises(WorkItemCycle):
        check_parent(1, 4, parents)  # 4 is three levels below 1
    assert descendants(1, parents) == {2, 3, 4}
    assert descendants(3, parents) == {4}
    assert ancestors(4, parents) == [3, 2, 1]


def test_a_cycle_already_in_a_mirror_does_not_hang_the_walks() -> None:
    parents: dict[int, int | None] = {1: 2, 2: 1, 3: 1}
    assert ancestors(3, parents) == [1, 2]
    assert descendants(1, parents) == {2, 3}


def _naive_ancestors(item: int, parents: dict[int, int | None]) -> set[int]:
    """The reference: follow parents one step at a time (the map is acyclic here)."""
    parent = parents.get(item)
    return set() if parent is None else {parent} | _naive_ancestors(parent, parents)


def _has_cycle(parents: dict[int, int | None]) -> bool:
    for start in parents:
        seen = {start}
        current = parents.get(start)
        while current is not None:
            if current in seen:
                return True
            seen.add(current)
            current = parents.get(current)
    return False


@st.composite
def forests(draw: st.DrawFn) -> dict[int, int | None]:
    """Any forest: each item's parent is an item created before it, or none."""
    ids = draw(st.lists(st.integers(1, 10_000), min_size=1, max_size=40, unique=True))
    parents: dict[int, int | None] = {}
    for n, item in enumerate(ids):
        parents[item] = draw(st.one_of(st.none(), st.sampled_from(ids[:n]))) if n else None
    return parents


@settings(max_examples=300, deadline=None)
@given(forests(), st.data())
def test_would_cycle_agrees_with_a_naive_walk_and_descendants_invert_ancestors(
    parents: dict[int, int | None], data: st.DataObject
) -> None:
    ids = sorted(parents)
    item = data.draw(st.sampled_from(ids))
    parent = data.draw(st.sampled_from(ids))
    assert would_cycle(item, parent, parents) == (item == parent or item in _naive_ancestors(parent, parents))
    assert descendants(item, parents) == {other for other in ids if item in _naive_ancestors(other, parents)}


@settings(max_examples=200, deadline=None)
@given(forests(), st.lists(st.tuples(st.integers(0, 39), st.integers(-1, 39)), max_size=30))
def test_any_sequence_of_accepted_reparentings_keeps_the_tree_free_of_cycles(
    parents: dict[int, int | None], moves: list[tuple[int, int]]
) -> None:
    ids = sorted(parents)
    for item_at, parent_at in moves:
        item = ids[item_at % len(ids)]
        parent = None if parent_at < 0 else ids[parent_at % len(ids)]
        try:
            check_parent(item, parent, parents)
        except WorkItemCycle:
            continue
        parents[item] = parent
        assert not _has_cycle(parents)
