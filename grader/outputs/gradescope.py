"""One submission as Gradescope's autograder results.json, and a batch's gradescope/ folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grader.grading.results import CheckResult, SubmissionResult
from grader.outputs.files import atomic_write_text, json_text
from grader.outputs.wording import cell_problems, check_text, not_graded_text

__all__ = ["gradescope_result", "write_gradescope"]

# Gradescope's "hidden" hides a test from students for good, and the specification adds that
# students then cannot see their total score either. nngrade's hidden checks are only kept out
# of self-checks: they count in the grade and the student's own report shows them. So they are
# "after_published": shown once the instructor publishes the grades.
HIDDEN_VISIBILITY = "after_published"


def _overall_output(result: SubmissionResult) -> str:
    # No total and no count of failed checks: both would give hidden checks away before the
    # grades are published. The tests list says the rest.
    if not result.cells:
        return "Every cell of the notebook ran without problems."
    lines = ["Cells of your notebook that did not simply run:"]
    lines += [f"Cell {cell}: {what}" for cell, what in cell_problems(result)]
    return "\n".join(lines)


def _gradescope_test(check: CheckResult) -> dict[str, Any]:
    status = "passed" if check.passed else "failed"
    return {
        "name": check.description or check.name,
        "score": check.points,
        "max_score": check.max_points,
        "status": status,
        "output": check_text(check),
        "visibility": HIDDEN_VISIBILITY if check.hidden else "visible",
        "extra_data": {
            "check": check.name,
            # Gradescope knows passed and failed only; ours says which failures were
            # not judged or could not be checked.
            "outcome": str(check.outcome) if check.outcome in ("error", "not_judged") else status,
        },
    }


def gradescope_result(result: SubmissionResult) -> dict[str, Any]:
    """One submission as Gradescope's autograder results.json (its documented fields only).

    Not graded (ungradable, or nngrade failed): score 0, no tests, and the output says why.
    """
    graded = result.status == "graded"
    return {
        "score": result.score if graded else 0.0,
        "output": _overall_output(result) if graded else not_graded_text(result),
        # Shown as is: student text such as "<script>" must never be read as HTML or Markdown.
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "execution_time": round(result.duration),
        "tests": [_gradescope_test(check) for check in result.checks] if graded else [],
        "extra_data": {
            "id": result.id,
            "submission": result.submission,
            "status": result.status,
            "seed": result.seed,
            "nngrade_version": result.nngrade_version,
        },
    }


def write_gradescope(results: Sequence[SubmissionResult], out_dir: Path) -> Path:
    """Write ``out_dir/gradescope/<id>.json`` for each submission; return that folder."""
    folder = out_dir / "gradescope"
    folder.mkdir(parents=True, exist_ok=True)
    for result in results:
        atomic_write_text(folder / f"{result.id}.json", json_text(gradescope_result(result)))
    return folder
