"""A batch's output folder: a report per submission as it arrives, the class-wide files
(grades.csv, results.json, index.html, gradescope/, junit.xml) written at the end."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from grader.batch.gradebook import GRADEBOOK, Gradebook
from grader.grading.results import SubmissionResult
from grader.outputs.class_summary import write_summary
from grader.outputs.gradescope import write_gradescope
from grader.outputs.junit import write_junit
from grader.outputs.student_report import write_report
from grader.outputs.tables import write_grades_csv, write_results_json

__all__ = ["BatchOutputs", "NoGradebook", "export_outputs"]


class NoGradebook(FileNotFoundError):
    """The folder has no gradebook: ``nngrade grade --out`` it first."""


class BatchOutputs:
    def __init__(self, out_dir: Path, title: str) -> None:
        self.out_dir = out_dir
        self.title = title
        self.reports = out_dir / "reports"
        self.reports.mkdir(parents=True, exist_ok=True)

    @property
    def gradebook(self) -> Path:
        return self.out_dir / GRADEBOOK

    def add(self, result: SubmissionResult) -> None:
        """The student's report, written as soon as the result is known."""
        write_report(result, self.reports)

    def finish(self, results: Sequence[SubmissionResult]) -> list[tuple[str, Path]]:
        """Write the class-wide files, each atomically; (what, path) for each."""
        grades, details = self.out_dir / "grades.csv", self.out_dir / "results.json"
        write_grades_csv(results, grades)
        write_results_json(results, details)
        return [
            ("Summary", write_summary(results, self.out_dir, assignment_title=self.title)),
            ("Grades", grades),
            ("Results", details),
            ("Reports", self.reports),
            ("Gradescope", write_gradescope(results, self.out_dir)),
            ("JUnit", write_junit(results, self.out_dir / "junit.xml")),
        ]


def export_outputs(out_dir: Path) -> list[tuple[str, Path]]:
    """Write every report and class-wide file of ``out_dir`` again from its gradebook, with
    the marks of written answers as they are now: what ``nngrade export`` and the end of
    ``nngrade mark`` do. Grades nothing."""
    if not (out_dir / GRADEBOOK).is_file():
        raise NoGradebook(f"{out_dir} has no {GRADEBOOK}: run nngrade grade --out {out_dir} first")
    with Gradebook(out_dir / GRADEBOOK) as gradebook:
        results = {r.id: r for r in gradebook.with_marks(gradebook.all_results())}
        order = json.loads(gradebook.setting("order") or "[]")
        title = gradebook.setting("title") or "nngrade"
    # The submissions of the last batch, in its order, as nngrade grade wrote them.
    ordered = [results[id] for id in order if id in results] if order else list(results.values())
    outputs = BatchOutputs(out_dir, title)
    for result in ordered:
        outputs.add(result)
    return outputs.finish(ordered)
