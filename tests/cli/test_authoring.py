"""An assignment made from one solution notebook with the real command line: ``nngrade new``,
``assign``, ``validate`` (with a course's own known notebooks and their expected scores)
and ``bundle``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.cli.commands import main
from grader.course.assign import template_bytes
from grader.course.scaffold import new_assignment
from grader.grading.assignment import Assignment
from tests.course_samples import student_env

# A known mistake of the course's own: the sign of the exponent.
BUGGY = "import numpy as np\n\ndef sigmoid(z):\n    return 1 / (1 + np.exp(z))\n"


def nngrade(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["nngrade", *map(str, args)],
        cwd=cwd,
        env=student_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def expected_scores(path: Path, buggy_score: float) -> None:
    path.write_text(
        "# paths are relative to this file\n"
        '[notebooks."../demo/solution.ipynb"]\nscore = 3.0\nfailed = []\n\n'
        f'[notebooks."buggy.ipynb"]\nscore = {buggy_score}\n'
        'failed = ["test_sigmoid_values", "test_sigmoid_extremes"]\n',
        encoding="utf-8",
    )


@pytest.mark.kernel
def test_new_assign_validate_and_bundle(tmp_path: Path) -> None:
    made = nngrade("new", "demo", "--dir", tmp_path, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    folder = tmp_path / "demo"
    assert (folder / "solution.ipynb").is_file() and not (folder / "template.ipynb").exists()

    first = nngrade("assign", "demo/solution.ipynb", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "stamped for demo" in first.stdout
    written = (folder / "template.ipynb").read_bytes()
    again = nngrade("assign", "solution.ipynb", "--out", tmp_path / "copy.ipynb", cwd=folder)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "copy.ipynb").read_bytes() == written  # byte for byte
    template = nbformat.reads(written.decode(), as_version=4)
    assert 'raise NotImplementedError("Write your code here: sigmoid")' in template.cells[2].source
    assert template.cells[-1].metadata["nngrade"]["answer"]["id"] == "saturation"

    known = tmp_path / "known"
    known.mkdir()
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(BUGGY)]), known / "buggy.ipynb"
    )
    expected_scores(known / "expected.toml", 0.0)
    checked = nngrade(
        "validate", "demo", "--seeds", "3", "--expect", known / "expected.toml", cwd=tmp_path
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    rows = [line.split() for line in checked.stdout.splitlines()]
    assert ["test_sigmoid_values", "visible", "2"] in rows
    assert ["test_sigmoid_extremes", "hidden", "1"] in rows
    assert "[0.007" not in checked.stdout  # what the solution prints is not validate's output
    assert "OK: demo is ready to hand out." in checked.stdout

    expected_scores(known / "expected.toml", 1.0)
    wrong = nngrade(
        "validate", "demo", "--seeds", "1", "--expect", known / "expected.toml", cwd=tmp_path
    )
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert "expect: buggy.ipynb scored 0; expected 1" in wrong.stdout

    handed = nngrade("bundle", "demo", tmp_path / "student", cwd=tmp_path)
    assert handed.returncode == 0, handed.stderr
    files = {path.name for path in (tmp_path / "student").rglob("*") if path.is_file()}
    assert {"template.ipynb", "test_demo.py", "assignment.toml"} <= files
    assert not files & {"solution.ipynb", "hidden_demo.py", "__init__.py"}


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    runs = [
        nngrade("new", "taken", cwd=tmp_path),
        nngrade("new", "1bad", cwd=tmp_path),
        nngrade("validate", tmp_path / "nowhere", cwd=tmp_path),
    ]
    assert [run.returncode for run in runs] == [2, 2, 2]
    assert "exists already" in runs[0].stderr
    assert "not a usable assignment name" in runs[1].stderr


def broken(tmp_path: Path, extra: str) -> Path:
    """The scaffold with ``extra`` appended to its visible checks, and its template made."""
    folder = new_assignment("demo", tmp_path)
    check = folder / "test_demo.py"
    check.write_text(check.read_text(encoding="utf-8") + extra, encoding="utf-8")
    (folder / "template.ipynb").write_bytes(
        template_bytes(folder / "solution.ipynb", Assignment.load(folder))
    )
    return folder


FREE_AND_FLAKY = '''
import os

import demo_reference


@pytest.mark.points(1)
def test_free(notebook):
    """pays whatever the notebook"""


@pytest.mark.points(1)
def test_coin(notebook):
    """passes on every other run"""
    runs = int(os.environ.get("NNGRADE_TEST_RUNS", "0")) + 1
    os.environ["NNGRADE_TEST_RUNS"] = str(runs)
    assert runs % 2
'''


def test_validate_names_each_problem_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NNGRADE_TEST_RUNS", "0")
    folder = broken(tmp_path, FREE_AND_FLAKY)
    run = CliRunner().invoke(main, ["validate", str(folder), "--seeds", "2"])
    assert run.exit_code == 1, run.output
    problems = run.output.split("problems found:\n")[1].splitlines()
    assert problems[0].startswith(
        "  imports: test_demo.py, line 23: imports demo_reference, an instructor-only package"
    )
    kinds = {line.split(":")[0].strip() for line in problems}
    assert kinds == {"imports", "solution", "flaky", "template"}
    assert any(
        line.startswith("  template: test_free gives the template 1 of 1") for line in problems
    )
    assert any(line.startswith("  flaky: test_coin was ") for line in problems)
    assert any(
        line.startswith("  solution: test_coin does not pass the solution on seed 1")
        for line in problems
    )
    rows = [line.split() for line in run.output.splitlines()]
    assert ["test_free", "visible", "1"] in rows


def test_validate_names_checks_without_points(tmp_path: Path) -> None:
    folder = broken(tmp_path, "\n\ndef test_unpaid(notebook):\n    pass\n")
    run = CliRunner().invoke(main, ["validate", str(folder), "--seeds", "2"])
    assert run.exit_code == 1, run.output
    assert "  points: test_demo.py::test_unpaid has no @pytest.mark.points(n)" in run.output
    assert "were not graded: a check without points stops the checks from loading" in run.output
