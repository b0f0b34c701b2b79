"""nngrade gradescope: the autograder zip, and its run_autograder run against a fake
/autograder tree as Gradescope would run it."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from grader.cli.commands import main
from grader.course.autograder import ROOT_ENV
from grader.course.wheel import wheel_name
from tests.conftest import RELU
from tests.course_samples import (
    SOLUTION,
    WRONG,
    offline_env,
    offline_venv,
    student_env,
    write_course,
    write_notebook,
)


@pytest.fixture(scope="module")
def autograder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("gradescope")
    out = tmp / "autograder.zip"
    course = write_course(tmp / "course")
    run = CliRunner().invoke(
        main, ["gradescope", str(course), "--out", str(out), "--timeout", "10"]
    )
    assert run.exit_code == 0, run.output
    return out


def test_the_zip_holds_the_scripts_and_a_full_copy_but_no_solution(autograder: Path) -> None:
    with zipfile.ZipFile(autograder) as archive:
        names = sorted(archive.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
        everything = b"".join(archive.read(name) for name in names)
    assert names == [
        "assignment/assignment.toml",
        "assignment/data.txt",
        "assignment/packages/answers/__init__.py",
        "assignment/template.ipynb",
        "assignment/test_square.py",
        "assignment/test_square_hidden.py",
        wheel_name(),
        "nngrade-constraints.txt",
        "run_autograder",
        "setup.sh",
    ]
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755  # unzip keeps these
    assert b"SOLUTION-MARKER" not in everything and b"REFERENCE-MARKER" in everything
    assert b"://" not in everything  # no package index is named by nngrade


def unpack(autograder: Path, root: Path) -> Path:
    """Gradescope's layout: the zip in root/source (modes kept, as unzip does), and
    run_autograder copied to the root."""
    source = root / "source"
    with zipfile.ZipFile(autograder) as archive:
        archive.extractall(source)
        for info in archive.infolist():
            (source / info.filename).chmod((info.external_attr >> 16) & 0o777)
    shutil.copy2(source / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    return root


def run_autograder(root: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    done = subprocess.run(
        [str(root / "run_autograder")],
        cwd=root,
        env=student_env(**{ROOT_ENV: str(root)}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    results = json.loads((root / "results" / "results.json").read_text())
    return done, results


def test_setup_sh_is_valid_bash_and_installs_with_the_constraints(autograder: Path) -> None:
    with zipfile.ZipFile(autograder) as archive:
        setup = archive.read("setup.sh").decode()
    assert subprocess.run(["bash", "-n", "-c", setup]).returncode == 0
    pip = '"$ROOT/nngrade-venv/bin/python" -m pip install -c nngrade-constraints.txt'
    assert f"{pip} {wheel_name()}\n" in setup  # the wheel beside it in the zip


def test_a_local_install_spec_is_carried_in_the_zip(tmp_path: Path) -> None:
    local = tmp_path / "dist" / "nngrade-9.9-py3-none-any.whl"
    local.parent.mkdir()
    local.write_bytes(b"a wheel")
    course = write_course(tmp_path / "course")
    out = tmp_path / "a.zip"
    run = CliRunner().invoke(
        main, ["gradescope", str(course), "--out", str(out), "--install", str(local)]
    )
    assert run.exit_code == 0, run.output
    with zipfile.ZipFile(out) as archive:
        setup = archive.read("setup.sh").decode()
        assert archive.read(local.name) == b"a wheel"
        assert wheel_name() not in archive.namelist()
    assert f"nngrade-constraints.txt {local.name}\n" in setup and str(tmp_path) not in setup


@pytest.mark.kernel
@pytest.mark.parametrize(
    ("source", "score", "statuses"),
    [
        (SOLUTION, 6.0, ["passed", "passed", "passed"]),
        (WRONG, 5.0, ["passed", "failed", "passed"]),
    ],
    ids=["solution", "wrong"],
)
def test_run_autograder_grades_with_hidden_checks(
    autograder: Path, tmp_path: Path, source: str, score: float, statuses: list[str]
) -> None:
    root = unpack(autograder, tmp_path / "autograder")
    write_notebook(root / "submission" / "homework.ipynb", source)
    done, results = run_autograder(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert results["score"] == score
    tests = results["tests"]
    assert [t["status"] for t in tests] == statuses
    assert [t["visibility"] for t in tests] == ["visible", "visible", "after_published"]
    assert sum(t["max_score"] for t in tests) == 6.0


def _only_output(root: Path) -> str:
    done, results = run_autograder(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert results["score"] == 0.0 and results["tests"] == []
    return str(results["output"])


def test_no_notebook_two_notebooks_and_an_unreadable_one_score_0_and_say_why(
    autograder: Path, tmp_path: Path
) -> None:
    root = unpack(autograder, tmp_path / "autograder")
    (root / "submission" / "notes.txt").write_text("I did it")
    assert "No notebook (.ipynb file) was found" in _only_output(root)
    assert "template.ipynb" in _only_output(root)
    for name in ("a.ipynb", "b.ipynb"):
        write_notebook(root / "submission" / name, SOLUTION)
    output = _only_output(root)
    assert "2 notebooks (a.ipynb, b.ipynb)" in output and "only the notebook" in output
    (root / "submission" / "a.ipynb").unlink()
    (root / "submission" / "b.ipynb").write_text("{not json")
    assert "could not be graded: the file is not a Jupyter notebook" in _only_output(root)


def test_results_are_written_even_when_nngrade_cannot_start(
    autograder: Path, tmp_path: Path
) -> None:
    root = unpack(autograder, tmp_path / "autograder")
    env = student_env(**{ROOT_ENV: str(root)})
    env["PATH"] = "/usr/bin:/bin"  # setup.sh failed: no nngrade anywhere
    done = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True)
    assert done.returncode != 0
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0.0 and "could not run nngrade" in results["output"]
    assert stat.S_IMODE((root / "run_autograder").stat().st_mode) == 0o755


@pytest.mark.kernel
def test_a_course_autograder_carries_reference_and_grades_the_solution(tmp_path: Path) -> None:
    # The course's checks import reference/ through `packages`: the zip must carry it.
    out = tmp_path / "relu.zip"
    run = CliRunner().invoke(main, ["gradescope", str(RELU), "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert "assignment/packages/reference/__init__.py" in zipfile.ZipFile(out).namelist()
    root = unpack(out, tmp_path / "autograder")
    shutil.copy(RELU / "solution.ipynb", root / "submission" / "relu.ipynb")
    done, results = run_autograder(root)
    assert done.returncode == 0, done.stdout + done.stderr
    tests = results["tests"]
    assert results["score"] == sum(t["max_score"] for t in tests) > 0
    assert "after_published" in {t["visibility"] for t in tests}


@pytest.mark.kernel
def test_setup_sh_installs_from_the_zip_and_run_autograder_grades(tmp_path: Path) -> None:
    """Gradescope's two steps in a scratch root: setup.sh installs nngrade from the wheel
    the zip carries into $ROOT/nngrade-venv, then run_autograder grades with that nngrade.
    There is no network here: the venv is made beforehand with nngrade's dependencies
    (offline_venv) and pip is given no index; setup.sh makes it again over that, as on an
    image where Python is installed, and its apt-get (for bubblewrap) is a stand-in that
    fails, as on an image without network."""
    out = tmp_path / "autograder.zip"
    run = CliRunner().invoke(main, ["gradescope", str(write_course(tmp_path / "course")),
                                    "--out", str(out), "--timeout", "20"])  # fmt: skip
    assert run.exit_code == 0, run.output
    root = unpack(out, tmp_path / "autograder")
    python = offline_venv(root / "nngrade-venv")
    stand_ins = tmp_path / "stand-ins"
    stand_ins.mkdir()
    (stand_ins / "apt-get").write_text("#!/bin/sh\necho 'apt-get: no network' >&2\nexit 100\n")
    (stand_ins / "apt-get").chmod(0o755)
    # The Python the venv was made with, under the name setup.sh looks for first.
    (stand_ins / "python3.11").symlink_to(getattr(sys, "_base_executable", sys.executable))
    env = offline_env(python, **{ROOT_ENV: str(root)})
    env["PATH"] = os.pathsep.join([str(stand_ins), "/usr/local/bin", "/usr/bin", "/bin"])
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], cwd=root / "source",
                           env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert f"Processing ./{wheel_name()}" in setup.stdout
    where = subprocess.run([str(python), "-c", "import grader; print(grader.__file__)"],
                           cwd=root, env=env, capture_output=True, text=True)  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(root / "nngrade-venv"), where.stderr
    write_notebook(root / "submission" / "homework.ipynb", SOLUTION)
    done = subprocess.run([str(root / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 6.0 and len(results["tests"]) == 3
