"""A batch graded with kernels forked from a fork server (runner/zygote.py), one with kernels
started ahead of time in boxes of their own (runner/pool.py), and one graded the way it was
before, each kernel started on demand: the same grades, the same report text."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from grader.batch.executor import LocalExecutor
from grader.batch.grade import grade_many
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions
from grader.grading.results import SubmissionResult
from grader.outputs.student_report import render_report
from grader.runner.sandbox import bwrap_problem
from tests.conftest import CELL_TIMEOUT, NOTEBOOKS, RELU, SEED, autograded

pytestmark = pytest.mark.kernel

# Right, wrong, a monkeypatch, a kernel death (a restart inside a pre-started kernel's box)
# and a mutation.
NOTEBOOKS_USED = ["correct", "wrong_values", "monkeypatch", "os_exit", "d_relu_inplace"]
# Graded last, so by a worker that graded another notebook before: right only in a kernel
# that never saw another submission's names or files.
PROBE = "zz_leftovers"
PROBE_CELLS = [
    "import os\nimport numpy as np\n"
    "leftover = 'relu' in globals() or os.path.exists('/tmp/seen') or os.path.exists('seen')\n"
    "open('/tmp/seen', 'w').close()\nopen('seen', 'w').close()",
    "def relu(x):\n    return np.abs(x) if leftover else np.maximum(0, x)",
    "def d_relu(x):\n    return (x > 0).astype(float)",
]


def _comparable(result: SubmissionResult) -> tuple[float, list[tuple[str, str, float]], str]:
    """Grades and report text, less the clock: durations and the time of grading."""
    result = dataclasses.replace(
        result,
        duration=0.0,
        graded_at="",
        checks=[dataclasses.replace(check, duration=0.0) for check in result.checks],
    )
    report = re.sub(r"\d+(\.\d+)? ?(s|ms|seconds)\b", "<time>", render_report(result))
    checks = [(check.name, check.outcome, check.points) for check in result.checks]
    return result.score, checks, report


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("class")
    for name in NOTEBOOKS_USED:
        shutil.copy(NOTEBOOKS / f"{name}.ipynb", folder)
    cells = [nbformat.v4.new_code_cell(source) for source in PROBE_CELLS]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / f"{PROBE}.ipynb")
    return folder


def _grade(folder: Path, kernel_start: str) -> list[SubmissionResult]:
    # Two spawned workers, as a batch runs: grading in this process would run the checks'
    # pytest inside this one, whose plugins (playwright's soft assertions) then nest.
    options = GradingOptions(
        seed=SEED, cell_timeout=CELL_TIMEOUT, sandbox="auto", kernel_start=kernel_start
    )
    return grade_many(Assignment.load(RELU), [folder], options, executor=LocalExecutor(2))


def test_forked_and_prestarted_kernels_grade_as_kernels_started_on_demand(
    class_folder: Path,
) -> None:
    if bwrap_problem():
        # Without the sandbox every way starts kernels on demand, and the probe's /tmp is
        # the machine's own, where the first run's file is still there for the next.
        pytest.skip(f"kernels are forked or started ahead only in the sandbox: {bwrap_problem()}")
    forked = _grade(class_folder, "fork")
    ahead = _grade(class_folder, "ahead")
    before = _grade(class_folder, "demand")
    assert [_comparable(r) for r in forked] == [_comparable(r) for r in before]
    assert [_comparable(r) for r in ahead] == [_comparable(r) for r in before]
    assert len({r.score for r in ahead}) > 2  # the notebooks differ in grade
    for results in (forked, ahead):
        probe = autograded(next(r for r in results if r.submission == f"{PROBE}.ipynb"))
        assert probe.score == probe.max_score  # its kernel was its own
