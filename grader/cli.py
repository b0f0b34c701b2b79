"""The ``nngrade`` command line: a thin layer over grader.grading and grader.report."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click
from click.core import ParameterSource

from grader.assignment import Assignment, AssignmentError
from grader.batch import default_workers, grade_batch, keep_private
from grader.executor import Executor, ExecutorUnavailable, LocalExecutor
from grader.gradebook import Gradebook
from grader.grading import GradingOptions, grade_notebook, new_seed
from grader.limits import Limits, parse_size
from grader.outputs import BatchOutputs
from grader.progress import Progress
from grader.report import format_table, write_report
from grader.results import SubmissionResult
from grader.sandbox import SANDBOX_MODES, Sandbox, SandboxUnavailable
from grader.sources import Submission, collect

__all__ = ["main"]

EXIT_USAGE = 2
EXECUTORS = ("local", "dask")

timeout_option = click.option(
    "--timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds each notebook cell may run before it is stopped.",
)
notebook_timeout_option = click.option(
    "--notebook-timeout",
    default=600.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds all of a notebook's cells may run in all; later cells are skipped.",
)
seed_option = click.option(
    "--seed",
    type=click.IntRange(min=0),
    help="Seed for the checks' random inputs. Default: a new seed, recorded in the results.",
)


class _Size(click.ParamType):
    name = "SIZE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_size(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


_DEFAULT = Limits()


def sandbox_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--sandbox and the per-kernel limits, shared by ``grade`` and ``check``."""
    options = [
        click.option(
            "--sandbox",
            type=click.Choice(SANDBOX_MODES),
            default="auto",
            show_default=True,
            help="Run each kernel in a bubblewrap sandbox (bwrap), without one (none), or "
            "in one when bwrap works here (auto).",
        ),
        click.option(
            "--memory",
            type=_Size(),
            default="2G",
            show_default=True,
            help="Memory each kernel may use (heap and arrays), e.g. 512M or 4G.",
        ),
        click.option(
            "--cpu-time",
            type=click.IntRange(min=1),
            default=_DEFAULT.cpu_time,
            show_default=True,
            help="CPU seconds each kernel may use in all, all its threads together.",
        ),
        click.option(
            "--max-processes",
            type=click.IntRange(min=8),
            default=_DEFAULT.processes,
            show_default=True,
            help="Processes and threads each kernel may run at once.",
        ),
        click.option(
            "--max-file-size",
            type=_Size(),
            default="256M",
            show_default=True,
            help="Largest file a kernel may write; in the sandbox also the size of its "
            "working folder, /tmp and /dev/shm.",
        ),
        click.option(
            "--max-value-size",
            type=_Size(),
            default="64M",
            show_default=True,
            help="Largest value a student's function may return to a check.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _limits(kwargs: dict[str, Any]) -> Limits:
    return Limits(
        memory=kwargs.pop("memory"),
        cpu_time=kwargs.pop("cpu_time"),
        processes=kwargs.pop("max_processes"),
        file_size=kwargs.pop("max_file_size"),
        value_size=kwargs.pop("max_value_size"),
    )


def _sandbox(requested: str, limits: Limits) -> Sandbox:
    """Choose the sandbox once, up front: a missing bwrap is a usage error, not N failures."""
    try:
        return Sandbox.choose(requested, limits)
    except SandboxUnavailable as exc:
        _fail(f"--sandbox bwrap: {exc}")


def _sandbox_line(sandbox: Sandbox) -> str:
    if sandbox.mode == "bwrap":
        limits = sandbox.limits.describe()
        return f"Sandbox: bubblewrap (no network, no files but its own). Limits: {limits}."
    return (
        f"WARNING: the sandbox is off ({sandbox.unavailable_reason}): notebooks can use the "
        f"network and read your files. Limits still apply: {sandbox.limits.describe()}."
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
    assignment = _load(assignment_dir)
    limits = _limits(limit_args)
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
            _fail("no notebooks found in the given paths")
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
                _fail(str(exc) if not stored else f"{exc}\n{_stored_line(stored, found)}")
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
@notebook_timeout_option
@seed_option
@sandbox_options
def check(
    notebook: Path,
    assignment_dir: Path,
    report_dir: Path | None,
    timeout: float,
    notebook_timeout: float,
    seed: int | None,
    sandbox: str,
    **limit_args: Any,
) -> None:
    """Check one NOTEBOOK before handing it in (visible checks only).

    Prints a table of the checks and writes an HTML report. Exits 0 if every check
    passed, 1 if any failed, 2 on a usage error or a notebook that cannot be read.
    """
    assignment = _load(assignment_dir)
    if not notebook.is_file():
        _fail(f"{notebook}: no such file")
    limits = _limits(limit_args)
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
    if result.status != "graded":
        _fail(f"{notebook}: {result.reason}")
    click.echo(format_table(result))
    report = write_report(result, report_dir or notebook.parent)
    click.echo(f"\nReport: {report}")
    raise SystemExit(0 if all(c.passed for c in result.checks) else 1)


def _stored_line(stored: list[SubmissionResult], found: list[Submission]) -> str:
    return (
        f"{len(stored)} of {len(found)} submissions are graded and stored. "
        "Run the same command again to grade the rest."
    )


def _executor(ctx: click.Context, name: str, scheduler: str | None, workers: int) -> Executor:
    """The executor the options ask for; contradictory options are a usage error."""
    if name == "local":
        if scheduler is not None:
            _fail("--scheduler needs --executor dask")
        return LocalExecutor(workers)
    if scheduler is None:
        _fail("--executor dask needs --scheduler tcp://HOST:PORT (the Dask scheduler)")
    if ctx.get_parameter_source("workers") is ParameterSource.COMMANDLINE:
        _fail("--workers is for --executor local; a Dask cluster's workers are its own")
    # Imported only when asked for: distributed is an optional dependency.
    try:
        from grader.dask_executor import DaskExecutor
    except ImportError as exc:
        _fail(f"--executor dask needs the dask extra (pip install 'nngrade[dask]'): {exc}")
    return DaskExecutor(scheduler)


def _load(assignment_dir: Path) -> Assignment:
    try:
        return Assignment.load(assignment_dir)
    except AssignmentError as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    click.echo(f"nngrade: error: {message}", err=True)
    raise SystemExit(EXIT_USAGE)
