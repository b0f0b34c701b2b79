"""Shared fixtures: each assignment and its test notebooks, graded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.assignment import Assignment
from grader.grading import GradingOptions, grade_many
from grader.results import SubmissionResult

ROOT = Path(__file__).resolve().parent.parent
RELU = ROOT / "assignments" / "relu"
NOTEBOOKS = Path(__file__).resolve().parent / "notebooks" / "relu"
BACKPROP = ROOT / "assignments" / "backprop"
BACKPROP_NOTEBOOKS = NOTEBOOKS.parent / "backprop"
# Short, so the hanging notebooks cost seconds; long enough for a cold kernel's imports.
CELL_TIMEOUT = 4.0
SEED = 20261122


@pytest.fixture(scope="session")
def relu_assignment() -> Assignment:
    return Assignment.load(RELU)


@pytest.fixture(scope="session")
def graded_relu(relu_assignment: Assignment) -> dict[str, SubmissionResult]:
    """Every test notebook, plus the template and the solution, graded in one batch."""
    paths = [NOTEBOOKS, RELU / "template.ipynb", RELU / "solution.ipynb"]
    options = GradingOptions(cell_timeout=CELL_TIMEOUT, seed=SEED)
    return {Path(r.path).stem: r for r in grade_many(relu_assignment, paths, options)}


@pytest.fixture(scope="session")
def graded_backprop() -> dict[str, SubmissionResult]:
    """The backprop test notebooks, the template and the solution, graded in one batch."""
    paths = [BACKPROP_NOTEBOOKS, BACKPROP / "template.ipynb", BACKPROP / "solution.ipynb"]
    options = GradingOptions(cell_timeout=CELL_TIMEOUT, seed=SEED)
    results = grade_many(Assignment.load(BACKPROP), paths, options)
    return {Path(r.path).stem: r for r in results}
