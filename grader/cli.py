"""The ``nngrade`` command line: a thin layer over grader.grading and grader.report."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click

from grader.assignment import Assignment, AssignmentError
from grader.grading import GradingOptions, grade_many, grade_notebook
from grader.report import (
    format_table,
    write_grades_csv,
    write_report,
    write_results_json,
)
from grader.results import SubmissionResult

__all__ = ["main"]

EXIT_USAGE = 2

timeout_option = click.option(
    "--timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds each notebook cell may run before it is stopped.",
)
seed_option = click.option(
    "--seed",
    type=click.IntRange(min=0),
    help="Seed for the checks' random inputs. Default: a new seed, recorded in the results.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nngrade")
def main() -> None:
    """Grade neural-network homework notebooks.

    Student code runs only in a fresh Jupyter kernel per notebook; the checks run in
    this process and receive the student's results as data.
    """


@main.command()
@click.argument("assignment_dir", type=click.Path(path_type=Path))
@click.argument("submissions", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for grades.csv, results.json and reports/.",
)
@timeout_option
@seed_option
def grade(
    assignment_dir: Path,
    submissions: tuple[Path, ...],
    out_dir: Path,
    timeout: float,
    seed: int | None,
) -> None:
    """Grade SUBMISSIONS (notebooks, or folders of them) against ASSIGNMENT_DIR.

    Runs every check, hidden ones included. Writes OUT/grades.csv, OUT/results.json
    and one HTML report per submission under OUT/reports/. A submission that cannot
    be read is recorded as ungradable and the batch goes on. Exits 0 when every
    submission was graded or recorded, 1 if nngrade itself failed on one, 2 on a
    usage error.
    """
    assignment = _load(assignment_dir)
    reports = out_dir / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    results: list[SubmissionResult] = []

    def record(result: SubmissionResult) -> None:
        # Everything is written as each result arrives, so an interrupted run loses nothing.
        results.append(result)
        write_report(result, reports)
        write_grades_csv(results, out_dir / "grades.csv")
        write_results_json(results, out_dir / "results.json")
        click.echo(f"[{len(results)}] {result.submission}: {_status_line(result)}")

    options = GradingOptions(cell_timeout=timeout, include_hidden=True, seed=seed)
    grade_many(assignment, submissions, options, on_result=record)
    if not results:
        _fail("no notebooks found in the given paths")
    graded = [r for r in results if r.status == "graded"]
    failed = [r for r in results if r.status == "error"]
    click.echo(
        f"\nGraded {len(graded)} of {len(results)} submissions"
        f" ({len(results) - len(graded) - len(failed)} ungradable, {len(failed)} nngrade errors)."
    )
    click.echo(f"Grades:  {out_dir / 'grades.csv'}")
    click.echo(f"Results: {out_dir / 'results.json'}")
    click.echo(f"Reports: {reports}/")
    raise SystemExit(1 if failed else 0)


@main.command()
@click.argument("notebook", type=click.Path(path_type=Path))
@click.option(
    "--assignment",
    "assignment_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="The assignment folder (holding assignment.toml).",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the HTML report. Default: the notebook's folder.",
)
@timeout_option
@seed_option
def check(
    notebook: Path,
    assignment_dir: Path,
    report_dir: Path | None,
    timeout: float,
    seed: int | None,
) -> None:
    """Check one NOTEBOOK before handing it in (visible checks only).

    Prints a table of the checks and writes an HTML report. Exits 0 if every check
    passed, 1 if any failed, 2 on a usage error or a notebook that cannot be read.
    """
    assignment = _load(assignment_dir)
    if not notebook.is_file():
        _fail(f"{notebook}: no such file")
    options = GradingOptions(cell_timeout=timeout, include_hidden=False, seed=seed)
    result = grade_notebook(assignment, notebook, options)
    if result.status != "graded":
        _fail(f"{notebook}: {result.reason}")
    click.echo(format_table(result))
    report = write_report(result, report_dir or notebook.parent)
    click.echo(f"\nReport: {report}")
    raise SystemExit(0 if all(c.passed for c in result.checks) else 1)


def _load(assignment_dir: Path) -> Assignment:
    try:
        return Assignment.load(assignment_dir)
    except AssignmentError as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    click.echo(f"nngrade: error: {message}", err=True)
    raise SystemExit(EXIT_USAGE)


def _status_line(result: SubmissionResult) -> str:
    if result.status == "graded":
        return f"{result.score:g}/{result.max_score:g} ({result.duration:.1f} s)"
    return f"{result.status}: {result.reason}"
