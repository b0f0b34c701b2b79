"""What students install: a wheel with the templates and the kernel's files, never reference/,
that checks a bundle when installed outside any checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli.commands import main
from grader.course.wheel import build_wheel
from tests.course_samples import ROOT, SOLUTION, student_env, student_work, write_course

# What a wheel is built from (pyproject's readme is part of the metadata).
SOURCES = ("pyproject.toml", "README.md", "grader", "templates")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a clean copy: setuptools' build/ folder would keep files deleted since.
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, src / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    done = subprocess.run(
        [*command, "-q", "-w", str(tmp / "dist"), str(src)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    (built,) = (tmp / "dist").glob("nngrade-*.whl")
    return built


def test_the_wheel_has_every_module_the_kernel_files_and_the_templates(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "grader").rglob("*.py")}
    assert modules <= names, f"not in the wheel: {sorted(modules - names)}"
    templates = {f"grader/templates/{p.name}" for p in (ROOT / "templates").iterdir()}
    assert templates <= names and "grader/templates/report.html.j2" in names
    assert "grader/_kernel/nngrade_kernel.py" in names
    assert not [name for name in names if name.startswith(("reference/", "assignments/"))]
    assert not [name for name in names if "__pycache__" in name or name.startswith("tests/")]


def test_the_shipped_wheel_holds_what_setuptools_builds(wheel: Path, tmp_path: Path) -> None:
    # What bundle, init-ci and gradescope carry is made from the running installation
    # (grader.course.wheel), not by setuptools: the same files, the same requirements.
    shipped = build_wheel(tmp_path)
    assert shipped.name == wheel.name

    def contents(path: Path) -> tuple[set[str], list[str]]:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            (meta,) = [n for n in names if n.endswith(".dist-info/METADATA")]
            requires = archive.read(meta).decode().splitlines()
        return {n for n in names if ".dist-info/" not in n}, [
            line for line in requires if line.startswith(("Requires-Dist:", "Version:"))
        ]

    assert contents(shipped) == contents(wheel)
    with zipfile.ZipFile(shipped) as archive:
        entry = next(n for n in archive.namelist() if n.endswith("entry_points.txt"))
        assert "nngrade = grader.cli:main" in archive.read(entry).decode()
        assert archive.testzip() is None


@pytest.mark.kernel
def test_an_installed_wheel_checks_a_bundle_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target)]
    done = subprocess.run([*install, str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    repo = tmp_path / "repo"
    assert CliRunner().invoke(main, ["bundle", str(write_course(tmp_path / "c")), str(repo)])
    student_work(repo, "mine.ipynb", SOLUTION)
    # The wheel's nngrade first; the venv's other packages as its dependencies.
    env = student_env(PYTHONPATH=str(target))
    where = subprocess.run(
        [sys.executable, "-c", "import grader; print(grader.__file__)"],
        cwd=repo, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(target), where.stdout + where.stderr
    done = subprocess.run(
        [str(target / "bin" / "nngrade"), "check", "mine.ipynb"],
        cwd=repo, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Score: 3/3" in done.stdout
    report = (repo / "mine.html").read_text()
    assert "square(3) is 9" in report and "<style" in report  # the shipped templates
