"""The class summary page an instructor reads after a batch: OUT/index.html."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from grader.checks._i18n import use_language
from grader.grading.results import SubmissionResult
from grader.outputs.files import atomic_write_text
from grader.outputs.pages import template_environment
from grader.outputs.summary_mistakes import Mistake, mistakes
from grader.outputs.summary_plots import histogram
from grader.outputs.tables import BATCH_FILES
from grader.outputs.wording import CELL_KIND_WORDS, cell_kind_words, format_points, percent

__all__ = ["SLOWEST_SHOWN", "TOP_MISTAKES", "render_summary", "write_summary"]

SLOWEST_SHOWN = 10  # rows in the "slowest submissions" table
TOP_MISTAKES = 5  # the most common mistakes, shown first


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
    mistakes: list[Mistake] = field(default_factory=list)  # its failures, by diagnosis

    @property
    def failed(self) -> int:
        return self.ran - self.passed - self.not_checked - self.not_judged

    @property
    def pass_rate(self) -> float:
        return self.passed / self.ran if self.ran else 0.0

    @property
    def everyone_passed(self) -> bool:
        return self.passed == self.ran


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
    for mistake in mistakes(results):
        stats[mistake.check].mistakes.append(mistake)
    return sorted(stats.values(), key=lambda s: (s.pass_rate, -s.failed, s.order))


def _default_href(result: SubmissionResult) -> str:
    # Relative, like grades.csv, so the output folder can be moved or zipped as a whole.
    return f"reports/{quote(result.id)}.html"


def _cell_problems(
    results: Sequence[SubmissionResult], rows: Mapping[str, Row]
) -> list[tuple[str, list[Row]]]:
    """(what happened, the submissions it happened in) for each kind of cell event, in the
    reports' order of kinds."""
    per_kind: dict[str, list[Row]] = {}
    for result in results:
        for kind in sorted({event.kind for event in result.cells}):
            per_kind.setdefault(kind, []).append(rows[result.id])
    order = list(CELL_KIND_WORDS)
    kinds = sorted(per_kind, key=lambda k: (order.index(k) if k in order else len(order), k))
    return [(cell_kind_words(kind), per_kind[kind]) for kind in kinds]


def _language(results: Sequence[SubmissionResult]) -> str:
    """The language most submissions were graded in: their messages are in it."""
    langs = Counter(r.lang for r in results if r.lang)
    return langs.most_common(1)[0][0] if langs else ""


def render_summary(
    results: Sequence[SubmissionResult],
    *,
    assignment_title: str,
    report_links: Mapping[str, str] | None = None,
    lang: str | None = None,
) -> str:
    """Render the self-contained class summary page for a batch, in ``lang`` (default: the
    language the submissions were graded in).

    ``report_links`` maps a submission id to its report's href; without it every submission
    links to ``reports/<id>.html``, and with it a submission missing from it has no link.
    """
    graded = [r for r in results if r.status == "graded"]
    scale = _scale(graded)
    values = _values(graded, scale)
    plot = None
    mean = median = None
    language = lang if lang is not None else _language(results)
    with use_language(language):
        if values:
            mean, median = statistics.fmean(values), statistics.median(values)
            plot = histogram(
                values, top=scale.top, in_points=scale.in_points, mean=mean, median=median
            )

        def row(result: SubmissionResult) -> Row:
            if report_links is None:
                href: str | None = _default_href(result)
            else:
                href = report_links.get(result.id)
            return Row(result, href, percent(result))

        by_id = {r.id: row(r) for r in results}
        # Lowest score first: the students who need help; ungradable ones below 0.
        rows = sorted(by_id.values(), key=_score_order)
        checks = _check_stats(results)
        position: dict[str, int] = {}
        for check in sorted(checks, key=lambda c: c.order):
            position.setdefault(check.name.split("[", 1)[0], check.order)
        # The cases of a parametrized check together: one mistake, not one per case.
        top = mistakes(results, lambda name: position.get(name, 0), merge_cases=True)
        template = template_environment().get_template("summary.html.j2")
        return template.render(
            lang=language or "en",
            title=assignment_title,
            total=len(results),
            graded=len(graded),
            ungradable=sum(r.status == "ungradable" for r in results),
            errors=sum(r.status == "error" for r in results),
            scale=scale,
            mean=mean,
            median=median,
            full_marks=sum(v >= scale.top for v in values),
            histogram=plot,
            checks=[c for c in checks if not c.everyone_passed],
            all_passed=[c for c in checks if c.everyone_passed],
            top_mistakes=top[:TOP_MISTAKES],
            rows_of=lambda mistake: [by_id[s.id] for s in mistake.students],
            not_graded=[r for r in rows if r.result.status != "graded"],
            cell_problems=_cell_problems(results, by_id),
            slowest=sorted(rows, key=lambda r: -r.result.duration)[:SLOWEST_SHOWN],
            total_seconds=sum(r.duration for r in results),
            rows=rows,
            files=BATCH_FILES,
            versions=sorted({r.nngrade_version for r in results if r.nngrade_version}),
            seeds=sorted({r.seed for r in graded}),
        )


def _score_order(row: Row) -> tuple[float, str, str]:
    graded = row.result.status == "graded"
    share = row.percent if graded and row.percent is not None else -1.0
    return share, row.result.submission.casefold(), row.result.id


def write_summary(
    results: Sequence[SubmissionResult],
    out_dir: Path,
    *,
    assignment_title: str | None = None,
    report_links: Mapping[str, str] | None = None,
    lang: str | None = None,
) -> Path:
    """Write ``out_dir/index.html`` atomically and return its path.

    The title defaults to the assignment name the results record.
    """
    if assignment_title is None:
        names = sorted({r.assignment for r in results if r.assignment})
        assignment_title = ", ".join(names) or "nngrade"
    path = out_dir / "index.html"
    text = render_summary(
        results, assignment_title=assignment_title, report_links=report_links, lang=lang
    )
    atomic_write_text(path, text)
    return path
