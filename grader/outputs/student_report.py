"""The HTML report a student reads for one submission: reports/<id>.html."""

from __future__ import annotations

from pathlib import Path

from grader.checks._i18n import use_language
from grader.grading.results import SubmissionResult
from grader.outputs.files import atomic_write_text
from grader.outputs.pages import template_environment
from grader.outputs.report_view import build_view
from grader.outputs.wording import percent

__all__ = ["render_report", "write_report"]


def render_report(result: SubmissionResult) -> str:
    """Render the self-contained HTML report a student reads for one submission, in the
    language it was graded in."""
    template = template_environment().get_template("report.html.j2")
    with use_language(result.lang):
        share = percent(result)
        return template.render(
            result=result,
            percent=share,
            view=build_view(result),
            full_score=result.status == "graded" and share is not None and share >= 99.99,
            lang=result.lang or "en",
        )


def write_report(result: SubmissionResult, reports_dir: Path) -> Path:
    """Write ``reports_dir/<id>.html`` for one submission and return its path."""
    path = reports_dir / f"{result.id}.html"
    atomic_write_text(path, render_report(result))
    return path
