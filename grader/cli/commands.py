"""``nngrade grade`` and ``nngrade check``: options parsed, one library call each, printed."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from grader.batch.executor import Executor, ExecutorUnavailable, LocalExecutor
from grader.batch.grade import default_workers, grade_batch, keep_private
from grader.batch.gradebook import Gradebook
from grader.batch.out_folder import BatchOutputs
from grader.batch.progress import Progress
from grader.batch.sources import Submission, collect
from grader.cli.course import COMMANDS
from grader.cli.options import (
    fail,
    limits_from,
    load_assignment,
    notebook_timeout_option,
    sandbox_options,
    seed_option,
    timeout_option,
)
from grader.grading.assignment import AssignmentError
from grader.grading.discovery import DiscoveryError, choose_assignment
from grader.grading.engine import GradingOptions, grade_notebook, new_seed
from grader.grading.notebook_file import Ungradable
from grader.grading.results import SubmissionResult
from grader.outputs.github import CheckOutputs, step_summary_path
from grader.outputs.student_report import write_report
from grader.outputs.terminal import format_table
from grader.runner.limits import Limits
from grader.runner.sandbox import Sandbox, SandboxUnavailable

__all__ = ["main"]

EXECUTORS = ("local", "dask")


def _sandbox(requested: str, limits: Limits) -> Sandbox:
    """Choose the sandbox once, up front: a missing bwrap is a usage error, not N failures."""
    try:
        return Sandbox.choose(requested, limits)
    except SandboxUnavailable as exc:
        fail(f"--sandbox bwrap: {exc}")


def _sandbox_line(sandbox: Sandbox) -> str:
    if sandbox.mode == "bwrap":
        limits = sandbox.limits.describe()
        return f"Sandbox: bubblewrap (no network, no files but its own). Limits: {limits}."
    return (
        f"WARNING: the sandbox is off ({sandbox.unavailable_reason}): notebooks can use the "
        f"network and read your files. Limits still apply: {sandbox.limits.describe()}."
    )


def _stored_line(stored: list[SubmissionResult], found: list[Submission]) -> str:
    return (
        f"{len(stored)} of {len(found)} submissions are graded and stored. "
        "Run the same command again to grade the rest."
    )


def _executor(ctx: click.Context, name: str, scheduler: str | None, workers: int) -> Executor:
    """The executor the options ask for; contradictory options are a usage error."""
    if name == "local":
        if scheduler is not None:
            fail("--scheduler needs --executor dask")
        return LocalExecutor(workers)
    if scheduler is None:
        fail("--executor dask needs --scheduler tcp://HOST:PORT (the Dask scheduler)")
    if ctx.get_parameter_source("workers") is ParameterSource.COMMANDLINE:
        fail("--workers is for --executor local; a Dask cluster's workers are its own")
    # Imported only when asked for: distributed is an optional dependency.
    try:
        from grader.batch.dask_executor import DaskExecutor
    except ImportError as exc:
        fail(f"--executor dask needs the dask extra (pip install 'nngrade[dask]'): {exc}")
    return DaskExecutor(scheduler)


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
    help="Folder for the gradebook, reports/, grades.csv, results.json, index.html, "
    "gradescope/ and junit.xml.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=default_workers(),
    show_default="the number of cores",
    help="Submissions graded at the same time on this machine (--executor local), each in "
    "its own kernel.",
)
@click.option(
    "--executor",
    "executor_name",
    type=click.Choice(EXECUTORS),
    default="local",
    show_default=True,
    help="Where submissions are graded: --workers processes on this machine (local), or "
    "the workers of a running Dask cluster (dask, with --scheduler).",
)
@click.option(
    "--scheduler",
    metavar="tcp://HOST:PORT",
    help="The Dask scheduler's address, with --executor dask. The workers need only "
    "nngrade[dask] installed: the assignment and the notebooks are sent to them.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Grade every submission again, even those the gradebook already has.",
)
@timeout_option
@notebook_timeout_option
@seed_option
@sandbox_options
@click.pass_context
def grade(
    ctx: click.Context,
    assignment_dir: Path,
    submissions: tuple[Path, ...],
    out_dir: Path,
    workers: int,
    executor_name: str,
    scheduler: str | None,
    force: bool,
    timeout: float,
    notebook_timeout: float,
    seed: int | None,
    sandbox: str,
    **limit_args: Any,
) -> None:
    """Grade SUBMISSIONS (notebooks, folders of them, zip files) against ASSIGNMENT_DIR.

    Runs every check, hidden ones included, in parallel. Each result is stored in
    OUT/gradebook.sqlite as it is graded: run the same command again after an
    interruption and only what is missing is graded (--force: everything). Writes
    one HTML report per submission under OUT/reports/, then OUT/grades.csv,
    OUT/results.json, the class summary OUT/index.html, OUT/gradescope/ID.json and
    OUT/junit.xml. A submission that cannot be read is recorded as ungradable
    and the batch goes on. Exits 0 when every submission was graded or recorded,
    1 if nngrade itself failed on one, 2 on a usage error, 130 when interrupted.

    With --executor dask --scheduler tcp://HOST:PORT, each submission is graded by a
    worker of that Dask cluster (own kernel, sandbox and limits there); the gradebook
    and the outputs stay here.
    """
    executor = _executor(ctx, executor_name, scheduler, workers)
    assignment = load_assignment(assignment_dir)
    limits = limits_from(limit_args)
    if isinstance(executor, LocalExecutor):
        click.echo(_sandbox_line(_sandbox(sandbox, limits)), err=sandbox == "none")
    else:
        # The sandbox is chosen where the kernels run; each result records the choice.
        click.echo(
            f"Grading on the Dask cluster at {scheduler}; --sandbox {sandbox} on each worker."
        )
    outputs = BatchOutputs(out_dir, assignment.title)
    with (
        tempfile.TemporaryDirectory(prefix="nngrade-sources-") as scratch,
        Gradebook(outputs.gradebook) as gradebook,
    ):
        found = collect(submissions, Path(scratch))
        if not found:
            fail("no notebooks found in the given paths")
        options = GradingOptions(
            cell_timeout=timeout,
            notebook_timeout=notebook_timeout,
            include_hidden=True,
            seed=gradebook.run_seed(seed, new_seed()),
            sandbox=sandbox,
            limits=limits,
        )
        # No kernel sees other submissions, the outputs, or the extracted zips.
        options = keep_private(options, submissions, out_dir, Path(scratch))
        progress = Progress(len(found))

        def record(result: SubmissionResult, resumed: bool) -> None:
            outputs.add(result)
            progress.update(result, resumed)

        try:
            results = grade_batch(
                assignment,
                found,
                options,
                executor=executor,
                gradebook=gradebook,
                force=force,
                on_result=record,
            )
        except (KeyboardInterrupt, ExecutorUnavailable) as exc:
            progress.close()
            stored = gradebook.results(s.id for s in found)
            if stored:
                outputs.finish(stored)
            if isinstance(exc, ExecutorUnavailable):
                fail(str(exc) if not stored else f"{exc}\n{_stored_line(stored, found)}")
            click.echo(f"\nInterrupted: {_stored_line(stored, found)}", err=True)
            raise SystemExit(130) from None
    progress.close()
    written = outputs.finish(results)
    graded = [r for r in results if r.status == "graded"]
    failed = [r for r in results if r.status == "error"]
    click.echo(
        f"\nGraded {len(graded)} of {len(results)} submissions"
        f" ({len(results) - len(graded) - len(failed)} ungradable, {len(failed)} nngrade errors)."
    )
    for what, path in written:
        click.echo(f"{what + ':':12}{path}{'/' if path.is_dir() else ''}")
    raise SystemExit(1 if failed else 0)


@main.command()
@click.argument("notebook", type=click.Path(path_type=Path))
@click.option(
    "--assignment",
    "assignment_dir",
    type=click.Path(path_type=Path),
    help="The assignment folder (holding assignment.toml). Default: the one the notebook's "
    "metadata names, found in the notebook's folder or above it.",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the HTML report. Default: the notebook's folder.",
)
@click.option(
    "--junit",
    "junit_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the checks as JUnit XML (each check's points as properties).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the result as JSON: score, every check and its message, every cell event.",
)
@timeout_option
@notebook_timeout_option
@seed_option
@sandbox_options
def check(
    notebook: Path,
    assignment_dir: Path | None,
    report_dir: Path | None,
    junit_path: Path | None,
    json_path: Path | None,
    timeout: float,
    notebook_timeout: float,
    seed: int | None,
    sandbox: str,
    **limit_args: Any,
) -> None:
    """Check one NOTEBOOK before handing it in (visible checks only).

    Prints a table of the checks and writes an HTML report. In GitHub Actions
    (GITHUB_STEP_SUMMARY set) it also appends a summary to the job's page and prints
    GitHub Classroom's score notices. Exits 0 if every check passed, 1 if any failed,
    2 on a usage error or a notebook that cannot be read.
    """
    if not notebook.is_file():
        fail(f"{notebook}: no such file")
    try:
        assignment, note = choose_assignment(notebook, assignment_dir)
    except Ungradable as exc:
        fail(f"{notebook}: {exc}")
    except (AssignmentError, DiscoveryError) as exc:
        fail(str(exc))
    limits = limits_from(limit_args)
    chosen = _sandbox(sandbox, limits)
    if chosen.mode != "bwrap":
        click.echo(_sandbox_line(chosen), err=True)
    options = GradingOptions(
        cell_timeout=timeout,
        notebook_timeout=notebook_timeout,
        include_hidden=False,
        seed=seed,
        sandbox=sandbox,
        limits=limits,
    )
    result = grade_notebook(assignment, notebook, options)
    if note:
        result.notes.insert(0, note)
    report = None
    if result.status == "graded":
        report = write_report(result, report_dir or notebook.parent)
    ci = CheckOutputs(junit=junit_path, json=json_path, step_summary=step_summary_path())
    ci.write(result, title=assignment.title, report=report)
    if result.status != "graded":
        fail(f"{notebook}: {result.reason}")
    passed = all(c.passed for c in result.checks)
    click.echo(f"{assignment.title} ({assignment.root})")
    if note:
        click.echo(f"Note: {note}")
    click.echo(format_table(result))
    details = "" if passed else " (open it in a browser: each failure in full, and what to check)"
    click.echo(f"\nReport: {report}{details}")
    for line in ci.notices(result):
        click.echo(line)
    raise SystemExit(0 if passed else 1)


for _command in COMMANDS:
    main.add_command(_command)
