"""``grade_into``, the batch that ``nngrade grade`` runs, without the command line or kernels."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest

from grader.batch.executor import ExecutorUnavailable, LocalExecutor
from grader.batch.grade import (
    BatchStopped,
    ExecutorLost,
    Interrupted,
    NoSubmissions,
    grade_into,
)
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions
from grader.runner import sandbox as sandbox_module
from grader.runner.sandbox import Sandbox, SandboxUnavailable
from tests.batch_support import ScriptedExecutor
from tests.conftest import NOTEBOOKS, RELU

WRITTEN = ["Summary", "Grades", "Results", "Reports", "Gradescope", "JUnit"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Three submissions; the scripted executor never reads them, the gradebook hashes them."""
    folder = tmp_path / "class"
    folder.mkdir()
    for index, name in enumerate(["a", "bb", "ccc"]):
        (folder / f"{name}.ipynb").write_text(f'{{"n": {index}}}')
    return folder


def grades(out: Path) -> dict[str, str]:
    rows = csv.DictReader((out / "grades.csv").read_text(encoding="utf-8").splitlines())
    return {row["id"]: row["score"] for row in rows}


def test_everything_is_written_into_the_out_folder(folder: Path, tmp_path: Path) -> None:
    out, executor, shown = tmp_path / "out", ScriptedExecutor(), io.StringIO()
    sandboxes: list[Sandbox | None] = []
    run = grade_into(
        Assignment.load(RELU),
        [folder],
        out,
        GradingOptions(),
        executor=executor,
        on_sandbox=sandboxes.append,
        progress=shown,
    )
    assert [r.id for r in run.results] == ["a", "bb", "ccc"]  # found order, not finish order
    assert [what for what, _ in run.written] == WRITTEN
    assert all(path.exists() for _, path in run.written)
    assert grades(out) == {"a": "1", "bb": "2", "ccc": "3"}
    assert sorted(p.name for p in (out / "reports").iterdir()) == ["a.html", "bb.html", "ccc.html"]
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM results").fetchone() == (3,)
    assert sandboxes == [None]  # not a local executor: the sandbox is chosen where it runs
    assert "[3/3] a: 1/0" in shown.getvalue()
    # One seed for the batch, and no kernel sees the class, the outputs or the scratch folder.
    [(given, options)] = executor.given
    assert options.seed is not None and {r.seed for r in run.results} == {options.seed}
    assert options.private_paths[:2] == (folder, out)
    scratch = options.private_paths[2]
    assert scratch.name.startswith("nngrade-sources-") and not scratch.exists()


def test_a_second_run_reuses_what_is_stored_and_the_seed(folder: Path, tmp_path: Path) -> None:
    out, assignment = tmp_path / "out", Assignment.load(RELU)
    first = grade_into(assignment, [folder], out, GradingOptions(), executor=ScriptedExecutor())
    seed = first.results[0].seed
    again, resumed = ScriptedExecutor(), []
    second = grade_into(
        assignment,
        [folder],
        out,
        GradingOptions(),
        executor=again,
        on_result=lambda result, was_stored: resumed.append(was_stored),
    )
    assert [given for given, _ in again.given] == [[]] and resumed == [True, True, True]
    assert second.results == first.results
    forced = ScriptedExecutor()
    grade_into(assignment, [folder], out, GradingOptions(), executor=forced, force=True)
    [(given, options)] = forced.given
    assert [s.id for s in given] == ["a", "bb", "ccc"] and options.seed == seed


def test_ctrl_c_keeps_what_was_graded_and_says_how_far_it_got(folder: Path, tmp_path: Path) -> None:
    out, shown = tmp_path / "out", io.StringIO()
    executor = ScriptedExecutor(stop=KeyboardInterrupt(), stop_after=1)
    with pytest.raises(Interrupted) as stopped:
        grade_into(
            Assignment.load(RELU),
            [folder],
            out,
            GradingOptions(seed=1),
            executor=executor,
            progress=shown,
        )
    assert isinstance(stopped.value, KeyboardInterrupt)
    assert (stopped.value.stored, stopped.value.total) == (1, 3)
    assert grades(out) == {"ccc": "3"}  # the class-wide files hold what was stored
    assert executor.closed


def test_a_lost_executor_is_still_executor_unavailable(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    lost = ExecutorUnavailable("lost the connection to the Dask scheduler")
    with pytest.raises(ExecutorUnavailable) as stopped:
        grade_into(
            Assignment.load(RELU),
            [folder],
            out,
            GradingOptions(seed=1),
            executor=ScriptedExecutor(stop=lost),
        )
    assert isinstance(stopped.value, ExecutorLost) and isinstance(stopped.value, BatchStopped)
    assert str(stopped.value) == "lost the connection to the Dask scheduler"
    assert (stopped.value.stored, stopped.value.total) == (0, 3)
    assert not (out / "grades.csv").exists()  # nothing stored, nothing to write


def test_no_notebooks_is_an_error_not_an_empty_batch(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(NoSubmissions, match="no notebooks found in the given paths"):
        grade_into(
            Assignment.load(RELU),
            [tmp_path / "empty"],
            tmp_path / "out",
            GradingOptions(),
            executor=ScriptedExecutor(),
        )


def test_the_local_sandbox_is_chosen_once_before_anything_is_graded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assignment, missing = Assignment.load(RELU), tmp_path / "missing.ipynb"
    sandboxes: list[Sandbox | None] = []
    # A missing file is ungradable before any kernel starts: the batch runs without one.
    run = grade_into(
        assignment,
        [missing],
        tmp_path / "out",
        GradingOptions(sandbox="none"),
        executor=LocalExecutor(1),
        on_sandbox=sandboxes.append,
    )
    assert [r.status for r in run.results] == ["ungradable"]
    assert [s.mode if s else None for s in sandboxes] == ["none"]
    monkeypatch.setattr(sandbox_module, "bwrap_problem", lambda: "no bwrap here")
    with pytest.raises(SandboxUnavailable, match="no bwrap here"):
        grade_into(
            assignment,
            [NOTEBOOKS / "correct.ipynb"],
            tmp_path / "refused",
            GradingOptions(sandbox="bwrap"),
            executor=LocalExecutor(1),
        )
    assert not (tmp_path / "refused").exists()
