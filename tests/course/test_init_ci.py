"""nngrade init-ci: the workflow is valid YAML with the documented steps, and its run: steps
do on this machine what they do on GitHub (install replaced by this venv, no network)."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from grader.cli.commands import main
from grader.course.init_ci import RESULTS_DIR, WORKFLOW
from grader.course.wheel import wheel_name
from tests.course_samples import SOLUTION, WRONG, student_env, student_work, write_course


def invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A bundled assignment repository with the workflow written into it."""
    assert invoke("bundle", write_course(tmp_path / "course"), tmp_path / "repo").exit_code == 0
    run = invoke("init-ci", tmp_path / "repo", tmp_path / "repo")
    assert run.exit_code == 0, run.output
    return tmp_path / "repo"


def load(repo: Path) -> dict[Any, Any]:
    data = yaml.safe_load((repo / WORKFLOW).read_text())
    assert isinstance(data, dict)
    return data


def steps(repo: Path) -> list[dict[str, Any]]:
    return list(load(repo)["jobs"]["run-autograding-tests"]["steps"])


def test_the_workflow_has_the_documented_steps(repo: Path) -> None:
    data = load(repo)
    assert data["name"] == "Autograding Tests"  # GitHub Classroom reads no other
    assert set(data[True]) == {"push", "workflow_dispatch"}  # YAML 1.1 reads `on` as True
    assert list(data["jobs"]) == ["run-autograding-tests"]
    found = steps(repo)
    assert [step["name"] for step in found] == [
        "Check out the repository",
        "Set up Python",
        "Install nngrade",
        "Check template.ipynb",
        "Upload the HTML reports",
    ]
    assert found[0]["uses"].startswith("actions/checkout@")
    assert found[1]["with"] == {"python-version": "3.11"}
    install = found[2]["run"]
    wheel = f".github/{wheel_name()}"
    assert install == f"python -m pip install -c .github/nngrade-constraints.txt {wheel}"
    assert (repo / wheel).is_file()  # committed with the workflow: nngrade is on no index
    constraints = (repo / ".github" / "nngrade-constraints.txt").read_text()
    assert "\ntorch==2.13.0\n" in constraints
    upload = found[4]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["if"] == "${{ always() }}" and upload["with"]["path"] == f"{RESULTS_DIR}/"
    # Nothing generated names a package index: pip options come from --install or the file.
    for text in ((repo / WORKFLOW).read_text(), constraints):
        assert "://" not in text
    assert not [line for line in constraints.splitlines() if line.startswith("-")]


def test_install_spec_constraints_and_notebooks_are_configurable(
    tmp_path: Path, repo: Path
) -> None:
    mine = tmp_path / "mine-constraints.txt"
    mine.write_text("torch==2.13.0\nnumpy<3\n")
    student_work(repo, "hw 1.ipynb", WRONG)
    refused = invoke("init-ci", repo, repo, "--notebook", repo / "hw 1.ipynb")
    assert refused.exit_code == 2 and "pass --force" in refused.stderr
    wheel = "./wheels/nngrade-0.1.0-py3-none-any.whl"  # not here: a spec, kept as it is
    options: list[str | Path] = ["--force", "--install", wheel, "--constraints", mine]
    options += ["--notebook", repo / "template.ipynb", "--notebook", repo / "hw 1.ipynb"]
    run = invoke("init-ci", repo, repo, *options)
    assert run.exit_code == 0, run.output
    found = steps(repo)
    assert found[2]["run"].endswith(f" {wheel}")
    assert (repo / ".github" / "nngrade-constraints.txt").read_text() == mine.read_text()
    checks = [step for step in found if step["name"].endswith(".ipynb")]
    assert [step["name"] for step in checks] == ["Check template.ipynb", "Check hw 1.ipynb"]
    assert "if" not in checks[0] and checks[1]["if"] == "${{ !cancelled() }}"
    assert "'hw 1.ipynb'" in checks[1]["run"]  # quoted for the shell
    # A file named in --install is copied in and named relative to the repository.
    local = tmp_path / "built" / "nngrade-9.9-py3-none-any.whl"
    local.parent.mkdir()
    local.write_bytes(b"a wheel")
    run = invoke("init-ci", repo, repo, "--force", "--install", f"{local} numpy<3")
    assert run.exit_code == 0, run.output
    assert steps(repo)[2]["run"].endswith(f" .github/{local.name} 'numpy<3'")
    assert (repo / ".github" / local.name).read_bytes() == b"a wheel"
    assert str(tmp_path) not in (repo / WORKFLOW).read_text()


def test_the_assignment_must_be_inside_the_repository(tmp_path: Path) -> None:
    course = write_course(tmp_path / "course")
    (tmp_path / "elsewhere").mkdir()
    run = invoke("init-ci", course, tmp_path / "elsewhere")
    assert run.exit_code == 2 and "is not inside" in run.stderr and "nngrade bundle" in run.stderr


def run_steps(repo: Path, summary: Path) -> list[int]:
    """Each run: step as the runner would run it (bash -e, in the checkout), with the
    install step left out: this venv is on PATH instead. Returns the exit codes."""
    codes = []
    for step in steps(repo):
        if "run" not in step or step["name"] == "Install nngrade":
            continue
        env = student_env(GITHUB_STEP_SUMMARY=str(summary), GITHUB_ACTIONS="true")
        done = subprocess.run(
            ["bash", "-e", "-c", step["run"]], cwd=repo, env=env, capture_output=True, text=True
        )
        codes.append(done.returncode)
        (repo.parent / f"{step['name']}.log").write_text(done.stdout + done.stderr)
    return codes


@pytest.mark.kernel
@pytest.mark.parametrize(
    ("work", "code", "points"), [(WRONG, 1, "2/3"), (SOLUTION, 0, "3/3")], ids=["wrong", "solution"]
)
def test_the_check_step_runs_here_as_on_github(
    repo: Path, tmp_path: Path, work: str, code: int, points: str
) -> None:
    summary = tmp_path / "step_summary.md"
    # The student's pushed work: the stamped template, edited.
    student_work(repo, "template.ipynb", work)
    # Failed checks fail the step, and so the job; the upload step runs all the same.
    assert run_steps(repo, summary) == [code]
    log = (tmp_path / "Check template.ipynb.log").read_text()
    assert f"::notice title=Autograding complete::Points {points}" in log
    results = repo / RESULTS_DIR
    assert sorted(p.name for p in results.iterdir()) == [
        "template.html",
        "template.json",
        "template.xml",
    ]
    suite = ET.parse(results / "template.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == str(code)
    assert f"### nngrade: Squares: {points} points" in summary.read_text()
