"""Grading a batch: ``grade_into``, what ``nngrade grade``, the tests and the benchmark run.

An executor (batch/executor.py: worker processes here, or a Dask cluster) grades each
submission in a fresh kernel of its own. This process only hands out work and collects
results; it stores each result in the gradebook the moment it arrives, so an
interrupted run loses nothing, and a re-run grades only what has no stored result for
the same content and assignment version.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from grader.batch.answers import collect_answers, template_questions
from grader.batch.executor import Executor, ExecutorUnavailable, LocalExecutor
from grader.batch.gradebook import Gradebook
from grader.batch.out_folder import BatchOutputs
from grader.batch.progress import Progress
from grader.batch.sources import Submission, collect, content_hash
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions, choose_seed
from grader.grading.results import SubmissionResult
from grader.runner.sandbox import Sandbox

__all__ = [
    "BatchRun",
    "BatchStopped",
    "ExecutorLost",
    "Interrupted",
    "NoSubmissions",
    "default_workers",
    "grade_batch",
    "grade_into",
    "grade_many",
    "keep_private",
]

OnResult = Callable[[SubmissionResult, bool], None]  # (result, resumed from the gradebook)


class NoSubmissions(ValueError):
    """The paths hold no notebook at all: a usage error, not an empty batch."""


class BatchStopped(BaseException):
    """A batch stopped before its end, raised as one of the two kinds below. What was
    graded is stored in the gradebook and written to the outputs; the same call again
    grades the rest."""

    def __init__(self, message: str, *, stored: int, total: int) -> None:
        super().__init__(message)
        self.stored = stored  # submissions of this batch that have a stored result
        self.total = total


class Interrupted(BatchStopped, KeyboardInterrupt):
    """Ctrl-C; still a KeyboardInterrupt to whatever catches one."""


class ExecutorLost(BatchStopped, ExecutorUnavailable):
    """The executor cannot go on (an unreachable scheduler); still an ExecutorUnavailable."""


@dataclass(frozen=True)
class BatchRun:
    """A finished batch: every submission's result, in the order found, and the
    class-wide files written, as (what, path)."""

    results: list[SubmissionResult]
    written: list[tuple[str, Path]]


def default_workers() -> int:
    """One worker per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def grade_into(
    assignment: Assignment,
    sources: Iterable[Path],
    out_dir: Path,
    options: GradingOptions,
    *,
    executor: Executor | None = None,
    force: bool = False,
    on_result: OnResult | None = None,
    on_sandbox: Callable[[Sandbox | None], None] | None = None,
    progress: TextIO | None = None,
) -> BatchRun:
    """Grade the notebooks in ``sources`` (notebooks, folders, zips) into ``out_dir``:
    its gradebook, a report per submission as it is graded, then the class-wide files.

    ``executor`` defaults to one local worker per core. Results stored for the same
    content and assignment version are reused unless ``force``. The seed is the one in
    ``options``, else the one an interrupted run of the same ``out_dir`` used. When the
    kernels run here, the sandbox is chosen once, before anything is graded, and handed to
    ``on_sandbox`` (None: a Dask worker chooses its own). ``progress`` gets a line per
    submission. Raises ``SandboxUnavailable`` before grading, ``NoSubmissions``, and on
    Ctrl-C or a lost executor ``Interrupted`` or ``ExecutorLost`` (``BatchStopped``).
    """
    sources = list(sources)
    executor = executor or LocalExecutor(default_workers())
    sandbox = None
    if isinstance(executor, LocalExecutor):  # a missing bwrap: one error, not N failures
        sandbox = Sandbox.choose(options.sandbox, options.limits)
    if on_sandbox is not None:
        on_sandbox(sandbox)
    outputs = BatchOutputs(out_dir, assignment.title)
    with (
        tempfile.TemporaryDirectory(prefix="nngrade-sources-") as scratch,
        Gradebook(outputs.gradebook) as gradebook,
    ):
        found = collect(sources, Path(scratch))
        if not found:
            raise NoSubmissions("no notebooks found in the given paths")
        options = replace(options, seed=gradebook.run_seed(options.seed))
        # What ``nngrade export`` and ``nngrade mark`` need to write the outputs again.
        gradebook.set_setting("title", assignment.title)
        gradebook.set_setting("order", json.dumps([s.id for s in found]))
        questions = template_questions(assignment.template)
        gradebook.marks.put_questions(questions)
        paths = {s.id: s.path for s in found}
        # No kernel sees other submissions, the outputs, or the extracted zips.
        options = keep_private(options, sources, out_dir, Path(scratch))
        shown = None if progress is None else Progress(len(found), progress)

        def record(result: SubmissionResult, resumed: bool) -> None:
            # Answers are read again on every run: a mark stays only with the text it was for.
            if questions:
                gradebook.marks.put_answers(result.id, collect_answers(paths[result.id], questions))
            outputs.add(gradebook.with_marks([result])[0])
            if shown is not None:
                shown.update(result, resumed)
            if on_result is not None:
                on_result(result, resumed)

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
            if shown is not None:
                shown.close()
            stored = gradebook.results(s.id for s in found)
            if stored:
                outputs.finish(gradebook.with_marks(stored))
            kind = Interrupted if isinstance(exc, KeyboardInterrupt) else ExecutorLost
            raise kind(str(exc), stored=len(stored), total=len(found)) from exc
        results = gradebook.with_marks(results)
    if shown is not None:
        shown.close()
    return BatchRun(results, outputs.finish(results))


def grade_many(
    assignment: Assignment,
    paths: Iterable[Path],
    options: GradingOptions,
    *,
    workers: int = 1,
    executor: Executor | None = None,
) -> list[SubmissionResult]:
    """``grade_into`` a folder that is removed afterwards: only the results are kept."""
    with tempfile.TemporaryDirectory(prefix="nngrade-out-") as out:
        executor = executor or LocalExecutor(workers)
        return grade_into(assignment, paths, Path(out), options, executor=executor).results


def grade_batch(
    assignment: Assignment,
    submissions: list[Submission],
    options: GradingOptions,
    *,
    workers: int = 1,
    executor: Executor | None = None,
    gradebook: Gradebook | None = None,
    force: bool = False,
    on_result: OnResult | None = None,
) -> list[SubmissionResult]:
    """Grade ``submissions`` (one seed for all) with ``executor`` (default: ``workers``
    local processes), and return their results in the same order. With a gradebook,
    stored results for the same content and assignment version are reused (unless
    ``force``) and new ones stored as they arrive."""
    options = replace(options, seed=choose_seed(options.seed))
    version = assignment.version
    results: dict[str, SubmissionResult] = {}

    def deliver(result: SubmissionResult, resumed: bool) -> None:
        results[result.id] = result
        if on_result is not None:
            on_result(result, resumed)

    todo: dict[str, tuple[Submission, str]] = {}  # by id: (submission, content hash)
    for submission in submissions:
        # The content hash keys the gradebook; without one, nothing needs it.
        digest = content_hash(submission.path) if gradebook is not None else ""
        stored = None
        if gradebook is not None and not force:
            stored = gradebook.stored(submission.id, digest, version)
        if stored is not None:
            deliver(stored, True)
        else:
            todo[submission.id] = (submission, digest)
    executor = executor or LocalExecutor(workers)
    pending = set(todo)
    with closing(executor.grade(assignment, [s for s, _ in todo.values()], options)) as finished:
        for result in finished:
            # Counted once: a late duplicate (a task retried after its worker was thought
            # dead, which then answered after all) or a stray id is dropped.
            if result.id not in pending:
                continue
            pending.discard(result.id)
            if gradebook is not None:
                gradebook.store(result, content_hash=todo[result.id][1], version=version)
            deliver(result, False)
    if pending:  # an executor's bug; say so rather than fail on a missing key below
        raise RuntimeError(f"the executor returned no result for {', '.join(sorted(pending))}")
    return [results[s.id] for s in submissions]


def keep_private(options: GradingOptions, paths: Iterable[Path], *more: Path) -> GradingOptions:
    """Options under which no kernel can see the submissions' folders (other students'
    work) or ``more`` (the output folder, extracted zips)."""
    folders = {p if p.is_dir() else p.parent for p in paths}
    return replace(options, private_paths=(*options.private_paths, *folders, *more))
