"""The pages' SVG geometry (web/pages/charts.py): integers in, positions rounded once; and the
Reports page's projected end date."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from core.services.reports import project_end
from web.pages.charts import bar_chart, burn_bar, line_chart, svg_number


def test_svg_numbers_are_rounded_once_half_even_to_two_places() -> None:
    assert svg_number(Fraction(1, 8)) == "0.12"    # 12.5 hundredths → 12
    assert svg_number(Fraction(3, 8)) == "0.38"    # 37.5 → 38
    assert svg_number(Fraction(-1, 3)) == "-0.33"
    assert svg_number(100) == "100.00"


def test_a_burn_bar_fills_its_share_and_says_when_and_by_how_much_it_is_over() -> None:
    half = burn_bar(1800, 3600)
    assert (half.fill, half.percent, half.over, half.over_by) == ("50.00", 50, False, 0)
    over = burn_bar(39_600, 36_000)
    assert (over.fill, over.percent, over.over, over.over_by) == ("100.00", 110, True, 3600)
    exact = burn_bar(36_000, 36_000)
    assert (exact.fill, exact.percent, exact.over) == ("100.00", 100, False)
    # 2 of 3: 66.67 % wide, 66 % in words (rounded down, so 100 % means all of it).
    assert (burn_bar(2, 3).fill, burn_bar(2, 3).percent) == ("66.67", 66)
    assert burn_bar(5, 0).over and burn_bar(0, 0).fill == "0.00"


def test_a_line_chart_places_the_limit_and_zero_exactly_and_stops_the_line_at_its_last_day() -> None:
    days = [date(2026, 3, 1) + timedelta(days=n) for n in range(3)]
    chart = line_chart(days, [36_000, 18_000, -3_600], axis_end=date(2026, 3, 11), ideal_from=36_000,
                       label=str, width=640, height=260)
    # Plot: x 72..624 (552 wide), y 12..232 (220 high); values -3600..36000 (39600 span).
    points = chart.points.split()
    assert points[0] == "72.00,12.00"
    middle = f"{svg_number(72 + Fraction(552, 10))},{svg_number(12 + Fraction(18_000 * 220, 39_600))}"
    assert points[1] == middle == "127.20,112.00"
    assert points[2] == "182.40,232.00"
    assert chart.ideal == f"72.00,12.00 624.00,{chart.zero_y}"
    assert chart.zero_y == svg_number(12 + Fraction(36_000 * 220, 39_600)) == "212.00"
    assert [t.label for t in chart.y_ticks] == ["36000", "0", "-3600"]
    assert [t.label for t in chart.x_ticks] == ["2026-03-01", "2026-03-03", "2026-03-11"]


@given(
    values=st.lists(st.integers(-10**9, 10**9), min_size=1, max_size=40),
    limit=st.none() | st.integers(0, 10**9),
    extra_days=st.integers(0, 400),
)
def test_every_point_lies_inside_the_plot_and_one_per_day(
    values: list[int], limit: int | None, extra_days: int
) -> None:
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(len(values))]
    chart = line_chart(days, values, axis_end=days[-1] + timedelta(days=extra_days), ideal_from=limit,
                       label=str)
    points = [tuple(Fraction(part) for part in point.split(",")) for point in chart.points.split()]
    assert len(points) == len(values)
    for x, y in points:
        assert chart.left <= x <= chart.right and chart.top <= y <= chart.bottom
    xs = [x for x, _ in points]
    assert xs == sorted(xs)
    top = max(values)
    if limit is None or top >= limit:
        assert any(Fraction(y) == chart.top for _, y in points) or max(0, top) == 0


def test_stacked_bars_end_to_end_and_the_longest_row_spans_the_plot() -> None:
    """Rows 3+1 and 2+0 on a 400-unit plot (640 - 168 - 72): the first row fills it."""
    series = [("Billable", [3, 2]), ("Non-billable", [1, 0])]
    chart = bar_chart(["ann", "bob"], series, label=str, stacked=True)
    first, second = chart.rows
    assert [(s.x, s.width) for s in first.segments] == [("168.00", "300.00"), ("468.00", "100.00")]
    assert [(s.x, s.width) for s in second.segments] == [("168.00", "200.00"), ("368.00", "0.00")]
    assert (first.total, second.total, chart.right) == ("4", "2", 568)


def test_grouped_bars_sit_under_each_other_and_a_negative_value_draws_as_nothing() -> None:
    chart = bar_chart(["x"], [("Expected", [8]), ("Tracked", [-2])], label=str, stacked=False)
    [row] = chart.rows
    drawn = [(s.y, s.width, s.text) for s in row.segments]
    assert drawn == [("8.00", "400.00", "8"), ("18.00", "0.00", "-2")]


def test_the_projected_end_is_the_day_the_limit_is_reached_at_the_average_rate() -> None:
    start, today = date(2026, 1, 1), date(2026, 1, 10)
    # 9 of 10 in 10 days: 1 more at 0.9 a day is 1.11 days, so during the 2nd day from today.
    assert project_end(9, 10, start, today) == date(2026, 1, 12)
    assert project_end(10, 10, start, today) == today  # reached already
    assert project_end(0, 10, start, today) is None  # no rate yet
    assert project_end(5, 10, today, today) == date(2026, 1, 11)  # 5 a day: one more day
