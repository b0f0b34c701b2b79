"""The words every output shares: points, percentages, headlines, cell events, not-graded notes."""

from __future__ import annotations

import re

from grader.checks._i18n import N_
from grader.checks._i18n import gettext as _
from grader.grading.results import CheckResult, SubmissionResult

__all__ = [
    "CELL_KIND_WORDS",
    "NOT_CHECKED",
    "cell_kind_words",
    "cell_problems",
    "check_label",
    "check_text",
    "first_line",
    "format_points",
    "headline",
    "is_not_judged",
    "not_graded_text",
    "percent",
]

# What happened in a cell, by event kind: "Cell 3 raised an error".
CELL_KIND_WORDS = {
    "stand_in": N_("imports a module that grading does not have"),
    "redefined": N_("defines a function or class that another cell defines too"),
    "error": N_("raised an error"),
    "timeout": N_("timed out"),
    "kernel_died": N_("killed the kernel (the kernel was restarted and grading went on)"),
    "skipped": N_("skipped while grading"),
    "large_output": N_("printed a very large output (not kept)"),
    "memory_limit": N_("hit the memory limit"),
    "cpu_limit": N_("hit the CPU time limit"),
    "file_limit": N_("hit the file size limit"),
    "process_limit": N_("hit the process limit"),
    "forbidden": N_("reached for the grader's own code or files"),
    "input": N_("waited for keyboard input"),
}

# Said wherever a check crashed on the grader's side, so it is never read as the student's fault.
NOT_CHECKED = "This check could not be checked (a problem in the grader, not your code)."


def format_points(value: float) -> str:
    """Format points for people: ``2.0`` -> ``"2"``, ``0.5`` -> ``"0.5"``, ``1/3`` -> ``"0.33"``."""
    # Two decimals is finer than any rubric uses and hides float noise such as 0.30000000000000004.
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def percent(result: SubmissionResult) -> float | None:
    """Share of the maximum score in 0..100, or None when there is nothing to score against."""
    if result.max_score <= 0:
        return None
    return min(100.0, max(0.0, 100.0 * result.score / result.max_score))


def first_line(text: str) -> str:
    """The first non-blank line of ``text``, stripped: a message's headline for tables."""
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else ""


def headline(message: str) -> str:
    """A failure message's headline for a table row: its first line, joined with the next
    when it only introduces it ("square(x) raised an exception:" says little alone)."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        return f"{lines[0]} {lines[1]}"
    return lines[0] if lines else ""


def cell_kind_words(kind: str) -> str:
    """A cell event's kind in words; an unknown kind as it is."""
    return _(CELL_KIND_WORDS[kind]) if kind in CELL_KIND_WORDS else kind


def cell_problems(result: SubmissionResult) -> list[tuple[int, str]]:
    """The cells that did not simply run, as (cell number, what happened in one line)."""
    return [
        (event.cell, first_line(event.summary or cell_kind_words(event.kind)))
        for event in result.cells
    ]


def not_graded_text(result: SubmissionResult) -> str:
    """Why a submission has no grade and what the student should do, in plain text."""
    reason = result.reason.strip() or "no reason given"
    if result.status == "ungradable":
        return (
            f"This notebook could not be graded: {reason}\n"
            "Open it in Jupyter, save it, and hand it in again."
        )
    return (
        f"nngrade itself failed while grading this notebook: {reason}\n"
        "This is a problem in the grader, not in your work: tell the course staff so they can\n"
        "grade it again; you do not need to hand it in again."
    )


def is_not_judged(check: CheckResult) -> bool:
    """A check with nothing to judge: 0 points, never a pass; its message says why."""
    return check.outcome == "not_judged"


def check_text(check: CheckResult) -> str:
    """What a check says in plain text: nothing when it passed, its message when it failed."""
    if check.outcome == "error":
        return f"{NOT_CHECKED}\n\nDetails for the course staff:\n{check.message}".rstrip()
    return "" if check.passed else check.message


_TEST_ID = re.compile(r"^(?:test_)?([A-Za-z_]\w*?)(?:\[(.*)\])?$")


def check_label(check: CheckResult) -> str:
    """A check's name for a student: its description; a bare test id ("test_gradient[dW2]",
    what a check without a docstring is described by) said in words ("gradient (dW2)")."""
    text = check.description or check.name
    match = _TEST_ID.match(text) if text == check.name else None
    if match is None:
        return text
    words = match.group(1).replace("_", " ")
    return f"{words} ({match.group(2)})" if match.group(2) else words
