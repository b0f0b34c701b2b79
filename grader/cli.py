"""The ``nngrade`` command line: a thin layer over grader.grading and grader.report."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from grader.assignment import Assignment, AssignmentError
from grader.batch import default_workers, grade_batch, keep_private
from grader.bundle import bundle as make_bundle
from grader.ci import CheckOutputs, step_summary_path
from grader.discovery import DiscoveryError, choose_assignment
from grader.gradebook import Gradebook
from grader.gradescope import build_autograder, run_autograder
from grader.grading import GradingOptions, grade_notebook, new_seed
from grader.install import DEFAULT_INSTALL
from grader.limits import Limits, parse_size
from grader.outputs import BatchOutputs
from grader.progress import Progress
from grader.report import format_points, format_table, write_report
from grader.results import SubmissionResult
from grader.sandbox import SANDBOX_MODES, Sandbox, SandboxUnavailable
from grader.sources import collect
from grader.submission import Ungradable
from grader.workflow import WorkflowError
from grader.workflow import init_ci as write_workflow

__all__ = ["main"]

EXIT_USAGE = 2

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
install_option = click.option(
    "--install",
    default=DEFAULT_INSTALL,
    show_default=True,
    help="What pip installs to get nngrade: requirements and pip options, e.g. a wheel "
    "file or a VCS requirement.",
)
constraints_option = click.option(
    "--constraints",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A pip constraints file to ship instead of the default one, which pins torch.",
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
    help="Submissions graded at the same time, each in its own kernel.",
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
def grade(
    assignment_dir: Path,
    submissions: tuple[Path, ...],
    out_dir: Path,
    workers: int,
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
    """
    assignment = _load(assignment_dir)
    limits = _limits(limit_args)
    click.echo(_sandbox_line(_sandbox(sandbox, limits)), err=sandbox == "none")
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
                workers=workers,
                gradebook=gradebook,
                force=force,
                on_result=record,
            )
        except KeyboardInterrupt:
            progress.close()
            stored = gradebook.results(s.id for s in found)
            outputs.finish(stored)
            click.echo(
                f"\nInterrupted: {len(stored)} of {len(found)} submissions are graded and "
                "stored. Run the same command again to grade the rest.",
                err=True,
            )
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
        _fail(f"{notebook}: no such file")
    try:
        assignment, note = choose_assignment(notebook, assignment_dir)
    except Ungradable as exc:
        _fail(f"{notebook}: {exc}")
    except (AssignmentError, DiscoveryError) as exc:
        _fail(str(exc))
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
    if note:
        result.notes.insert(0, note)
    report = None
    if result.status == "graded":
        report = write_report(result, report_dir or notebook.parent)
    ci = CheckOutputs(junit=junit_path, json=json_path, step_summary=step_summary_path())
    ci.write(result, title=assignment.title, report=report)
    if result.status != "graded":
        _fail(f"{notebook}: {result.reason}")
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


@main.command()
@click.argument("assignment_dir", type=click.Path(path_type=Path))
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
@install_option
def bundle(assignment_dir: Path, dest: Path, install: str) -> None:
    """Write the student copy of ASSIGNMENT_DIR into DEST (absent or empty).

    DEST gets the settings, the template (its metadata stamped with the assignment's
    name and version, so that nngrade check finds the checks without flags), the visible
    checks, the support files and a README on self-checking. Never the solution, the
    hidden checks or the packages the checks import.
    """
    assignment = _load(assignment_dir)
    try:
        copy = make_bundle(assignment, dest, install=install)
    except AssignmentError as exc:
        _fail(str(exc))
    click.echo(f"Bundle for students: {copy.root} (version {copy.version})")
    for path in sorted(copy.root.rglob("*")):
        if path.is_file():
            click.echo(f"  {path.relative_to(copy.root).as_posix()}")


@main.command("init-ci")
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
    install: str,
    constraints: Path | None,
    force: bool,
) -> None:
    """Write a GitHub Actions workflow into the repository DEST that checks its notebooks.

    DEST/.github/workflows/nngrade.yml installs nngrade, runs nngrade check on each
    notebook against ASSIGNMENT_DIR (which must be inside DEST) and uploads the HTML
    reports as the artifact nngrade-report, also when checks fail.
    """
    assignment = _load(assignment_dir)
    try:
        written = write_workflow(
            assignment,
            dest,
            notebooks=notebooks,
            install=install,
            constraints=constraints,
            force=force,
        )
    except WorkflowError as exc:
        _fail(str(exc))
    for path in written:
        click.echo(f"Wrote {path}")


@main.command()
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
    install: str,
    constraints: Path | None,
    timeout: float,
    notebook_timeout: float,
) -> None:
    """Build a Gradescope autograder zip for ASSIGNMENT_DIR.

    It holds setup.sh (installs nngrade), run_autograder (grades the submitted notebook
    with every check into results.json; hidden checks are shown once grades are
    published) and a copy of the assignment with its hidden checks, never the solution.
    """
    assignment = _load(assignment_dir)
    zip_path = build_autograder(
        assignment,
        out,
        install=install,
        constraints=constraints,
        cell_timeout=timeout,
        notebook_timeout=notebook_timeout,
    )
    click.echo(f"Autograder for Gradescope: {zip_path} (assignment version {assignment.version})")


@main.command("gradescope-run", hidden=True)
@click.argument("root", type=click.Path(path_type=Path, file_okay=False))
@timeout_option
@notebook_timeout_option
def gradescope_run(root: Path, timeout: float, notebook_timeout: float) -> None:
    """What an autograder's run_autograder calls: grade ROOT/submission into ROOT/results."""
    options = GradingOptions(cell_timeout=timeout, notebook_timeout=notebook_timeout)
    data = run_autograder(root, options)
    click.echo(data["output"])
    click.echo(f"Score: {format_points(data['score'])}")


def _load(assignment_dir: Path) -> Assignment:
    try:
        return Assignment.load(assignment_dir)
    except AssignmentError as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    click.echo(f"nngrade: error: {message}", err=True)
    raise SystemExit(EXIT_USAGE)
