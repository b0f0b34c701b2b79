"""Checking one notebook: ``check_notebook``, what ``nngrade check`` and its tests run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.grading.assignment import Assignment, AssignmentError, NngradeVersionError
from grader.grading.discovery import DiscoveryError, choose_assignment
from grader.grading.engine import GradingOptions, grade_notebook
from grader.grading.notebook_file import Ungradable
from grader.grading.results import SubmissionResult
from grader.outputs.github import CheckOutputs
from grader.outputs.student_report import write_report
from grader.runner.sandbox import Sandbox

__all__ = ["CheckError", "CheckRun", "check_notebook"]


class CheckError(ValueError):
    """The notebook cannot be checked at all (missing, unreadable, no assignment found):
    one line for the student, before any kernel starts."""


@dataclass(frozen=True)
class CheckRun:
    """A checked notebook: its result, the assignment it was checked against, and what
    was written."""

    assignment: Assignment
    result: SubmissionResult
    note: str = ""  # how the assignment was found, when that needs saying
    report: Path | None = None  # the HTML report; none for a notebook that was not graded
    notices: list[str] = field(default_factory=list)  # GitHub Classroom's lines to print

    @property
    def passed(self) -> bool:
        return self.result.status == "graded" and all(c.passed for c in self.result.checks)


def check_notebook(
    notebook: Path,
    options: GradingOptions,
    *,
    assignment_dir: Path | None = None,
    report_dir: Path | None = None,
    ci: CheckOutputs | None = None,
    on_sandbox: Callable[[Sandbox], None] | None = None,
) -> CheckRun:
    """Grade ``notebook`` with the visible checks only, against ``assignment_dir`` or the
    assignment its metadata names. Writes the HTML report into ``report_dir`` (default:
    the notebook's folder) when it was graded, and what ``ci`` asks for in every case.
    The sandbox is chosen once, before grading, and handed to ``on_sandbox``. Raises
    ``CheckError``, or ``SandboxUnavailable`` when bwrap is asked for and missing."""
    if not notebook.is_file():
        raise CheckError(f"{notebook}: no such file")
    try:
        assignment, note = choose_assignment(notebook, assignment_dir)
    except Ungradable as exc:
        raise CheckError(f"{notebook}: {exc}") from None
    except NngradeVersionError as exc:
        raise CheckError(
            f"{exc}. The installed nngrade cannot run these checks: install the one that came "
            "with the assignment (its README says how: the wheel in its install/ folder)"
        ) from None
    except (AssignmentError, DiscoveryError) as exc:
        raise CheckError(str(exc)) from None
    sandbox = Sandbox.choose(options.sandbox, options.limits)
    if on_sandbox is not None:
        on_sandbox(sandbox)
    result = grade_notebook(assignment, notebook, replace(options, include_hidden=False))
    if note:
        result.notes.insert(0, note)
    report = None
    if result.status == "graded":
        report = write_report(result, report_dir or notebook.parent)
    ci = ci or CheckOutputs()
    ci.write(result, title=assignment.title, report=report)
    return CheckRun(assignment, result, note, report, ci.notices(result))
