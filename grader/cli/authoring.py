"""The commands that make an assignment: ``new``, ``assign`` and ``validate``."""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.options import fail, load_assignment
from grader.course.assign import AssignError, template_bytes
from grader.course.expect import ExpectError
from grader.course.point_table import format_table
from grader.course.scaffold import ScaffoldError, new_assignment
from grader.course.validate import DEFAULT_SEEDS
from grader.course.validate import validate as run_validation
from grader.grading.assignment import CONFIG, Assignment, AssignmentError

__all__ = ["AUTHORING"]


@click.command()
@click.argument("name")
@click.option(
    "--dir",
    "parent",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="The folder to make the assignment's folder in.",
)
def new(name: str, parent: Path) -> None:
    """Make a new assignment folder NAME to start from.

    It holds assignment.toml (each setting explained), a solution notebook with the
    markers that nngrade assign reads, a visible and a hidden check file with one check
    each, a reference package that the hidden checks import, and a README for the author
    on the steps that follow (assign, validate, bundle).
    """
    try:
        folder = new_assignment(name, parent)
    except ScaffoldError as exc:
        fail(str(exc))
    click.echo(f"New assignment: {folder}")
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            click.echo(f"  {path.relative_to(folder).as_posix()}")
    click.echo(f"Next: write the solution, then nngrade assign {folder / 'solution.ipynb'}")


@click.command()
@click.argument("solution", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The template to write. Default: the assignment's template (from the "
    "assignment.toml in the solution's folder), else template.ipynb beside the solution.",
)
@click.option(
    "--assignment",
    "assignment_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="The assignment whose name and version stamp the template. Default: the "
    "solution's folder, when it holds assignment.toml.",
)
def assign(solution: Path, out: Path | None, assignment_dir: Path | None) -> None:
    """Write the student template made from the instructor's SOLUTION notebook.

    In code cells, the lines from "# BEGIN SOLUTION" to "# END SOLUTION" become
    raise NotImplementedError("Write your code here: NAME") at the same indentation, and a
    cell whose first line is "# SOLUTION" becomes that line alone. A markdown cell whose first
    line is "<!-- ANSWER id=ID points=N -->" (a model written answer) becomes "YOUR ANSWER
    HERE", with the question in its metadata. Markdown is kept, outputs are cleared, and the
    template is stamped with the assignment's name and version. The same solution always
    gives the same bytes. Exits 0 when written, 2 on a usage error or malformed markers.
    """
    folder = assignment_dir or solution.parent
    assignment: Assignment | None = None
    if assignment_dir is not None or (folder / CONFIG).is_file():
        assignment = load_assignment(folder)
    if out is None:
        chosen = assignment.template if assignment is not None else None
        out = chosen or solution.parent / "template.ipynb"
    if out.resolve() == solution.resolve():
        fail(f"--out {out} is the solution itself; the template needs a file of its own")
    try:
        data = template_bytes(solution, assignment)
    except AssignError as exc:
        fail(f"{solution}: {exc}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    stamp = f" stamped for {assignment.name}" if assignment is not None else " (not stamped)"
    click.echo(f"Template: {out}{stamp}")


@click.command()
@click.argument("assignment_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=DEFAULT_SEEDS,
    show_default=True,
    help="Seeds to grade the solution on (0 to N-1): every check must pass on each.",
)
@click.option(
    "--expect",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help='A TOML file of known notebooks and their expected scores: [notebooks."PATH"] '
    "score = N, failed = [...] (paths relative to the file). Each is graded in a kernel.",
)
@click.option(
    "--kernel",
    is_flag=True,
    help="Grade the solution and the template in kernels, as submissions are, instead of "
    "in this process (slower; used anyway when the solution cannot run here).",
)
def validate(assignment_dir: Path, seeds: int, expect: Path | None, kernel: bool) -> None:
    """Check ASSIGNMENT_DIR before handing it out.

    The solution must get full marks on every seed; a check that gives the template points
    judges no student code; visible checks must not import the assignment's packages or
    hidden checks; every check needs points (the table shows what each is worth, a
    parametrised check as its cases times their points); a check must give the same
    verdict when a seed is run again; the student bundle must build; with --expect, the
    known notebooks must score as expected. Exits 0 when nothing was found, 1 when
    something was (each problem is printed), 2 on a usage error.
    """
    assignment = load_assignment(assignment_dir)
    click.echo(f"Validating {assignment.name} ({assignment.root})")
    try:
        report = run_validation(
            assignment,
            seeds=seeds,
            expect=expect,
            kernel=kernel,
            progress=lambda text: click.echo(f"  {text}..."),
        )
    except (ExpectError, AssignmentError) as exc:
        fail(str(exc))
    if report.table:
        click.echo("\nPoints:")
        click.echo(format_table(report.table))
    for note in report.notes:
        click.echo(f"\nNote: {note}")
    if report.findings:
        click.echo(f"\n{len(report.findings)} problems found:")
        for finding in report.findings:
            click.echo(f"  {finding}")
        raise SystemExit(1)
    click.echo(f"\nOK: {assignment.name} is ready to hand out.")


AUTHORING = (new, assign, validate)
