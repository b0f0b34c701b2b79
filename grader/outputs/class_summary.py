"""The class summary page an instructor reads after a batch: OUT/index.html."""

from __future__ import annotations

import base64
import bisect
import io
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from grader.grading.results import SubmissionResult
from grader.outputs.files import atomic_write_text
from grader.outputs.pages import template_environment
from grader.outputs.wording import (
    CELL_KIND_WORDS,
    cell_kind_words,
    first_line,
    format_points,
    percent,
)

__all__ = ["SLOWEST_SHOWN", "render_summary", "write_summary"]

SLOWEST_SHOWN = 10  # rows in the "slowest submissions" table
NO_MESSAGE = "(no message)"


@dataclass
class CheckStats:
    """One check across the graded submissions."""

    name: str
    description: str
    hidden: bool
    order: int  # first appearance, to keep the assignment's order among equal pass rates
    ran: int = 0  # graded submissions that ran the check
    passed: int = 0
    not_checked: int = 0  # outcome "error": a problem in the check, not a student's failure
    not_judged: int = 0  # another check already failed what this one needs: 0 points
    messages: Counter[str] = field(default_factory=Counter)  # first lines of failures

    @property
    def failed(self) -> int:
        return self.ran - self.passed - self.not_checked - self.not_judged

    @property
    def pass_rate(self) -> float:
        return self.passed / self.ran if self.ran else 0.0

    @property
    def common_message(self) -> tuple[str, int] | None:
        # most_common keeps first-seen order among equal counts, so ties are stable.
        return self.messages.most_common(1)[0] if self.messages else None


@dataclass(frozen=True)
class Scale:
    """What scores are shown in: points when every graded submission has the same maximum,
    else percentages (averaging points out of different maxima would mean nothing)."""

    top: float
    in_points: bool

    def show(self, value: float) -> str:
        return format_points(value) + (f" / {format_points(self.top)}" if self.in_points else "%")


@dataclass(frozen=True)
class Row:
    """A submission as the tables show it."""

    result: SubmissionResult
    href: str | None
    percent: float | None


def _scale(graded: Sequence[SubmissionResult]) -> Scale:
    maxima = {r.max_score for r in graded}
    if len(maxima) == 1 and (top := maxima.pop()) > 0:
        return Scale(top, in_points=True)
    return Scale(100.0, in_points=False)


def _values(graded: Sequence[SubmissionResult], scale: Scale) -> list[float]:
    if scale.in_points:
        return [r.score for r in graded]
    return [percent(r) or 0.0 for r in graded]


def _check_stats(results: Sequence[SubmissionResult]) -> list[CheckStats]:
    """Every check's pass count over the graded submissions, the most failed first."""
    stats: dict[str, CheckStats] = {}
    for result in results:
        if result.status != "graded":
            continue
        for check in result.checks:
            entry = stats.get(check.name)
            if entry is None:
                entry = CheckStats(check.name, check.description, check.hidden, len(stats))
                stats[check.name] = entry
            entry.ran += 1
            if check.passed:
                entry.passed += 1
            elif check.outcome == "error":
                entry.not_checked += 1
            elif check.outcome == "not_judged":
                entry.not_judged += 1
            else:
                entry.messages[first_line(check.message) or NO_MESSAGE] += 1
    return sorted(stats.values(), key=lambda s: (s.pass_rate, -s.failed, s.order))


def _whole_points(scale: Scale) -> bool:
    # One bar per whole point while that stays readable; otherwise twenty equal bars.
    return scale.in_points and scale.top.is_integer() and scale.top <= 40


def _histogram_bins(values: Sequence[float], scale: Scale) -> list[tuple[float, float, int]]:
    """(low, high, count) bars for the score histogram."""
    if _whole_points(scale):
        # A bar centred on each whole point, so the mean and median lines sit where they belong.
        edges = [k - 0.5 for k in range(int(scale.top) + 2)]
    else:
        edges = [scale.top * k / 20 for k in range(21)]
    counts = [0] * (len(edges) - 1)
    for value in values:
        # Out-of-range values go to the end bars; the last bar is closed on the right.
        index = bisect.bisect_right(edges, value) - 1
        counts[min(max(index, 0), len(counts) - 1)] += 1
    return [(edges[i], edges[i + 1], n) for i, n in enumerate(counts)]


def _bin_label(low: float, high: float, scale: Scale) -> str:
    if _whole_points(scale):
        return format_points(low + 0.5)
    unit = "" if scale.in_points else "%"
    return f"{format_points(low)}–{format_points(high)}{unit}"


def _histogram_alt(bins: Sequence[tuple[float, float, int]], scale: Scale) -> str:
    unit = "points" if scale.in_points else "percent of the points"
    parts = [f"{_bin_label(lo, hi, scale)}: {n}" for lo, hi, n in bins if n]
    return f"Histogram of the scores ({unit}), submissions per score: " + "; ".join(parts)


def _histogram_png(
    bins: Sequence[tuple[float, float, int]], scale: Scale, mean: float, median: float
) -> str:
    """The histogram drawn by matplotlib (Agg, no pyplot state), as a PNG data URI."""
    from matplotlib.figure import Figure  # imported here: it costs ~0.3 s and only this needs it
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(7.5, 2.8), dpi=100, layout="constrained")
    ax = fig.subplots()
    centres = [(lo + hi) / 2 for lo, hi, _ in bins]
    widths = [(hi - lo) * 0.9 for lo, hi, _ in bins]
    ax.bar(centres, [n for _, _, n in bins], width=widths, color="#2f5d8a")
    ax.axvline(mean, color="#a32a21", linestyle="--", linewidth=1.5, label=f"mean {mean:.3g}")
    ax.axvline(median, color="#1a6b3a", linestyle=":", linewidth=1.8, label=f"median {median:.3g}")
    if _whole_points(scale):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("score (points)" if scale.in_points else "score (% of the points)")
    ax.set_ylabel("submissions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize="small")
    buffer = io.BytesIO()
    # No "Software" metadata: the same scores give the same bytes.
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _default_href(result: SubmissionResult) -> str:
    # Relative, like grades.csv, so the output folder can be moved or zipped as a whole.
    return f"reports/{quote(result.id)}.html"


def _cell_problem_counts(results: Sequence[SubmissionResult]) -> list[tuple[str, int]]:
    """(what happened, how many submissions) for each kind of cell event, in report order."""
    per_kind = Counter(kind for r in results for kind in {event.kind for event in r.cells})
    order = list(CELL_KIND_WORDS)
    kinds = sorted(per_kind, key=lambda k: (order.index(k) if k in order else len(order), k))
    return [(cell_kind_words(kind), per_kind[kind]) for kind in kinds]


def render_summary(
    results: Sequence[SubmissionResult],
    *,
    assignment_title: str,
    report_links: Mapping[str, str] | None = None,
) -> str:
    """Render the self-contained class summary page for a batch.

    ``report_links`` maps a submission id to its report's href; without it every submission
    links to ``reports/<id>.html``, and with it a submission missing from it has no link.
    """
    graded = [r for r in results if r.status == "graded"]
    scale = _scale(graded)
    values = _values(graded, scale)
    histogram = None
    mean = median = None
    if values:
        mean, median = statistics.fmean(values), statistics.median(values)
        bins = _histogram_bins(values, scale)
        histogram = {
            "src": _histogram_png(bins, scale, mean, median),
            "alt": _histogram_alt(bins, scale),
        }

    def row(result: SubmissionResult) -> Row:
        if report_links is None:
            href: str | None = _default_href(result)
        else:
            href = report_links.get(result.id)
        return Row(result, href, percent(result))

    rows = [row(r) for r in sorted(results, key=lambda r: (r.submission.casefold(), r.id))]
    template = template_environment().get_template("summary.html.j2")
    return template.render(
        title=assignment_title,
        total=len(results),
        graded=len(graded),
        ungradable=sum(r.status == "ungradable" for r in results),
        errors=sum(r.status == "error" for r in results),
        scale=scale,
        mean=mean,
        median=median,
        full_marks=sum(v >= scale.top for v in values),
        histogram=histogram,
        checks=_check_stats(results),
        not_graded=[r for r in rows if r.result.status != "graded"],
        cell_problems=_cell_problem_counts(results),
        slowest=sorted(rows, key=lambda r: -r.result.duration)[:SLOWEST_SHOWN],
        total_seconds=sum(r.duration for r in results),
        rows=rows,
        versions=sorted({r.nngrade_version for r in results if r.nngrade_version}),
        seeds=sorted({r.seed for r in graded}),
    )


def write_summary(
    results: Sequence[SubmissionResult],
    out_dir: Path,
    *,
    assignment_title: str | None = None,
    report_links: Mapping[str, str] | None = None,
) -> Path:
    """Write ``out_dir/index.html`` atomically and return its path.

    The title defaults to the assignment name the results record.
    """
    if assignment_title is None:
        names = sorted({r.assignment for r in results if r.assignment})
        assignment_title = ", ".join(names) or "nngrade"
    path = out_dir / "index.html"
    text = render_summary(results, assignment_title=assignment_title, report_links=report_links)
    atomic_write_text(path, text)
    return path
