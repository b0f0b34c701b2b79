"""The class summary's score histogram, drawn as inline SVG: no image to fetch, text that
stays text, and a size in the page's own units so it reads the same on a phone."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from grader.checks._i18n import gettext as _
from grader.outputs.wording import format_points

__all__ = ["Bar", "Histogram", "histogram"]

# The drawing's own units; the page scales it to its width (at most HISTOGRAM_MAX_WIDTH).
WIDTH, HEIGHT = 360, 170
LEFT, RIGHT, TOP, BOTTOM = 30, 8, 10, 34  # room for the count axis and the score labels
MAX_BARS = 20
MAX_LABELS = 8  # score labels under the bars; more would overlap on a phone


@dataclass(frozen=True)
class Bar:
    low: float
    high: float
    count: int
    label: str
    x: float
    y: float
    width: float
    height: float
    show_label: bool


@dataclass(frozen=True)
class Histogram:
    bars: list[Bar]
    y_ticks: list[tuple[float, int]]  # (y, count)
    mean_x: float
    median_x: float
    alt: str
    axis: str  # what the scores are in
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    base: float = HEIGHT - BOTTOM


def _edges(values: Sequence[float], top: float, whole_points: bool) -> list[float]:
    """Bar edges fitted to the scores: from just below the lowest to just above the highest
    (never past 0 or the maximum), one bar per whole point while that is at most MAX_BARS."""
    low, high = min(values), max(values)
    if whole_points:
        first, last = math.floor(low), math.ceil(high)
        if last - first + 1 <= MAX_BARS:
            return [k - 0.5 for k in range(int(first), int(last) + 2)]
    span = high - low
    if span <= 0:  # everyone has the same score: one bar around it
        pad = max(top / MAX_BARS, 0.5)
        return [low - pad / 2, low + pad / 2]
    step = _nice_step(span / MAX_BARS * 1.05)
    start = math.floor(low / step) * step
    count = max(1, math.ceil((high - start) / step + 1e-9))
    if start + count * step <= high:  # the highest score sits in the last bar, not past it
        count += 1
    return [start + k * step for k in range(count + 1)]


def _nice_step(raw: float) -> float:
    """The next 1, 2 or 5 times a power of ten at or above ``raw``."""
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw - 1e-12)


def _label(low: float, high: float, whole: bool, unit: str) -> str:
    if whole:
        return format_points(low + 0.5)
    return f"{format_points(low)}–{format_points(high)}{unit}"


def histogram(
    values: Sequence[float], *, top: float, in_points: bool, mean: float, median: float
) -> Histogram:
    """The histogram of ``values`` (scores in points out of ``top``, or percentages)."""
    whole = in_points and top.is_integer() and all(float(v).is_integer() for v in values)
    edges = _edges(values, top, whole)
    whole = whole and all((e + 0.5).is_integer() for e in edges)
    counts = [0] * (len(edges) - 1)
    for value in values:
        index = max(0, min(len(counts) - 1, _bin(edges, value)))
        counts[index] += 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    lo, hi = edges[0], edges[-1]

    def x_of(value: float) -> float:
        return LEFT + (value - lo) / (hi - lo) * plot_w

    peak = max(counts) or 1
    every = math.ceil(len(counts) / MAX_LABELS)
    unit = "" if in_points else "%"
    bars = []
    for i, n in enumerate(counts):
        x0, x1 = x_of(edges[i]), x_of(edges[i + 1])
        height = n / peak * plot_h
        bars.append(
            Bar(
                edges[i],
                edges[i + 1],
                n,
                _label(edges[i], edges[i + 1], whole, unit),
                round(x0 + 1, 2),
                round(TOP + plot_h - height, 2),
                round(max(x1 - x0 - 2, 1), 2),
                round(height, 2),
                i % every == 0,
            )
        )
    tick_step = max(1, math.ceil(peak / 4))
    y_ticks = [
        (round(TOP + plot_h - k / peak * plot_h, 2), k) for k in range(0, peak + 1, tick_step)
    ]
    shown = "; ".join(f"{b.label}: {b.count}" for b in bars if b.count)
    alt = (
        _("Histogram of the scores (points), submissions per score: {bars}")
        if in_points
        else _("Histogram of the scores (percent of the points), submissions per score: {bars}")
    ).format(bars=shown)
    axis = _("score (points)") if in_points else _("score (% of the points)")
    return Histogram(bars, y_ticks, round(x_of(mean), 2), round(x_of(median), 2), alt, axis)


def _bin(edges: Sequence[float], value: float) -> int:
    for i in range(len(edges) - 1):
        if value < edges[i + 1]:
            return i
    return len(edges) - 2
