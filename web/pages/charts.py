"""Charts drawn on the server as SVG geometry (no library, no JavaScript, no CDN).

The templates (``budgets/_bar.html``, ``budgets/_chart.html``, ``reports/_bars.html``)
draw what these records hold. Every position comes from integers (seconds, minor units, day numbers)
through exact fractions and is rounded once, half-even, to 0.01 of an SVG unit — so a
value equal to the limit lands exactly on the limit's line, whatever the scale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from core.money import round_half_even

__all__ = [
    "BarChart", "BurnBar", "LineChart", "bar_chart", "burn_bar", "half_even", "line_chart", "svg_number",
]


def svg_number(value: Fraction | int) -> str:
    """A coordinate to two places, rounded once (half-even): 12.5 → "12.50"."""
    if isinstance(value, int):
        return f"{value}.00"
    hundredths = round_half_even(Fraction(value) * 100)
    sign = "-" if hundredths < 0 else ""
    whole, part = divmod(abs(hundredths), 100)
    return f"{sign}{whole}.{part:02d}"


def half_even(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` (denominator > 0) rounded half-even in integers: the same
    answer as ``round(Fraction(...))`` without a Fraction (a chart has thousands of these)."""
    quotient, remainder = divmod(numerator, denominator)
    if 2 * remainder > denominator or (2 * remainder == denominator and quotient % 2):
        quotient += 1
    return quotient


def _svg_ratio(numerator: int, denominator: int) -> str:
    """``numerator / denominator`` as :func:`svg_number` writes it."""
    hundredths = half_even(numerator * 100, denominator)
    sign = "-" if hundredths < 0 else ""
    whole, part = divmod(abs(hundredths), 100)
    return f"{sign}{whole}.{part:02d}"


@dataclass(frozen=True, slots=True)
class BurnBar:
    """How much of a limit is used: the bar's fill, and the words that say the same."""

    used: int
    limit: int
    fill: str
    """The used part's width in percent of the bar (at most 100)."""
    percent: int
    """Used of the limit in whole percent, rounded down (100 only when all is used)."""
    over: bool
    over_by: int
    """How far past the limit (0 when not over)."""


def burn_bar(used: int, limit: int) -> BurnBar:
    """``used`` against ``limit`` (same unit). A zero limit is used up by anything."""
    if limit <= 0:
        return BurnBar(used, limit, "100.00" if used > 0 else "0.00", 100 if used > 0 else 0,
                       used > 0, max(used, 0))
    share = Fraction(max(used, 0), limit)
    return BurnBar(
        used=used, limit=limit, fill=svg_number(min(share, Fraction(1)) * 100),
        percent=int(share * 100), over=used > limit, over_by=max(used - limit, 0),
    )


@dataclass(frozen=True, slots=True)
class Tick:
    at: str
    label: str


@dataclass(frozen=True, slots=True)
class LineChart:
    """A line chart over days: the actual line, an ideal line, the zero line and the ticks."""

    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    points: str
    """The actual line's ``points`` (one per day)."""
    ideal: str | None
    """The ideal line's ``points`` (from the limit on the first day to 0 on the last)."""
    zero_y: str
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    last_x: str
    last_y: str
    second: str | None = None
    """A second line's ``points`` over the same days (the burndown's Completed Work)."""


def line_chart(
    days: Sequence[date],
    values: Sequence[int],
    *,
    axis_end: date,
    ideal_from: int | None,
    label: Callable[[int], str],
    width: int = 640,
    height: int = 260,
    second: Sequence[int] | None = None,
) -> LineChart:
    """``values[i]`` on ``days[i]``, on an x axis from ``days[0]`` to ``axis_end`` (the line
    stops at its last day: today, before a budget's end). ``ideal_from``: draw the ideal line
    from that value on the first day down to 0 on ``axis_end``. ``second``: another line over
    the same days, on the same scale."""
    if not days or len(days) != len(values) or (second is not None and len(second) != len(days)):
        raise ValueError("a chart needs one value per day, and at least one day")
    left, right, top, bottom = 72, 16, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    first = days[0]
    span = max((axis_end - first).days, 1)
    highest = max(0, *values, *(second or ()), ideal_from or 0)
    lowest = min(0, *values, *(second or ()))
    if highest == lowest:
        highest = lowest + 1

    def x(day: date) -> Fraction:
        return left + Fraction((day - first).days, span) * plot_w

    def y(value: int) -> Fraction:
        return top + Fraction(highest - value, highest - lowest) * plot_h

    def polyline(line: Sequence[int]) -> str:
        return " ".join(f"{svg_number(x(d))},{svg_number(y(v))}" for d, v in zip(days, line, strict=True))

    points = polyline(values)
    ideal = None
    if ideal_from is not None:
        start_point = f"{svg_number(x(first))},{svg_number(y(ideal_from))}"
        ideal = f"{start_point} {svg_number(x(axis_end))},{svg_number(y(0))}"
    y_values = sorted({highest, lowest, 0, *(v for v in (ideal_from,) if v is not None)}, reverse=True)
    y_ticks = [Tick(svg_number(y(v)), label(v)) for v in y_values]
    # Today's date is labelled only when it is clear of both ends (the labels would overlap).
    x_days = [first, axis_end] if axis_end != first else [first]
    if min((days[-1] - first).days, (axis_end - days[-1]).days) * 5 >= span:
        x_days.insert(1, days[-1])
    x_ticks = [Tick(svg_number(x(d)), d.isoformat()) for d in x_days]
    return LineChart(
        width=width, height=height, left=left, top=top, right=left + plot_w, bottom=top + plot_h,
        points=points, ideal=ideal, zero_y=svg_number(y(0)), y_ticks=y_ticks, x_ticks=x_ticks,
        last_x=svg_number(x(days[-1])), last_y=svg_number(y(values[-1])),
        second=None if second is None else polyline(second),
    )


@dataclass(frozen=True, slots=True)
class Segment:
    """One rectangle of a bar: its series, value (as drawn and as words) and geometry."""

    series: int
    value: int
    text: str
    x: str
    y: str
    width: str
    height: str


@dataclass(frozen=True, slots=True)
class BarRow:
    label: str
    y: str
    segments: list[Segment]
    total: str
    end_x: str


@dataclass(frozen=True, slots=True)
class BarChart:
    """Horizontal bars, one row per category: stacked (segments end to end) or grouped (one
    thin bar per series). The scale runs from 0 to the largest row (stacked: its sum)."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    rows: list[BarRow]
    series: list[str]
    max_label: str
    stacked: bool


#: How long a row label may be inside the drawing (the table beside it has the whole text).
_LABEL_CHARS = 22


def bar_chart(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], *, label: Callable[[int], str],
    stacked: bool, width: int = 640,
) -> BarChart:
    """``series[j][1][i]``: series j's value for ``labels[i]``; negative values draw as 0."""
    if any(len(values) != len(labels) for _, values in series):
        raise ValueError("every series needs one value per label")
    left, right_pad, top, row_gap = 168, 72, 8, 8
    bar_h = 18 if stacked else 10
    row_h = (bar_h if stacked else bar_h * len(series)) + row_gap
    plot_w = width - left - right_pad
    each = [[max(v[i], 0) for _, v in series] for i in range(len(labels))]
    sums = [sum(values) if stacked else max(values, default=0) for values in each]
    highest = max(sums, default=0) or 1
    rows = []
    # Positions as integers over ``highest`` (exact), each written rounded once.
    for i, name in enumerate(labels):
        y0 = top + i * row_h
        x = left * highest
        segments = []
        for j, (_, values) in enumerate(series):
            w = max(values[i], 0) * plot_w
            y = y0 if stacked else y0 + j * bar_h
            segments.append(Segment(j, values[i], label(values[i]), _svg_ratio(x, highest), svg_number(y),
                                    _svg_ratio(w, highest), svg_number(bar_h)))
            if stacked:
                x += w
        end = (left + 4) * highest + sums[i] * plot_w
        short = name if len(name) <= _LABEL_CHARS else name[: _LABEL_CHARS - 1] + "…"
        rows.append(BarRow(short, svg_number(y0), segments, label(sums[i]), _svg_ratio(end, highest)))
    height = top + max(len(labels), 1) * row_h + 4
    return BarChart(width, height, left, left + plot_w, top, height - 4, rows, [n for n, _ in series],
                    label(highest if any(sums) else 0), stacked)
