"""The batch behind the executor interface: any executor, each submission counted once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from grader.batch.grade import grade_batch
from grader.batch.gradebook import Gradebook
from grader.batch.sources import Submission
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions
from grader.grading.results import SubmissionResult
from tests.batch_support import ScriptedExecutor
from tests.conftest import NOTEBOOKS, RELU


def submissions(*ids: str) -> list[Submission]:
    return [Submission(id, f"{id}.ipynb", id, NOTEBOOKS / "correct.ipynb") for id in ids]


def test_each_submission_is_stored_and_reported_once(tmp_path: Path) -> None:
    seen: list[str] = []
    with Gradebook(tmp_path / "gradebook.sqlite") as gradebook:
        results = grade_batch(
            Assignment.load(RELU),
            submissions("ann", "bo", "cyd"),
            GradingOptions(seed=1),
            executor=ScriptedExecutor(extra=["ann", "stray"]),
            gradebook=gradebook,
            on_result=lambda result, _resumed: seen.append(result.id),
        )
    assert [r.id for r in results] == ["ann", "bo", "cyd"]  # submission order
    assert sorted(seen) == ["ann", "bo", "cyd"]
    with sqlite3.connect(tmp_path / "gradebook.sqlite") as db:
        assert sorted(row[0] for row in db.execute("SELECT id FROM results")) == sorted(seen)


def test_an_executor_that_loses_a_submission_is_an_error_not_a_silent_gap() -> None:
    with pytest.raises(RuntimeError, match="the executor returned no result for cyd"):
        grade_batch(
            Assignment.load(RELU),
            submissions("ann", "bo", "cyd"),
            GradingOptions(seed=1),
            executor=ScriptedExecutor(drop=1),
        )


def test_a_failure_while_storing_stops_the_executor() -> None:
    executor = ScriptedExecutor()

    def store(result: SubmissionResult, _resumed: bool) -> None:
        raise KeyboardInterrupt  # Ctrl-C while the first result is being written

    with pytest.raises(KeyboardInterrupt) as raised:
        grade_batch(
            Assignment.load(RELU),
            submissions("ann", "bo"),
            GradingOptions(seed=1),
            executor=executor,
            on_result=store,
        )
    # Closed by the batch itself, not when the garbage collector gets to it: the
    # traceback (kept alive here) still holds the batch's frame and with it the iterator.
    assert raised.traceback and executor.closed
