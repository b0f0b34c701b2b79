"""``check_notebook``, what ``nngrade check`` runs, without the command line."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest

from grader._kernel.nngrade_protocol import CellEventKind
from grader.batch import check as check_module
from grader.batch.check import CheckError, check_notebook
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions, new_result
from grader.grading.results import CheckResult, SubmissionResult
from grader.outputs.github import CheckOutputs
from grader.runner.cell_data import CellEvent
from grader.runner.sandbox import Sandbox
from tests.conftest import CELL_TIMEOUT, NOTEBOOKS, RELU, SEED
from tests.course_samples import write_course


@pytest.mark.kernel
def test_a_failing_notebook_is_reported_everywhere_asked(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    ci = CheckOutputs(junit=tmp_path / "j.xml", json=tmp_path / "r.json", step_summary=summary)
    sandboxes: list[Sandbox] = []
    run = check_notebook(
        NOTEBOOKS / "d_relu_zero_wrong.ipynb",
        GradingOptions(cell_timeout=CELL_TIMEOUT, seed=SEED),
        assignment_dir=RELU,
        report_dir=tmp_path / "reports",
        ci=ci,
        on_sandbox=sandboxes.append,
    )
    assert not run.passed and run.note == "" and run.assignment.root == RELU.resolve()
    assert (run.result.mode, run.result.score, run.result.max_score) == ("check", 8.5, 9.0)
    assert not any(check.hidden for check in run.result.checks)
    assert run.report == tmp_path / "reports" / "d_relu_zero_wrong.html" and run.report.is_file()
    assert json.loads((tmp_path / "r.json").read_text())["score"] == 8.5
    assert (tmp_path / "j.xml").is_file() and "8.5/9" in summary.read_text()
    assert run.notices[0] == "::notice title=Autograding complete::Points 8.5/9"
    assert [s.mode for s in sandboxes] == [run.result.sandbox]  # chosen once, and used


def fake_grading(monkeypatch: pytest.MonkeyPatch, status: str = "graded") -> list[Any]:
    """grade_notebook replaced: no kernel; returns what it was given."""
    calls: list[Any] = []

    def grade(assignment: Assignment, path: Path, options: GradingOptions) -> SubmissionResult:
        calls.append(options)
        result = new_result(assignment, options, "mine", path.name, str(path))
        result.status, result.reason = status, "" if status == "graded" else "it is broken"
        result.checks = [CheckResult("test_relu", "relu", 1.0, 1.0, True)]
        return result

    monkeypatch.setattr(check_module, "grade_notebook", grade)
    return calls


def test_only_visible_checks_and_a_report_beside_the_notebook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fake_grading(monkeypatch)
    notebook = tmp_path / "mine.ipynb"
    shutil.copy(NOTEBOOKS / "correct.ipynb", notebook)
    run = check_notebook(notebook, GradingOptions(seed=3), assignment_dir=RELU)
    assert calls == [GradingOptions(seed=3, include_hidden=False)]
    assert run.passed and run.report == tmp_path / "mine.html" and run.report.is_file()
    assert run.notices == []  # not in GitHub Actions


def test_a_notebook_that_was_not_graded_still_reaches_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_grading(monkeypatch, status="ungradable")
    ci = CheckOutputs(json=tmp_path / "r.json")
    run = check_notebook(NOTEBOOKS / "correct.ipynb", GradingOptions(), assignment_dir=RELU, ci=ci)
    assert not run.passed and run.report is None
    assert json.loads((tmp_path / "r.json").read_text())["status"] == "ungradable"


def test_what_cannot_be_checked_at_all_is_a_check_error(tmp_path: Path) -> None:
    with pytest.raises(CheckError, match="nope.ipynb: no such file"):
        check_notebook(tmp_path / "nope.ipynb", GradingOptions(), assignment_dir=RELU)
    with pytest.raises(CheckError, match="not an assignment folder"):
        check_notebook(NOTEBOOKS / "correct.ipynb", GradingOptions(), assignment_dir=tmp_path)
    notebook = tmp_path / "mine.ipynb"
    shutil.copy(NOTEBOOKS / "correct.ipynb", notebook)
    with pytest.raises(CheckError, match="does not say which assignment it belongs to"):
        check_notebook(notebook, GradingOptions())


def test_a_notebook_for_another_nngrade_says_which_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("grader.grading.discovery.nngrade_version", lambda: "0.3.0")
    stamp = {"assignment": "relu", "version": "", "nngrade": "0.2.0", "requires": "nngrade<0.3"}
    notebook = tmp_path / "mine.ipynb"
    nb = nbformat.read(NOTEBOOKS / "correct.ipynb", as_version=4)
    nb.metadata["nngrade"] = stamp
    nbformat.write(nb, notebook)
    with pytest.raises(CheckError) as info:
        check_notebook(notebook, GradingOptions())
    assert str(info.value) == (
        "this notebook's assignment 'relu' was handed out with nngrade 0.2.0 and its checks need "
        "nngrade<0.3; this is nngrade 0.3.0. The installed nngrade cannot run these checks: "
        "install the one that came with the assignment (its README says how: the wheel in its "
        "install/ folder)"
    )


def test_a_notebook_beside_assignment_toml_needs_no_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_grading(monkeypatch)
    folder = write_course(tmp_path / "course")
    run = check_notebook(folder / "solution.ipynb", GradingOptions())
    assert run.assignment.root == folder and "checked against the one in its folder" in run.note


def test_the_report_says_which_line_of_a_cell_was_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the engine records for `drive.mount(...)` on line 1 of cell 2, and for a cell
    # skipped whole (out of time): only the first is a line.
    fake_grading(monkeypatch)
    original = check_module.grade_notebook

    def grade(assignment: Assignment, path: Path, options: GradingOptions) -> SubmissionResult:
        result = original(assignment, path, options)
        why = "line 1 not run: Google Drive is not mounted while grading"
        result.cells = [
            CellEvent(2, CellEventKind.SKIPPED, why, "drive.mount(x)", "drive.mount(x)", line=1),
            CellEvent(5, CellEventKind.SKIPPED, "not run: out of time"),
        ]
        return result

    monkeypatch.setattr(check_module, "grade_notebook", grade)
    run = check_notebook(NOTEBOOKS / "correct.ipynb", GradingOptions(), assignment_dir=RELU,
                         report_dir=tmp_path)  # fmt: skip
    assert run.report is not None
    titles = re.findall(r'<div class="cell-title">(.*?)</div>', run.report.read_text(), re.S)
    words = [re.sub(r"<[^>]+>", "", title) for title in titles]
    # Cells are named as the student sees them (the notebook's code cells, by first line);
    # a skipped line says which, a cell skipped whole says the cell.
    assert words == ["Code cell 1 (import numpy as np)", "A cell of your notebook"]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", run.report.read_text()))
    assert "Line 1 skipped while grading: Google Drive is not mounted while grading" in text
    assert "The cell skipped while grading: not run: out of time" in text
