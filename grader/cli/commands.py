"""``nngrade grade`` and ``nngrade check``: options parsed, one library call each, printed."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from grader.batch.check import CheckError, check_notebook
from grader.batch.executor import Executor, LocalExecutor
from grader.batch.grade import BatchStopped, NoSubmissions, default_workers, grade_into
from grader.cli.authoring import AUTHORING
from grader.cli.course import COMMANDS
from grader.cli.marking import MARKING_COMMANDS
from grader.cli.options import fail, grading_options, load_assignment, options_from
from grader.outputs.github import CheckOutputs, step_summary_path
from grader.outputs.terminal import format_table
from grader.runner.sandbox import Sandbox, SandboxUnavailable

__all__ = ["main"]

EXECUTORS = ("local", "dask")


def _sandbox_line(sandbox: Sandbox) -> str:
    if sandbox.mode == "bwrap":
        limits = sandbox.limits.describe()
        return f"Sandbox: bubblewrap (no network, no files but its own). Limits: {limits}."
    return (
        f"WARNING: the sandbox is off ({sandbox.unavailable_reason}): notebooks can use the "
        f"network and read your files. Limits still apply: {sandbox.limits.describe()}."
    )


def _stored_line(stop: BatchStopped) -> str:
    return (
        f"{stop.stored} of {stop.total} submissions are graded and stored. "
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
@grading_options
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
    **settings: Any,
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
    options = options_from(settings)
    if options.lang is not None:
        # In the assignment, so that its version changes with it: results stored in the
        # gradebook in another language are graded again rather than reused.
        assignment = replace(assignment, lang="" if options.lang == "en" else options.lang)

    def announce(sandbox: Sandbox | None) -> None:
        if sandbox is None:  # chosen where the kernels run; each result records the choice
            click.echo(
                f"Grading on the Dask cluster at {scheduler}; "
                f"--sandbox {options.sandbox} on each worker."
            )
        else:
            click.echo(_sandbox_line(sandbox), err=options.sandbox == "none")

    try:
        run = grade_into(
            assignment,
            submissions,
            out_dir,
            options,
            executor=executor,
            force=force,
            on_sandbox=announce,
            progress=sys.stdout,
        )
    except SandboxUnavailable as exc:
        fail(f"--sandbox bwrap: {exc}")
    except NoSubmissions as exc:
        fail(str(exc))
    except BatchStopped as stop:
        if not isinstance(stop, KeyboardInterrupt):
            fail(f"{stop}\n{_stored_line(stop)}" if stop.stored else str(stop))
        click.echo(f"\nInterrupted: {_stored_line(stop)}", err=True)
        raise SystemExit(130) from None
    results = run.results
    graded = [r for r in results if r.status == "graded"]
    failed = [r for r in results if r.status == "error"]
    click.echo(
        f"\nGraded {len(graded)} of {len(results)} submissions"
        f" ({len(results) - len(graded) - len(failed)} ungradable, {len(failed)} nngrade errors)."
    )
    for what, path in run.written:
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
@grading_options
def check(
    notebook: Path,
    assignment_dir: Path | None,
    report_dir: Path | None,
    junit_path: Path | None,
    json_path: Path | None,
    **settings: Any,
) -> None:
    """Check one NOTEBOOK before handing it in (visible checks only).

    Prints a table of the checks and writes an HTML report. In GitHub Actions
    (GITHUB_STEP_SUMMARY set) it also appends a summary to the job's page and prints
    GitHub Classroom's score notices. Exits 0 if every check passed, 1 if any failed,
    2 on a usage error or a notebook that cannot be read.
    """

    # Checking one's own notebook without the sandbox is the usual case on a laptop: a
    # quiet line with the results, not grade's WARNING (and nothing before a usage error).
    chosen: list[Sandbox] = []
    ci = CheckOutputs(junit=junit_path, json=json_path, step_summary=step_summary_path())
    try:
        run = check_notebook(
            notebook,
            options_from(settings),
            assignment_dir=assignment_dir,
            report_dir=report_dir,
            ci=ci,
            on_sandbox=chosen.append,
        )
    except SandboxUnavailable as exc:
        fail(f"--sandbox bwrap: {exc}")
    except CheckError as exc:
        fail(str(exc))
    if run.result.status != "graded":
        fail(f"{notebook}: {run.result.reason}")
    passed = run.passed
    click.echo(f"{run.assignment.title} ({run.assignment.root})")
    if run.note:
        click.echo(f"Note: {run.note}")
    click.echo(format_table(run.result))
    details = "" if passed else " (open it in a browser: each failure in full, and what to check)"
    if chosen and chosen[0].mode != "bwrap":
        reason = chosen[0].unavailable_reason
        click.echo(f"Ran without the sandbox ({reason}): fine for your own notebook.")
    click.echo(f"\nReport: {run.report}{details}")
    for line in run.notices:
        click.echo(line)
    raise SystemExit(0 if passed else 1)


for _command in (*AUTHORING, *COMMANDS, *MARKING_COMMANDS):
    main.add_command(_command)
