"""nngrade bundle: what students get, and self-checking with it where reference/ is unknown."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.cli.commands import main
from grader.course.install import constraints_text
from grader.course.wheel import wheel_name
from grader.grading.assignment import Assignment
from grader.grading.discovery import read_stamp, stamp_notebook, student_version
from grader.grading.neutralize import neutralize
from grader.grading.results import nngrade_version
from tests.conftest import ASSIGNMENTS
from tests.course_samples import (
    SOLUTION,
    offline_env,
    offline_venv,
    student_env,
    student_work,
    write_course,
)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_the_bundle_holds_the_template_and_the_visible_checks_only(tmp_path: Path) -> None:
    course = write_course(tmp_path / "course")
    run = CliRunner().invoke(main, ["bundle", str(course), str(tmp_path / "repo")])
    assert run.exit_code == 0, run.output
    repo = tmp_path / "repo"
    assert _files(repo) == [
        "README.md",
        "assignment.toml",
        "data.txt",
        f"install/{wheel_name()}",
        "install/nngrade-constraints.txt",
        "template.ipynb",
        "test_square.py",
    ]
    texts = [p for p in repo.rglob("*") if p.is_file() and p.suffix != ".whl"]
    everything = "\n".join(p.read_text() for p in texts)
    for secret in ("SOLUTION-MARKER", "REFERENCE-MARKER", "test_square_hidden", "answers"):
        assert secret not in everything
    # The wheel: nngrade's own package and metadata only, never the course's references.
    with zipfile.ZipFile(repo / "install" / wheel_name()) as wheel:
        names = wheel.namelist()
        content = b"".join(wheel.read(name) for name in names)
    assert {name.split("/")[0] for name in names} == {
        "grader",
        f"nngrade-{nngrade_version()}.dist-info",
    }
    assert b"SOLUTION-MARKER" not in content and b"REFERENCE-MARKER" not in content
    stamp = read_stamp(repo / "template.ipynb")
    bundled = Assignment.load(repo)
    assert stamp is not None and stamp.assignment == "square"
    assert stamp.version == bundled.version == student_version(Assignment.load(course))
    readme = (repo / "README.md").read_text()
    assert "nngrade check template.ipynb" in readme and "only when your work is graded" in readme
    # Installed from what the bundle holds, never from an index that does not have nngrade.
    pip = f"python -m pip install -c install/nngrade-constraints.txt install/{wheel_name()}"
    assert f"```sh\n{pip}\n```" in readme
    assert "pip install nngrade" not in readme
    assert (repo / "install" / "nngrade-constraints.txt").read_text() == constraints_text()
    for system in ("Linux", "macOS", "Windows", "Colab"):
        assert f"\n- {system}: " in readme
    assert "--index-url https://download.pytorch.org/whl/cpu" in readme


def test_the_stamp_records_nngrade_and_the_requires(tmp_path: Path) -> None:
    course = write_course(tmp_path / "course")
    with (course / "assignment.toml").open("a") as config:
        config.write('requires = "nngrade>=0.1"\n')
    run = CliRunner().invoke(main, ["bundle", str(course), str(tmp_path / "repo")])
    assert run.exit_code == 0, run.output
    stamp = read_stamp(tmp_path / "repo" / "template.ipynb")
    assert stamp is not None
    assert (stamp.nngrade, stamp.requires) == (nngrade_version(), "nngrade>=0.1")
    assert wheel_name() == f"nngrade-{nngrade_version()}-py3-none-any.whl"


def test_a_repository_holding_only_git_is_bundled_into(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `git clone` of the empty Classroom repository, then nngrade bundle into it from there.
    repo = tmp_path / "classroom-repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    course = write_course(tmp_path / "course")
    monkeypatch.chdir(repo)
    run = CliRunner().invoke(main, ["bundle", str(course), "."])
    assert run.exit_code == 0, run.output
    assert (repo / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert read_stamp(repo / "template.ipynb") is not None
    assert (repo / "README.md").is_file() and (repo / "install" / wheel_name()).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["classroom-repo", "course"]


def test_the_colab_cell_of_the_readme_is_skipped_when_the_notebook_runs(tmp_path: Path) -> None:
    course = write_course(tmp_path / "course")
    assert CliRunner().invoke(main, ["bundle", str(course), str(tmp_path / "repo")]).exit_code == 0
    readme = (tmp_path / "repo" / "README.md").read_text()
    (cell,) = COLAB_CELL.findall(readme)
    assert f"!pip install -q install/{wheel_name()}\n" in cell  # Colab's torch is kept
    assert "!nngrade check template.ipynb\n" in cell
    source, skipped = neutralize(cell, 3)
    # Only the import and drive.mount run (the kernel's google.colab stand-in has mount).
    kept = [line for line in source.splitlines() if line.strip() not in ("", "pass")]
    assert kept == ["from google.colab import drive", 'drive.mount("/content/drive")']
    assert [s.line for s in skipped] == [2, 3, 4, 5]


def test_bundling_into_a_folder_that_is_not_empty_is_a_usage_error(tmp_path: Path) -> None:
    course = write_course(tmp_path / "course")
    for busy, names in (("busy", ["notes.txt"]), ("busy-repo", [".git", "notes.txt"])):
        for name in names:
            (tmp_path / busy).mkdir(exist_ok=True)
            (tmp_path / busy / name).write_text("mine")
        run = CliRunner().invoke(main, ["bundle", str(course), str(tmp_path / busy)])
        assert run.exit_code == 2 and "is not empty" in run.stderr
        assert sorted(p.name for p in (tmp_path / busy).iterdir()) == names


def _nngrade(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """nngrade as a student runs it: its own process, in their folder, outside the checkout."""
    return subprocess.run(
        ["nngrade", *args], cwd=cwd, env=student_env(), capture_output=True, text=True
    )


def _reference_is_importable(cwd: Path) -> bool:
    probe = [sys.executable, "-c", "import reference"]
    return subprocess.run(probe, cwd=cwd, env=student_env(), capture_output=True).returncode == 0


@pytest.mark.kernel
def test_a_student_self_checks_the_bundle_without_flags(tmp_path: Path) -> None:
    repo = CliRunner().invoke(
        main, ["bundle", str(write_course(tmp_path / "course")), str(tmp_path / "repo")]
    )
    assert repo.exit_code == 0
    repo_dir = tmp_path / "repo"
    assert not _reference_is_importable(repo_dir), "the installed nngrade must not ship it"
    untouched = _nngrade(repo_dir, "check", "template.ipynb")
    assert untouched.returncode == 1, untouched.stderr
    assert "NotImplementedError: write square(x)" in untouched.stdout
    assert "Report: template.html" in untouched.stdout
    student_work(repo_dir, "Copy of template.ipynb", SOLUTION)
    done = _nngrade(repo_dir, "check", "Copy of template.ipynb")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Score: 3/3 (self-check: visible checks only)" in done.stdout
    assert (repo_dir / "Copy_of_template.html").is_file()


# Every assignment of the course: its visible checks import no reference/ (see
# tests/assignments/test_visible_checks.py), so a student's nngrade runs them from the bundle.
COURSE = sorted(folder.name for folder in ASSIGNMENTS.iterdir())


@pytest.mark.kernel
@pytest.mark.parametrize("name", COURSE)
def test_each_course_assignment_self_checks_from_its_bundle(tmp_path: Path, name: str) -> None:
    assignment = Assignment.load(ASSIGNMENTS / name)
    repo = tmp_path / name
    run = CliRunner().invoke(main, ["bundle", str(assignment.root), str(repo)])
    assert run.exit_code == 0, run.output
    assert not _reference_is_importable(repo)
    # The untouched template fails checks (exit 1); it must not crash them (exit 2).
    untouched = _nngrade(repo, "check", "template.ipynb", "--timeout", "60")
    assert untouched.returncode == 1, untouched.stdout + untouched.stderr
    assert assignment.solution is not None
    # The solution as a student's finished template: in the bundle, stamped like it.
    (repo / "solution.ipynb").write_bytes(assignment.solution.read_bytes())
    stamp_notebook(repo / "solution.ipynb", Assignment.load(repo))
    done = _nngrade(repo, "check", "solution.ipynb", "--timeout", "60")
    assert done.returncode == 0, done.stdout + done.stderr


COLAB_CELL = re.compile(r"```python\n(.*?)```", re.S)


@pytest.mark.kernel
def test_a_student_follows_the_readme_in_a_fresh_venv_outside_the_checkout(
    tmp_path: Path,
) -> None:
    """The README's commands, verbatim, in a new virtual environment whose only nngrade is
    the one the bundle carries. Its other packages are this venv's, seen through a .pth
    (see offline_venv): pip installs nngrade's wheel, finds torch and the rest installed,
    and is given no index (PIP_NO_INDEX), since there is no network here."""
    repo = tmp_path / "student" / "square"
    course = write_course(tmp_path / "course")
    assert CliRunner().invoke(main, ["bundle", str(course), str(repo)]).exit_code == 0
    python = offline_venv(tmp_path / "venv")
    env = offline_env(python)
    readme = (repo / "README.md").read_text()
    install, check = re.findall(r"```sh\n(.*?)```", readme, re.S)

    def shell(commands: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-e", "-c", commands], cwd=repo, env=env, capture_output=True, text=True
        )

    done = shell(install)
    assert done.returncode == 0, done.stdout + done.stderr
    where = shell(
        "python -c \"import grader, shutil; print(grader.__file__, shutil.which('nngrade'))\""
    )
    module, command = where.stdout.split()
    assert Path(module).is_relative_to(tmp_path / "venv"), where.stdout + where.stderr
    assert Path(command).is_relative_to(tmp_path / "venv")
    # The student's work, with the README's Colab cell as a Colab user leaves it in.
    nb = nbformat.read(repo / "template.ipynb", as_version=4)
    next(cell for cell in nb.cells if cell.cell_type == "code").source = SOLUTION
    nb.cells.append(nbformat.v4.new_code_cell(COLAB_CELL.findall(readme)[0]))
    nbformat.write(nb, repo / "template.ipynb")
    done = shell(check)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Score: 3/3 (self-check: visible checks only)" in done.stdout
    assert "cell 3: line 4 not run: shell commands are not run while grading" in done.stdout
    assert (repo / "template.html").is_file()
