"""Shared fixtures: each assignment and its test notebooks, graded once per session."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.batch.executor import Executor
from grader.batch.grade import grade_into
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions
from grader.grading.results import SubmissionResult

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ROOT / "assignments"
RELU = ASSIGNMENTS / "relu"
NOTEBOOKS = Path(__file__).resolve().parent / "notebooks" / "relu"
# Short, so the hanging notebooks cost seconds; long enough for a cold kernel's imports.
CELL_TIMEOUT = 4.0
# Torch notebooks import torch in a cold kernel (about 1.5 s, more on a busy machine).
TORCH_CELL_TIMEOUT = 20.0
SEED = 20261122


def grade_assignment(
    name: str, cell_timeout: float = CELL_TIMEOUT, executor: Executor | None = None
) -> dict[str, SubmissionResult]:
    """tests/notebooks/<name>/*.ipynb plus the template and the solution, graded in one batch
    as ``nngrade grade`` grades it (by local workers unless ``executor`` is given), by file
    stem. The outputs are written, then thrown away."""
    assignment = Assignment.load(ASSIGNMENTS / name)
    assert assignment.template is not None and assignment.solution is not None
    paths = [Path(__file__).parent / "notebooks" / name, assignment.template, assignment.solution]
    options = GradingOptions(cell_timeout=cell_timeout, seed=SEED)
    with tempfile.TemporaryDirectory(prefix="nngrade-test-") as out:
        run = grade_into(assignment, paths, Path(out), options, executor=executor)
    return {Path(r.path).stem: r for r in run.results}


@pytest.fixture(scope="session")
def graded_relu() -> dict[str, SubmissionResult]:
    return grade_assignment("relu")


@pytest.fixture(scope="session")
def graded_backprop() -> dict[str, SubmissionResult]:
    return grade_assignment("backprop")


@pytest.fixture(scope="session")
def graded_layers() -> dict[str, SubmissionResult]:
    return grade_assignment("layers")


@pytest.fixture(scope="session")
def graded_bce() -> dict[str, SubmissionResult]:
    return grade_assignment("bce", TORCH_CELL_TIMEOUT)


@pytest.fixture(scope="session")
def graded_torch_mlp() -> dict[str, SubmissionResult]:
    return grade_assignment("torch_mlp", TORCH_CELL_TIMEOUT)


@pytest.fixture(scope="module")
def listener() -> Iterator[socket.socket]:
    """A socket on the grader's loopback, for notebooks that try to reach it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    yield server
    server.close()
