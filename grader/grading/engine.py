"""Grading one notebook: the engine behind ``nngrade check`` and each of a batch's submissions.

Whatever a submission does, grading it returns a ``SubmissionResult``: unreadable files
are ``ungradable`` with the reason, and a failure inside nngrade itself is recorded as
``error`` rather than stopping the batch.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from grader._kernel.nngrade_protocol import CellEventKind
from grader.checks._i18n import use_language
from grader.checks.notebook import Transport
from grader.grading.assignment import Assignment
from grader.grading.definitions import keep_definitions, where_defined
from grader.grading.neutralize import Skipped, neutralize
from grader.grading.notebook_file import Ungradable, read_notebook
from grader.grading.plugin import CheckPlugin
from grader.grading.results import (
    CellEvent,
    CheckResult,
    SubmissionResult,
    SubmissionStatus,
    nngrade_version,
    safe_id,
)
from grader.runner.cell_data import CodeCell
from grader.runner.cells import LiveNotebook
from grader.runner.limits import Limits
from grader.runner.pool import open_session
from grader.runner.sandbox import Sandbox

__all__ = [
    "CheckSuiteError",
    "GradingOptions",
    "choose_seed",
    "grade_notebook",
    "new_result",
    "run_checks",
]


@dataclass(frozen=True)
class GradingOptions:
    cell_timeout: float = 30.0
    notebook_timeout: float = 600.0  # all cells of one notebook together
    include_hidden: bool = True  # False when a student self-checks
    seed: int | None = None  # None: a fresh seed per run, recorded in each result
    sandbox: str = "auto"  # "auto", "bwrap" or "none"
    limits: Limits = field(default_factory=Limits)
    # Folders a notebook must not see besides the assignment: outputs, other submissions.
    private_paths: tuple[Path, ...] = ()
    # The language of the checks' messages and the report ("ko"); None: the assignment's.
    lang: str | None = None
    # How a batch's workers start kernels (runner/pool.py): "fork" from a fork server
    # where it can (else as "ahead"), "ahead" in a fresh box while the previous submission
    # is graded, "demand" one at a time (the benchmark's comparison, a fallback to hand).
    kernel_start: str = "fork"


class CheckSuiteError(RuntimeError):
    """The assignment's checks could not be collected or run (the instructor's problem)."""


def grade_notebook(
    assignment: Assignment,
    path: Path,
    options: GradingOptions,
    *,
    submission_id: str | None = None,
    problem: str = "",
) -> SubmissionResult:
    """Grade one notebook. Never raises for anything the submission does. A ``problem``
    found before grading (a zip that could not be read) makes it ungradable."""
    started = time.monotonic()
    result = new_result(
        assignment, options, submission_id or safe_id(path.stem), path.name, str(path)
    )
    result.lang = options.lang or assignment.lang
    try:
        with use_language(result.lang):
            _grade(assignment, path, options, result, problem)
    except Ungradable as exc:
        result.status, result.reason = SubmissionStatus.UNGRADABLE, str(exc)
    except CheckSuiteError as exc:
        result.status = SubmissionStatus.ERROR
        result.reason = f"the assignment's checks could not run: {exc}"
    except Exception as exc:  # noqa: BLE001 - one submission must never stop a batch
        result.status = SubmissionStatus.ERROR
        result.reason = f"nngrade failed: {type(exc).__name__}: {exc}"
    if result.status != SubmissionStatus.GRADED:
        result.score = 0.0
    result.duration = round(time.monotonic() - started, 3)
    return result


def new_result(
    assignment: Assignment, options: GradingOptions, submission_id: str, name: str, path: str
) -> SubmissionResult:
    """A result with nothing graded yet: what grading fills in, or an executor marks as
    failed when the submission could not be graded at all."""
    return SubmissionResult(
        id=submission_id,
        submission=name,
        path=path,
        assignment=assignment.name,
        status=SubmissionStatus.GRADED,
        seed=choose_seed(options.seed),
        mode="grade" if options.include_hidden else "check",
        graded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        nngrade_version=nngrade_version(),
    )


def _grade(
    assignment: Assignment,
    path: Path,
    options: GradingOptions,
    result: SubmissionResult,
    problem: str,
) -> None:
    sandbox = Sandbox.choose(
        options.sandbox,
        options.limits,
        (assignment.root, *assignment.packages, *options.private_paths),
    )
    result.sandbox = sandbox.mode
    if sandbox.note:
        result.notes.append(sandbox.note)
    if problem:
        raise Ungradable(problem)
    nb = read_notebook(path, result.notes)
    cells: list[CodeCell] = []
    notes: list[Skipped] = []
    raw: list[tuple[int, str, bool]] = []
    for position, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") == "raw":
            raw.append((position, cell.source, True))
        if cell.get("cell_type") != "code":
            continue
        source, cell_notes = neutralize(cell.source, position)
        cells.append(CodeCell(position, source))
        notes += cell_notes
    sources = [(cell.position, cell.source, False) for cell in cells]
    if assignment.execute == "definitions":
        cells, definition_notes = keep_definitions(cells)
        notes += definition_notes
    definitions = where_defined(sources + raw, notes)
    skipped = [
        CellEvent(
            n.cell,
            CellEventKind.SKIPPED,
            f"line {n.line} not run: {n.reason}",
            n.text,
            n.text,
            line=n.line,
        )
        for n in notes
    ]
    if not any(cell.source.strip() for cell in cells):
        result.notes.append("The notebook has no code to run, so none of the checks can pass.")
    with (
        open_session(
            sandbox, assignment.support_files, assignment.preload, options.cell_timeout
        ) as session,
    ):
        live = LiveNotebook(
            session, cells, options.cell_timeout, options.notebook_timeout, definitions
        )
        live.run()
        result.checks = run_checks(
            assignment, live, seed=result.seed, include_hidden=options.include_hidden
        )
    result.cells = sorted(skipped + live.events, key=lambda event: event.cell)
    result.score = sum(check.points for check in result.checks)
    result.max_score = sum(check.max_points for check in result.checks)


def run_checks(
    assignment: Assignment, transport: Transport, *, seed: int, include_hidden: bool
) -> list[CheckResult]:
    """Run the assignment's pytest checks in this process against ``transport``."""
    hidden = assignment.hidden_checks if include_hidden else ()
    plugin = CheckPlugin(
        transport,
        seed=seed,
        include_hidden=include_hidden,
        hidden_files=assignment.hidden_checks,
        charge_each_cause=assignment.charge_each_cause,
    )
    args = [
        *(str(path) for path in (*assignment.checks, *hidden)),
        # Checks are configured by the plugin alone, never by an ini file found nearby.
        "-c",
        os.devnull,
        "--rootdir",
        str(assignment.root),
        "--import-mode=importlib",
        "--strict-markers",
        # No plugin that happens to be installed joins in: one that reorders tests or
        # reseeds random numbers (pytest-randomly) would change grades, and loading them
        # costs each submission time.
        "--disable-plugin-autoload",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:terminal",
        # They report exceptions no check can see, and each ends the run with two full
        # garbage collections: a quarter of a second per submission once torch is loaded.
        "-p",
        "no:unraisableexception",
        "-p",
        "no:threadexception",
    ]
    with _importable(assignment):
        code = pytest.main(args, plugins=[plugin])
    if plugin.collection_errors:
        raise CheckSuiteError(plugin.collection_errors[0])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise CheckSuiteError(f"pytest stopped with exit code {int(code)}")
    return plugin.results


@contextmanager
def _importable(assignment: Assignment) -> Iterator[None]:
    """The assignment's packages on sys.path while its checks run. Its check modules are
    dropped from sys.modules before and after, so two assignments' same-named check files
    (or an edited one) are never served from an earlier import. Packages stay imported:
    one process grades one course, and tests patch them."""
    folders = [str(package.parent) for package in assignment.packages]
    _forget_modules_under(assignment.root)
    sys.path[:0] = folders
    try:
        yield
    finally:
        for folder in folders:
            sys.path.remove(folder)
        _forget_modules_under(assignment.root)


def _forget_modules_under(root: Path) -> None:
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).is_relative_to(root):
            del sys.modules[name]


def choose_seed(requested: int | None = None, earlier: int | None = None) -> int:
    """A run's seed, chosen here alone: the one asked for, else the one an earlier
    (interrupted) run of the same batch used, else a fresh one."""
    if requested is not None:
        return requested
    if earlier is not None:
        return earlier
    return secrets.randbelow(2**31)
