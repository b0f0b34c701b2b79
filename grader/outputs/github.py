"""What ``nngrade check`` tells a CI run: a Markdown job summary and GitHub Classroom's score.

GitHub Actions renders the Markdown appended to the file named by ``GITHUB_STEP_SUMMARY``
on the run's page. GitHub Classroom reads a run's score from two workflow-command notices,
exactly as its own reporter (classroom-resources/autograding-grading-reporter,
src/notify-classroom.js) writes them through ``core.notice``::

    ::notice title=Autograding complete::Points 7/9
    ::notice title=Autograding report::{"totalPoints":7,"maxPoints":9}

Classroom only takes them from a workflow named "Autograding Tests" whose one job is
``run-autograding-tests`` (the reporter's README); ``nngrade init-ci`` writes such a workflow.
"""

from __future__ import annotations

import html
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from grader.grading.results import CheckResult, SubmissionResult
from grader.outputs.files import atomic_write_text, json_text
from grader.outputs.junit import write_junit
from grader.outputs.wording import cell_problems, format_points

__all__ = [
    "CheckOutputs",
    "append_step_summary",
    "classroom_notices",
    "markdown_summary",
    "step_summary_path",
]

# GitHub keeps up to 1 MiB of summary per step; a notebook that prints megabytes into its
# failure messages must not cost the job its summary.
MAX_SUMMARY_CHARS = 64_000
MAX_MESSAGE_LINES = 20
MAX_MESSAGE_CHARS = 2_000
MAX_FAILED_SHOWN = 30


def _number(value: float) -> int | float:
    # Classroom adds the points up as JavaScript numbers: 7 rather than 7.0, no float noise.
    rounded = round(value, 2)
    return int(rounded) if rounded.is_integer() else rounded


def classroom_notices(result: SubmissionResult) -> list[str]:
    """The two lines GitHub Classroom reads the score from (see the module docstring)."""
    points, most = _number(result.score), _number(result.max_score)
    report = json.dumps({"totalPoints": points, "maxPoints": most}, separators=(",", ":"))
    return [
        f"::notice title=Autograding complete::Points {points}/{most}",
        f"::notice title=Autograding report::{report}",
    ]


def _cell(text: str) -> str:
    """Student text made safe for one Markdown table cell: one line, no column breaks, no
    HTML (GitHub renders some tags)."""
    text = html.escape(" ".join(text.split()), quote=False)
    return text.replace("|", "\\|") or " "


def _fenced(text: str) -> str:
    """``text`` in a code block whose fence no backtick run inside it can close."""
    lines = text.strip().splitlines() or ["(no message)"]
    if len(lines) > MAX_MESSAGE_LINES:
        lines = [*lines[:MAX_MESSAGE_LINES], f"... ({len(lines) - MAX_MESSAGE_LINES} more lines)"]
    body = "\n".join(lines)
    if len(body) > MAX_MESSAGE_CHARS:
        body = body[:MAX_MESSAGE_CHARS] + "\n... (cut; the HTML report has all of it)"
    longest = max((len(run) for run in re.findall("`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body}\n{fence}"


def _mark(check: CheckResult) -> str:
    if check.outcome == "error":
        return "⚠️ could not be checked"
    if check.outcome == "not_judged":
        return "➖ not judged"
    return "✅" if check.passed else "❌"


def _any_not_judged(checks: list[CheckResult]) -> bool:
    return any(check.outcome == "not_judged" for check in checks)


def markdown_summary(result: SubmissionResult, *, title: str, report: Path | None) -> str:
    """The job summary for one checked notebook: the score, a table of checks, and each
    failed check's message."""
    name = _cell(result.submission)
    if result.status != "graded":
        return (
            f"### nngrade: {_cell(title)}: `{name}` could not be checked\n\n"
            f"{_fenced(result.reason)}\n"
        )
    score = f"{format_points(result.score)}/{format_points(result.max_score)}"
    failed = result.failed_checks
    lines = [
        f"### nngrade: {_cell(title)}: {score} points",
        "",
        f"`{name}`: {len(result.checks) - len(failed)} of {len(result.checks)} checks passed"
        + (" (visible checks only)." if result.mode == "check" else "."),
    ]
    if report is not None:
        lines.append(f"The HTML report (`{_cell(report.name)}`) is in this run's artifacts.")
    lines += ["", "| | check | points |", "| --- | --- | --- |"]
    for check in result.checks:
        points = f"{format_points(check.points)}/{format_points(check.max_points)}"
        lines.append(f"| {_mark(check)} | {_cell(check.description or check.name)} | {points} |")
    if result.cells:
        lines += ["", "**Cells that did not simply run**", ""]
        for cell, what in cell_problems(result)[:MAX_FAILED_SHOWN]:
            lines.append(f"- cell {cell}: {_cell(what)}")
    if failed:
        lines += [
            "",
            "#### Failed and not judged checks"
            if _any_not_judged(failed)
            else "#### Failed checks",
        ]
    text = "\n".join(lines) + "\n"
    for shown, check in enumerate(failed):
        block = f"\n**{_cell(check.description or check.name)}**\n\n{_fenced(check.message)}\n"
        # Whole blocks only, so a cut never leaves a code fence open.
        if shown == MAX_FAILED_SHOWN or len(text) + len(block) > MAX_SUMMARY_CHARS:
            text += f"\n... and {len(failed) - shown} more failed checks in the HTML report.\n"
            break
        text += block
    return text


def append_step_summary(path: Path, summary: str) -> None:
    """Append to the step summary file: other steps of the job write to it too."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(summary + "\n")


def step_summary_path() -> Path | None:
    """The job summary file when running in GitHub Actions, else None."""
    value = os.environ.get("GITHUB_STEP_SUMMARY", "")
    return Path(value) if value else None


@dataclass(frozen=True)
class CheckOutputs:
    """The machine-readable outputs one ``nngrade check`` was asked for."""

    junit: Path | None = None
    json: Path | None = None
    step_summary: Path | None = None

    def write(self, result: SubmissionResult, *, title: str, report: Path | None) -> None:
        """Write them, for an ungradable notebook too: CI should say why it failed."""
        if self.junit is not None:
            write_junit([result], self.junit)
        if self.json is not None:
            atomic_write_text(self.json, json_text(result.to_dict()))
        if self.step_summary is not None:
            summary = markdown_summary(result, title=title, report=report)
            append_step_summary(self.step_summary, summary)

    def notices(self, result: SubmissionResult) -> list[str]:
        """Classroom's score lines, printed only in GitHub Actions."""
        return classroom_notices(result) if self.step_summary is not None else []
