"""Shared fixtures: the ReLU assignment and its test notebooks graded once per session."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.assignment import Assignment
from grader.grading import GradingOptions, grade_many
from grader.results import SubmissionResult

ROOT = Path(__file__).resolve().parent.parent
RELU = ROOT / "assignments" / "relu"
NOTEBOOKS = Path(__file__).resolve().parent / "notebooks" / "relu"
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


@pytest.fixture(scope="module")
def listener() -> Iterator[socket.socket]:
    """A socket on the grader's loopback, for notebooks that try to reach it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    yield server
    server.close()
