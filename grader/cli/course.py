"""The commands that make what students and graders use: ``bundle``, ``init-ci``,
``gradescope`` (and ``gradescope-run``, which an autograder's run_autograder calls)."""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.options import (
    constraints_option,
    fail,
    install_option,
    load_assignment,
    notebook_timeout_option,
    timeout_option,
)
from grader.course.autograder import build_autograder, run_autograder
from grader.course.bundle import bundle as make_bundle
from grader.course.init_ci import WorkflowError
from grader.course.init_ci import init_ci as write_workflow
from grader.course.wheel import WheelError
from grader.grading.assignment import AssignmentError
from grader.grading.engine import GradingOptions
from grader.outputs.wording import format_points

__all__ = ["COMMANDS"]


@click.command()
@click.argument("assignment_dir", type=click.Path(path_type=Path))
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
@install_option
def bundle(assignment_dir: Path, dest: Path, install: str | None) -> None:
    """Write the student copy of ASSIGNMENT_DIR into DEST (absent, empty, or a repository
    holding only .git).

    DEST gets the settings, the template (its metadata stamped with the assignment's
    name and version, so that nngrade check finds the checks without flags), the visible
    checks, the support files, install/ (a wheel of this nngrade and a constraints file)
    and a README on installing and self-checking. Never the solution, the hidden checks
    or the packages the checks import.
    """
    assignment = load_assignment(assignment_dir)
    try:
        copy = make_bundle(assignment, dest, install=install)
    except (AssignmentError, WheelError) as exc:
        fail(str(exc))
    click.echo(f"Bundle for students: {copy.root} (version {copy.version})")
    for path in sorted(copy.root.rglob("*")):
        if path.is_file():
            click.echo(f"  {path.relative_to(copy.root).as_posix()}")


@click.command("init-ci")
@click.argument("assignment_dir", type=click.Path(path_type=Path))
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--notebook",
    "notebooks",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A notebook in DEST to check (repeatable). Default: the assignment's template.",
)
@install_option
@constraints_option
@click.option("--force", is_flag=True, help="Overwrite the workflow if it exists.")
def init_ci(
    assignment_dir: Path,
    dest: Path,
    notebooks: tuple[Path, ...],
    install: str | None,
    constraints: Path | None,
    force: bool,
) -> None:
    """Write a GitHub Actions workflow into the repository DEST that checks its notebooks.

    DEST/.github/workflows/nngrade.yml installs nngrade from DEST/.github (a wheel of this
    nngrade and a constraints file, written there), runs nngrade check on each
    notebook against ASSIGNMENT_DIR (which must be inside DEST) and uploads the HTML
    reports as the artifact nngrade-report, also when checks fail.
    """
    assignment = load_assignment(assignment_dir)
    try:
        written = write_workflow(
            assignment,
            dest,
            notebooks=notebooks,
            install=install,
            constraints=constraints,
            force=force,
        )
    except (WorkflowError, WheelError) as exc:
        fail(str(exc))
    for path in written:
        click.echo(f"Wrote {path}")


@click.command()
@click.argument("assignment_dir", type=click.Path(path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The zip to write, e.g. autograder.zip.",
)
@install_option
@constraints_option
@timeout_option
@notebook_timeout_option
def gradescope(
    assignment_dir: Path,
    out: Path,
    install: str | None,
    constraints: Path | None,
    timeout: float,
    notebook_timeout: float,
) -> None:
    """Build a Gradescope autograder zip for ASSIGNMENT_DIR.

    It holds setup.sh (installs nngrade from the wheel of this nngrade and the constraints
    file that the zip carries), run_autograder (grades the submitted notebook
    with every check into results.json; hidden checks are shown once grades are
    published) and a copy of the assignment with its hidden checks, never the solution.
    """
    assignment = load_assignment(assignment_dir)
    try:
        zip_path = build_autograder(
            assignment,
            out,
            install=install,
            constraints=constraints,
            cell_timeout=timeout,
            notebook_timeout=notebook_timeout,
        )
    except WheelError as exc:
        fail(str(exc))
    click.echo(f"Autograder for Gradescope: {zip_path} (assignment version {assignment.version})")


@click.command("gradescope-run", hidden=True)
@click.argument("root", type=click.Path(path_type=Path, file_okay=False))
@timeout_option
@notebook_timeout_option
def gradescope_run(root: Path, timeout: float, notebook_timeout: float) -> None:
    """What an autograder's run_autograder calls: grade ROOT/submission into ROOT/results."""
    options = GradingOptions(cell_timeout=timeout, notebook_timeout=notebook_timeout)
    data = run_autograder(root, options)
    click.echo(data["output"])
    click.echo(f"Score: {format_points(data['score'])}")


COMMANDS = (bundle, init_ci, gradescope, gradescope_run)
