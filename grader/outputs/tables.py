"""A batch's data files: grades.csv for a spreadsheet or an LMS, results.json for programs."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from grader.grading.results import CheckResult, SubmissionResult, nngrade_version
from grader.outputs.files import atomic_write_text, json_text
from grader.outputs.wording import format_points

__all__ = ["BATCH_FILES", "CSV_COLUMNS", "write_grades_csv", "write_results_json"]

# The files a batch writes beside the class summary, which links to them (relative paths):
# (what it is, path).
BATCH_FILES = (
    ("grades.csv", "grades.csv"),
    ("results.json", "results.json"),
    ("JUnit XML", "junit.xml"),
    ("Gradescope", "gradescope/"),
)

CSV_COLUMNS = (
    "id",
    "submission",
    "score",
    "max_score",
    "status",
    "reason",
    "failed_checks",
    "report",
)


def write_grades_csv(results: Sequence[SubmissionResult], path: Path) -> None:
    """Write one row per submission, for a spreadsheet or an LMS upload."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for result in results:
        writer.writerow(
            [
                result.id,
                result.submission,
                format_points(result.score),
                format_points(result.max_score),
                result.status,
                result.reason,
                "; ".join(_failed_name(check) for check in result.failed_checks),
                # Relative to the CSV so the output folder can be moved or zipped as a whole.
                f"reports/{result.id}.html",
            ]
        )
    atomic_write_text(path, buffer.getvalue())


def _failed_name(check: CheckResult) -> str:
    # A not-judged check scored 0 for another check's failure: say so, as the report does.
    return f"{check.name} (not judged)" if check.outcome == "not_judged" else check.name


def write_results_json(results: Sequence[SubmissionResult], path: Path) -> None:
    """Write every result as JSON that ``SubmissionResult.from_dict`` reads back."""
    data = {
        "nngrade_version": nngrade_version(),
        "submissions": [result.to_dict() for result in results],
    }
    atomic_write_text(path, json_text(data))
