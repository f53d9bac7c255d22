"""The keyboard timesheet's cells (core.tracking.cells): durations as people type them, and
what writing a cell's total does to the worklogs under it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationFailed
from core.tracking import Worklog
from core.tracking.cells import (
    MAX_DAY_S,
    AddWorklog,
    ChangeLength,
    ClearCell,
    KeepCell,
    format_hm,
    parse_duration,
    plan_cell,
)

from .factories import a_worklog

minutes_in_a_day = st.integers(min_value=1, max_value=24 * 60)


def spellings(minutes: int) -> list[str]:
    """Every way the grid reads a whole number of minutes."""
    hours, rest = divmod(minutes, 60)
    ways = [f"{hours}:{rest:02d}", f"{minutes}m", f"{minutes} min", f"{minutes} minutes"]
    if hours and rest:
        ways += [f"{hours}h {rest}m", f"{hours}h{rest}m", f"{hours}h{rest}", f"{hours} h {rest} min"]
    if hours and not rest:
        ways += [f"{hours}h", f"{hours} hours", f"{hours}", f"{hours}.0", f"{hours},0"]
    if rest == 30:
        ways += [f"{hours}.5", f"{hours},5", f"{hours}.5h"]
    if rest == 15:
        ways += [f"{hours}.25", f"{hours},25"]
    return ways


@given(minutes_in_a_day)
def test_every_spelling_of_a_duration_reads_as_the_same_seconds(minutes: int) -> None:
    for text in spellings(minutes):
        assert parse_duration(text) == minutes * 60, text
        assert parse_duration(f"  {text.upper()}  ") == minutes * 60, text


@given(st.integers(min_value=1, max_value=MAX_DAY_S // 60))
def test_a_duration_read_back_from_its_label_is_the_same(minutes: int) -> None:
    assert parse_duration(format_hm(minutes * 60)) == minutes * 60


@given(st.integers(min_value=24 * 60 + 1, max_value=99 * 60 + 59))
def test_more_than_a_day_is_refused_however_it_is_written(minutes: int) -> None:
    hours, rest = divmod(minutes, 60)
    for text in (f"{hours}:{rest:02d}", f"{minutes}m", f"{hours}h {rest}m"):
        with pytest.raises(ValidationFailed, match="at most 24 hours"):
            parse_duration(text)


@given(st.text(alphabet="abcdefgijklopqrstuvwxyz!?;-+*/=", min_size=1, max_size=12))
def test_words_and_symbols_are_not_durations(text: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_duration(text)
    assert refused.value.field == "hours"


@pytest.mark.parametrize("text", ["", " ", "1:75", "1m30h", "h", "m", "1:3", "-1", "1.5.5", "1e2", "٣"])
def test_half_durations_are_refused_with_a_hint(text: str) -> None:
    with pytest.raises(ValidationFailed, match=r"not a duration|at most 24 hours"):
        parse_duration(text)


def test_zero_is_refused_for_a_worklog_but_clears_a_cell() -> None:
    for text in ("0", "0:00", "0m", "0h"):
        with pytest.raises(ValidationFailed):
            parse_duration(text)
        assert parse_duration(text, allow_zero=True) == 0


def lengths(*seconds: int) -> list[Worklog]:
    return [a_worklog(worklog_id=f"w{n}", length_s=s) for n, s in enumerate(seconds)]


def test_an_empty_cell_gets_one_worklog_of_the_typed_length() -> None:
    assert plan_cell([], 5400) == AddWorklog(5400)


def test_a_cell_of_one_worklog_changes_that_worklogs_length() -> None:
    assert plan_cell(lengths(3600), 5400) == ChangeLength("w0", 5400)
    assert plan_cell(lengths(3600), 600) == ChangeLength("w0", 600)


def test_a_cell_of_several_worklogs_gets_the_raise_as_one_more_worklog() -> None:
    assert plan_cell(lengths(3600, 1800), 7200) == AddWorklog(1800)


def test_lowering_a_cell_of_several_worklogs_is_refused_with_where_to_do_it() -> None:
    with pytest.raises(ValidationFailed, match=r"2 worklogs .*1h 30m.*one by one"):
        plan_cell(lengths(3600, 1800), 3600)


def test_clearing_several_worklogs_waits_for_the_confirmation() -> None:
    with pytest.raises(ValidationFailed, match="confirm"):
        plan_cell(lengths(3600, 1800), 0)
    assert plan_cell(lengths(3600, 1800), 0, confirmed=True) == ClearCell(("w0", "w1"))
    assert plan_cell(lengths(3600), 0) == ClearCell(("w0",))


def test_typing_the_total_a_cell_has_changes_nothing() -> None:
    assert plan_cell(lengths(3600, 1800), 5400) == KeepCell()
    assert plan_cell([], 0) == KeepCell()


@given(
    st.lists(st.integers(min_value=60, max_value=4 * 3600), max_size=4),
    st.integers(min_value=0, max_value=MAX_DAY_S),
)
def test_whatever_a_cell_holds_a_write_that_is_not_refused_leaves_the_typed_total(
    current: list[int], target: int
) -> None:
    worklogs = lengths(*current)
    try:
        plan = plan_cell(worklogs, target, confirmed=True)
    except ValidationFailed:
        # Only lowering a cell of several worklogs is refused once confirmed.
        assert len(current) > 1 and 0 < target < sum(current)
        return
    after = {w.id: w.length_s for w in worklogs}
    if isinstance(plan, AddWorklog):
        after["new"] = plan.length_s
    elif isinstance(plan, ChangeLength):
        after[plan.worklog_id] = plan.length_s
    elif isinstance(plan, ClearCell):
        for worklog_id in plan.worklog_ids:
            del after[worklog_id]
    assert sum(after.values()) == target
    # Existing worklogs are changed only when the cell has just one.
    if len(current) > 1 and target:
        assert {k: v for k, v in after.items() if k != "new"} == {w.id: w.length_s for w in worklogs}
