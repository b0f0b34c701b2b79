"""``nngrade init-ci``: a GitHub Actions workflow that checks an assignment repository's notebooks.

The workflow installs nngrade from files written beside it (the wheel of the running
nngrade and a constraints file, see grader.course.install), runs ``nngrade check`` on each
notebook (JUnit XML, the JSON result, the job summary and Classroom's score notices come
from that command), and uploads the HTML reports as an artifact even when checks fail.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

from grader.course.install import (
    CONSTRAINTS_NAME,
    carry_install,
    constraints_text,
    pip_install_command,
)
from grader.grading.assignment import Assignment
from grader.outputs.files import atomic_write_text

__all__ = ["RESULTS_DIR", "WORKFLOW", "WorkflowError", "init_ci", "workflow_yaml"]

WORKFLOW = Path(".github/workflows/nngrade.yml")
CONSTRAINTS = Path(".github") / CONSTRAINTS_NAME
RESULTS_DIR = "nngrade-results"
ARTIFACT = "nngrade-report"
# GitHub Classroom takes a score only from a workflow of this name whose one job has this id.
WORKFLOW_NAME = "Autograding Tests"
JOB_ID = "run-autograding-tests"
PYTHON_VERSION = "3.11"


class WorkflowError(ValueError):
    """The workflow cannot be written as asked (a usage error, exit code 2)."""


def _q(value: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar: no YAML special character can
    # change its meaning.
    return json.dumps(value, ensure_ascii=False)


def _check_command(notebook: str, assignment: str) -> str:
    stem = Path(notebook).stem
    words = [
        "nngrade",
        "check",
        notebook,
        "--assignment",
        assignment,
        "--junit",
        f"{RESULTS_DIR}/{stem}.xml",
        "--json",
        f"{RESULTS_DIR}/{stem}.json",
        "--report",
        RESULTS_DIR,
    ]
    return " ".join(shlex.quote(word) for word in words)


def workflow_yaml(notebooks: list[str], assignment: str, install: str) -> str:
    """The workflow's text. ``notebooks`` and ``assignment`` are paths relative to the
    repository's root; ``install`` is what pip installs (see grader.course.install)."""
    pip = pip_install_command("python", install, CONSTRAINTS.as_posix())
    lines = [
        "# Written by nngrade init-ci. Checks the notebooks on every push; the HTML reports",
        f"# are the run's artifact {ARTIFACT!r}. GitHub Classroom reads the score only from a",
        f"# workflow named {WORKFLOW_NAME!r} whose one job is {JOB_ID!r}: keep both names.",
        f"name: {_q(WORKFLOW_NAME)}",
        "on:",
        "  push:",
        "  workflow_dispatch:",
        "permissions:",
        "  contents: read",
        "jobs:",
        f"  {JOB_ID}:",
        "    runs-on: ubuntu-latest",
        "    timeout-minutes: 30",
        "    steps:",
        "      - name: Check out the repository",
        "        uses: actions/checkout@v4",
        "      - name: Set up Python",
        "        uses: actions/setup-python@v5",
        "        with:",
        f"          python-version: {_q(PYTHON_VERSION)}",
        "      - name: Install nngrade",
        f"        run: {_q(pip)}",
    ]
    for index, notebook in enumerate(notebooks):
        lines += [f"      - name: {_q('Check ' + notebook)}"]
        if index:
            # Every notebook is checked even when an earlier one failed its checks.
            lines += ["        if: ${{ !cancelled() }}"]
        lines += [f"        run: {_q(_check_command(notebook, assignment))}"]
    lines += [
        "      - name: Upload the HTML reports",
        "        # Also, and above all, when checks failed.",
        "        if: ${{ always() }}",
        "        uses: actions/upload-artifact@v4",
        "        with:",
        f"          name: {_q(ARTIFACT)}",
        f"          path: {_q(RESULTS_DIR + '/')}",
        "          if-no-files-found: warn",
    ]
    return "\n".join(lines) + "\n"


def _inside(path: Path, dest: Path, what: str) -> str:
    path = path.resolve()
    if not path.is_relative_to(dest):
        raise WorkflowError(
            f"{what} {path} is not inside {dest}: the workflow runs in the repository, so "
            "it must hold the assignment (nngrade bundle ASSIGNMENT_DIR DEST makes one)"
        )
    return Path(os.path.relpath(path, dest)).as_posix()


def init_ci(
    assignment: Assignment,
    dest: Path,
    *,
    notebooks: tuple[Path, ...] = (),
    install: str | None = None,
    constraints: Path | None = None,
    force: bool = False,
) -> list[Path]:
    """Write the workflow, its constraints file and what it installs into the repository
    ``dest``; return their paths. ``notebooks`` default to the assignment's template."""
    dest = dest.resolve()
    if not dest.is_dir():
        raise WorkflowError(f"{dest} is not a folder")
    if not notebooks:
        if assignment.template is None or not assignment.template.is_file():
            raise WorkflowError(f"{assignment.root} has no template notebook: pass --notebook")
        notebooks = (assignment.template,)
    names = [_inside(path, dest, "the notebook") for path in notebooks]
    stems = [Path(name).stem for name in names]
    if len(set(stems)) != len(stems):
        raise WorkflowError("two notebooks share a file name: their results would collide")
    root = _inside(assignment.root, dest, "the assignment")
    targets = {dest / WORKFLOW: "", dest / CONSTRAINTS: constraints_text(constraints)}
    existing = [path for path in targets if path.exists()]
    if existing and not force:
        raise WorkflowError(f"{existing[0]} exists; pass --force to overwrite it")
    # The workflow runs in the repository's root: the wheel (or the files --install names)
    # is committed beside the constraints.
    args, carried = carry_install(install, dest / CONSTRAINTS.parent, CONSTRAINTS.parent.as_posix())
    targets[dest / WORKFLOW] = workflow_yaml(names, root, args)
    for path, text in targets.items():
        atomic_write_text(path, text)
    return [*targets, *carried]
