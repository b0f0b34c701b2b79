"""One result as a plain-text table for a terminal (what ``nngrade check`` prints)."""

from __future__ import annotations

import unicodedata

from grader.grading.results import CheckResult, SubmissionResult
from grader.outputs.wording import cell_problems, format_points, headline, is_not_judged

__all__ = ["format_table"]


def _char_width(char: str) -> int:
    # Korean and other wide characters take two terminal columns; combining marks take none.
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _fit(text: str, width: int) -> str:
    """Cut ``text`` to at most ``width`` terminal columns, ending in "…" when it was cut."""
    text = text.replace("\t", " ")
    if sum(_char_width(c) for c in text) <= width:
        return text
    out: list[str] = []
    used = 0
    for char in text:
        char_width = _char_width(char)
        if used + char_width > width - 1:
            break
        out.append(char)
        used += char_width
    return "".join(out) + "…"


def _label(check: CheckResult) -> str:
    if check.outcome == "error":
        return "ERROR"
    if is_not_judged(check):
        return "NOT JUDGED"  # wider than the others: the column widens only when it is there
    return "PASS" if check.passed else "FAIL"


def format_table(result: SubmissionResult, width: int = 100) -> str:
    """A compact plain-text summary of one result for a terminal, each line at most ``width``."""
    width = max(width, 20)  # below this nothing useful fits
    if result.status != "graded":
        label = "ungradable" if result.status == "ungradable" else "error in nngrade"
        reason_lines = result.reason.strip().splitlines() or ["(no reason given)"]
        reason_lines[0] = f"{label}: {reason_lines[0]}"
        return "\n".join(_fit(line, width) for line in reason_lines)

    lines: list[str] = []
    earned = [f"{format_points(c.points)}/{format_points(c.max_points)}" for c in result.checks]
    points_width = max((len(p) for p in earned), default=0)
    labels = [_label(check) for check in result.checks]
    label_width = max((len(label) for label in labels), default=5)
    for check, points, label in zip(result.checks, earned, labels, strict=True):
        text = check.description or check.name
        if check.hidden:
            text += " (hidden)"
        if not check.passed:
            first = headline(check.message)
            if first:
                text += f" - {first}"
        lines.append(_fit(f"{label:<{label_width}} {points:>{points_width}}  {text}", width))
    for cell, what in cell_problems(result):
        lines.append(_fit(f"cell {cell}: {what}", width))
    total = f"Score: {format_points(result.score)}/{format_points(result.max_score)}"
    if result.mode == "check":
        total += " (self-check: visible checks only)"
    lines.append(_fit(total, width))
    return "\n".join(lines)
