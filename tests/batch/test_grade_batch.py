"""Batch runs: parallel equals serial, interrupted runs resume, zips and Korean names."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import sqlite3
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from grader.batch import executor as executor_module
from grader.batch.executor import LocalExecutor
from grader.batch.grade import grade_into
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions
from grader.grading.results import SubmissionResult
from tests.batch_support import (
    HANGING_COPIES,
    alive,
    copy_batch,
    descendants_of,
    essentials,
    interrupt_after,
    nngrade,
    stored,
)
from tests.conftest import CELL_TIMEOUT, NOTEBOOKS, RELU, SEED

pytestmark = pytest.mark.kernel

# The hanging notebook and its copies (copy_batch) make the run long enough to interrupt.
BATCH = ["correct", "wrong_values", "only_2d", "misnamed", "infinite_loop", "syntax_error"]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("batch") / "class"
    folder.mkdir()
    copy_batch(NOTEBOOKS, BATCH, folder)
    return folder


def graded(batch: Path, out: Path, workers: int) -> list[SubmissionResult]:
    options = GradingOptions(cell_timeout=CELL_TIMEOUT, seed=SEED)
    executor = LocalExecutor(workers)
    return grade_into(Assignment.load(RELU), [batch], out, options, executor=executor).results


@pytest.fixture(scope="module")
def serial(batch: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return {r.id: essentials(r) for r in graded(batch, tmp_path_factory.mktemp("serial"), 1)}


def test_parallel_results_equal_serial_ones(
    batch: Path, serial: dict[str, Any], tmp_path: Path
) -> None:
    parallel = graded(batch, tmp_path / "out", workers=2)
    assert [r.id for r in parallel] == sorted(serial)  # in submission order, not finish order
    assert {r.id: essentials(r) for r in parallel} == serial


def test_a_batch_outlasting_its_workers_is_graded_to_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Workers are replaced after TASKS_PER_WORKER submissions; ProcessPoolExecutor's own
    # max_tasks_per_child left a batch waiting forever after the first replacement.
    monkeypatch.setattr(executor_module, "TASKS_PER_WORKER", 2)
    folder = tmp_path / "class"
    folder.mkdir()
    for i in range(7):
        shutil.copy(NOTEBOOKS / "correct.ipynb", folder / f"student_{i}.ipynb")
    results: list[SubmissionResult] = []
    grading = threading.Thread(
        target=lambda: results.extend(graded(folder, tmp_path / "out", workers=2)), daemon=True
    )
    grading.start()
    grading.join(300)
    assert not grading.is_alive(), "the batch stopped waiting for a worker"
    assert sorted(r.id for r in results) == [f"student_{i}" for i in range(7)]
    assert {r.score for r in results} == {10.0}


def test_interrupted_runs_resume_without_losing_or_repeating(
    batch: Path, serial: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = (RELU, batch, "--out", out, "--seed", SEED, "--timeout", CELL_TIMEOUT, "--workers", 2)

    first = nngrade(*args)
    said = interrupt_after(first, out, 2, signal.SIGINT)
    assert first.returncode == 130
    assert "Run the same command again to grade the rest." in said
    after_ctrl_c = stored(out)
    assert 2 <= after_ctrl_c < len(BATCH) + len(HANGING_COPIES)
    # grades.csv already lists what was graded, written whole.
    assert len((out / "grades.csv").read_text().splitlines()) == after_ctrl_c + 1

    second = nngrade(*args)
    while stored(out) < after_ctrl_c + 1:
        time.sleep(0.05)
    helpers = descendants_of(second.pid)  # workers, kernels, sandboxes
    assert helpers, "no worker processes to watch"
    interrupt_after(second, out, after_ctrl_c + 1, signal.SIGKILL)
    # Workers get SIGTERM when their parent dies, and stop their kernels on the way out.
    deadline = time.monotonic() + 10
    while any(map(alive, helpers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in helpers if alive(pid)] == []
    after_kill = stored(out)
    assert after_kill > after_ctrl_c

    third = nngrade(*args)
    stdout, stderr = third.communicate(timeout=180)
    assert third.returncode == 0, stderr
    assert stdout.count("(stored earlier)") == after_kill
    assert stored(out) == len(BATCH) + len(HANGING_COPIES)
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        ids = [row[0] for row in db.execute("SELECT id FROM results")]
    assert sorted(ids) == sorted(serial)  # nothing twice
    rows = list(csv.DictReader((out / "grades.csv").read_text(encoding="utf-8").splitlines()))
    assert {row["id"]: float(row["score"]) for row in rows} == {
        id: result["score"] for id, result in serial.items()
    }


def test_force_grades_everything_again(batch: Path, tmp_path: Path) -> None:
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(batch / "correct.ipynb", one)
    args = (RELU, one, "--out", tmp_path / "out", "--timeout", CELL_TIMEOUT)
    for extra, expected in (((), ""), ((), "(stored earlier)"), (("--force",), "")):
        stdout, _ = nngrade(*args, *extra).communicate(timeout=120)
        assert "[1/1] correct: 10/10" in stdout
        assert ("(stored earlier)" in stdout) == bool(expected)


def test_zips_non_ascii_names_and_duplicate_file_names(tmp_path: Path) -> None:
    archive = tmp_path / "lms_download.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(NOTEBOOKS / "correct.ipynb", "2022021241_이다온/hw1.ipynb")
        zipped.write(NOTEBOOKS / "only_2d.ipynb", "2022021242_김민준/hw1.ipynb")
        zipped.write(NOTEBOOKS / "correct.ipynb", "2022021242_김민준/.ipynb_checkpoints/x.ipynb")
    out = tmp_path / "out"
    process = nngrade(RELU, archive, "--out", out, "--timeout", CELL_TIMEOUT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    rows = list(csv.DictReader((out / "grades.csv").read_text(encoding="utf-8").splitlines()))
    assert [(r["id"], r["submission"], r["score"]) for r in rows] == [
        ("2022021241_이다온_hw1", "hw1.ipynb", "10"),
        # only_2d: relu and d_relu right for 2-D input only (hidden extreme values are 2-D).
        ("2022021242_김민준_hw1", "hw1.ipynb", "4.5"),
    ]
    assert (out / "reports" / "2022021242_김민준_hw1.html").is_file()
    assert "[2/2]" in stdout and os.listdir(out / "reports") != []
    # The class-wide files are written from the same results.
    summary = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="reports/2022021242_%EA%B9%80' in summary and "ReLU and its derivative" in summary
    assert sorted(p.name for p in (out / "gradescope").iterdir()) == [
        "2022021241_이다온_hw1.json",
        "2022021242_김민준_hw1.json",
    ]
    assert (out / "junit.xml").read_text(encoding="utf-8").count("<testsuite ") == 2
