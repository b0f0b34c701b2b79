"""The batch behind the executor interface: any executor, each submission counted once."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from grader.batch import executor as executor_module
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


def _grade_swallowing_a_stop(*_: Any) -> str:
    try:
        os.kill(os.getpid(), signal.SIGTERM)  # the parent stops the worker mid-submission
        time.sleep(5)
    except BaseException:  # as pytest records an exception inside a check as its failure
        pass
    return "graded"


def _work_once(answer: Any) -> None:
    executor_module._worker_setup("demand")
    executor_module.grade_one = _grade_swallowing_a_stop
    answer.put(executor_module._work(None, None, None))  # type: ignore[arg-type]
    # Back in the pool's loop, this worker would wait forever for work from a dead parent.


def _wait_for_work(ready: Any) -> None:
    executor_module._worker_setup("demand")
    ready.put("idle")
    multiprocessing.get_context("spawn").Queue().get()  # as the pool's worker waits


def _started(target: Any) -> tuple[Any, Any]:
    """A spawned process running ``target`` as a grading worker would, and its queue."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    worker = context.Process(target=target, args=(queue,))
    worker.start()
    return worker, queue


@pytest.mark.kernel  # spawns a grading worker
def test_a_stopped_worker_ends_even_when_the_checks_swallow_the_stop() -> None:
    worker, answer = _started(_work_once)
    worker.join(60)
    assert worker.exitcode == 143
    assert answer.empty()


@pytest.mark.kernel  # spawns a grading worker
def test_a_stopped_idle_worker_ends() -> None:
    worker, ready = _started(_wait_for_work)
    assert ready.get(timeout=60) == "idle"
    worker.terminate()
    worker.join(60)
    assert worker.exitcode == 143
