"""Manual marks of written answers merged into a submission's result, so that every export
(grades.csv, results.json, Gradescope, JUnit, the reports, the class summary) counts them.

Each question becomes one more check named ``written:<id>``: its points are the marked points
(0 until it is marked), its message lists the rubric items and comments applied. The score is
the autograded score plus the marked points; the maximum adds every question's points.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from grader.checks._i18n import N_
from grader.checks._i18n import gettext as _
from grader.grading.results import CheckOutcome, CheckResult, SubmissionResult
from grader.outputs.wording import format_points

__all__ = [
    "WRITTEN_PREFIX",
    "WrittenMark",
    "is_written",
    "merge_written",
    "written_checks",
    "written_distribution",
]

WRITTEN_PREFIX = "written:"
MARKED, UNMARKED, CHANGED = "marked", "unmarked", "changed"
# The line of an answer's message that says it is not marked (yet, or again); such an answer
# is `not_judged`, which the class summary counts apart.
NOT_MARKED = N_("Not marked yet.")
MARK_AGAIN = N_("The answer changed after it was marked: waiting to be marked again.")


@dataclass(frozen=True)
class WrittenMark:
    """One question of one submission, as the marker left it."""

    question: str
    prompt: str
    max_points: float
    answer_state: str  # answered, unchanged, missing (batch/answers.py)
    status: str  # MARKED, UNMARKED, or CHANGED: marked, then the answer changed
    points: float = 0.0  # counted only when MARKED
    items: tuple[tuple[str, float], ...] = ()  # (rubric item, its points) applied
    comments: tuple[str, ...] = field(default_factory=tuple)


def _title(mark: WrittenMark) -> str:
    heading = next((line for line in mark.prompt.splitlines() if line.strip()), "")
    heading = heading.lstrip("#").strip()
    if heading:
        return _("Written answer {question}: {heading}").format(
            question=mark.question, heading=heading
        )
    return _("Written answer {question}").format(question=mark.question)


def _message(mark: WrittenMark) -> str:
    lines = []
    if mark.answer_state == "missing":
        lines.append(_("No answer was found for this question in your notebook."))
    elif mark.answer_state == "unchanged":
        lines.append(_("The answer cell was left as the template had it."))
    if mark.status == UNMARKED:
        lines.append(_(NOT_MARKED))
    elif mark.status == CHANGED:
        lines.append(_(MARK_AGAIN))
    for label, points in mark.items:
        sign = "+" if points >= 0 else ""
        lines.append(f"{label} ({sign}{format_points(points)})")
    lines += [_("Comment: {comment}").format(comment=comment) for comment in mark.comments]
    return "\n".join(lines)


def written_checks(marks: Sequence[WrittenMark]) -> list[CheckResult]:
    """The questions as checks, in the order given."""
    checks = []
    for mark in marks:
        points = mark.points if mark.status == MARKED else 0.0
        full = mark.status == MARKED and points >= mark.max_points
        # Not marked (yet, or again): not judged, so no output counts it as a failure.
        outcome = CheckOutcome.NOT_JUDGED if mark.status != MARKED else CheckOutcome.FAILED
        checks.append(
            CheckResult(
                name=WRITTEN_PREFIX + mark.question,
                description=_title(mark),
                points=points,
                max_points=mark.max_points,
                passed=full,
                message=_message(mark),
                outcome=CheckOutcome.PASSED if full else outcome,
            )
        )
    return checks


def merge_written(result: SubmissionResult, marks: Sequence[WrittenMark]) -> SubmissionResult:
    """``result`` with the written answers' checks added and counted. A submission nngrade
    could not grade keeps its status and score: there is no notebook result to add to."""
    if not marks or result.status != "graded":
        return result
    checks = written_checks(marks)
    return replace(
        result,
        checks=[*result.checks, *checks],
        score=result.score + sum(c.points for c in checks),
        max_score=result.max_score + sum(c.max_points for c in checks),
    )


def is_written(name: str) -> bool:
    """Whether a check's name is a written answer's (not an autograded check)."""
    return name.startswith(WRITTEN_PREFIX)


def written_distribution(results: Iterable[SubmissionResult]) -> list[dict[str, Any]]:
    """Per question, for the class summary: how many students got each number of points, and
    how many answers are not marked yet."""
    questions: dict[str, dict[str, Any]] = {}
    for result in results:
        for check in result.checks:
            if not is_written(check.name):
                continue
            entry = questions.setdefault(
                check.name,
                {"title": check.description, "max": check.max_points, "points": {}, "open": 0},
            )
            if check.outcome == CheckOutcome.NOT_JUDGED:  # not marked, yet or again
                entry["open"] += 1
            else:
                entry["points"][check.points] = entry["points"].get(check.points, 0) + 1
    out = []
    for name, entry in questions.items():
        marked = sum(entry["points"].values())
        counts = sorted(entry["points"].items())
        mean = sum(p * n for p, n in counts) / marked if marked else 0.0
        out.append(dict(entry, name=name, marked=marked, counts=counts, mean=mean))
    return out
