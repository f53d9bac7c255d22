"""Charts drawn on the server as SVG geometry (no library, no JavaScript, no CDN).

The templates (``budgets/_burn_bar.html``, ``budgets/_chart.svg.html``) draw what these
records hold. Every position comes from integers (seconds, minor units, day numbers)
through exact fractions and is rounded once, half-even, to 0.01 of an SVG unit — so a
value equal to the limit lands exactly on the limit's line, whatever the scale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from core.money import round_half_even

__all__ = ["BurnBar", "LineChart", "burn_bar", "line_chart", "svg_number"]


def svg_number(value: Fraction | int) -> str:
    """A coordinate to two places, rounded once (half-even): 12.5 → "12.50"."""
    hundredths = round_half_even(Fraction(value) * 100)
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
