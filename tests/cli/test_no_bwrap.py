"""The command line on a machine without bubblewrap (most laptops, Mac, Windows, Colab): a
real ``nngrade`` process with a PATH that has no ``bwrap``. ``check`` on the student's own
notebook says so in one quiet line with the results; ``grade`` keeps its WARNING."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import NOTEBOOKS, RELU
from tests.course_samples import path_without_bwrap, student_env

QUIET = "Ran without the sandbox (bubblewrap (bwrap) is not installed): fine for your own notebook."


def nngrade(tmp_path: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = student_env(PATH=path_without_bwrap(tmp_path / "path"))
    assert shutil.which("bwrap", path=env["PATH"]) is None
    return subprocess.run(
        ["nngrade", *map(str, args)], env=env, cwd=tmp_path, capture_output=True, text=True
    )


def test_an_unreadable_notebook_is_still_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text('{"nbformat": 3, "worksheets": []}')
    done = nngrade(tmp_path, "check", bad, "--assignment", RELU)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1 and "could not be converted from version 3" in done.stderr


def test_asking_for_the_sandbox_is_a_usage_error_that_names_what_is_missing(
    tmp_path: Path,
) -> None:
    done = nngrade(tmp_path, "check", NOTEBOOKS / "correct.ipynb", "--assignment", RELU,
                   "--sandbox", "bwrap")  # fmt: skip
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "nngrade: error: --sandbox bwrap: bubblewrap (bwrap) is not installed\n"


@pytest.mark.kernel
def test_check_says_it_quietly_and_grade_warns(tmp_path: Path) -> None:
    notebook = tmp_path / "mine.ipynb"
    shutil.copy(NOTEBOOKS / "correct.ipynb", notebook)
    done = nngrade(tmp_path, "check", notebook, "--assignment", RELU, "--timeout", "20")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == "" and "WARNING" not in done.stdout
    lines = done.stdout.splitlines()
    assert lines.count(QUIET) == 1 and lines.index(QUIET) > lines.index(
        "Score: 9/9 (self-check: visible checks only)"
    )
    assert (tmp_path / "mine.html").is_file()
    failing = nngrade(tmp_path, "check", NOTEBOOKS / "d_relu_zero_wrong.ipynb", "--assignment",
                      RELU, "--report", tmp_path, "--timeout", "20")  # fmt: skip
    assert failing.returncode == 1 and QUIET in failing.stdout
    graded = nngrade(tmp_path, "grade", RELU, notebook, "--out", tmp_path / "out",
                     "--timeout", "20")  # fmt: skip
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert "WARNING: the sandbox is off (bubblewrap (bwrap) is not installed)" in graded.stdout
    assert (tmp_path / "out" / "grades.csv").is_file()
