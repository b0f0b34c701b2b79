"""Grading a batch: submissions handed to an executor, resumed from the gradebook.

An executor (grader/executor.py: worker processes here, or a Dask cluster) grades each
submission in a fresh kernel of its own. This process only hands out work and collects
results; it stores each result in the gradebook the moment it arrives, so an
interrupted run loses nothing, and a re-run grades only what has no stored result for
the same content and assignment version.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import replace
from pathlib import Path

from grader.batch.executor import Executor, LocalExecutor
from grader.batch.gradebook import Gradebook
from grader.batch.sources import Submission, collect, content_hash
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions, new_seed
from grader.grading.results import SubmissionResult

__all__ = ["default_workers", "grade_batch", "grade_many"]

OnResult = Callable[[SubmissionResult, bool], None]  # (result, resumed from the gradebook)


def default_workers() -> int:
    """One worker per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


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
    if options.seed is None:
        options = replace(options, seed=new_seed())
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


def grade_many(
    assignment: Assignment,
    paths: Iterable[Path],
    options: GradingOptions,
    *,
    workers: int = 1,
    executor: Executor | None = None,
    on_result: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade the notebooks in ``paths`` (files, folders, zips) without a gradebook."""
    paths = list(paths)
    with tempfile.TemporaryDirectory(prefix="nngrade-sources-") as scratch:
        submissions = collect(paths, Path(scratch))
        options = keep_private(options, paths, Path(scratch))
        callback = None if on_result is None else (lambda result, _resumed: on_result(result))
        return grade_batch(
            assignment,
            submissions,
            options,
            workers=workers,
            executor=executor,
            on_result=callback,
        )


def keep_private(options: GradingOptions, paths: Iterable[Path], *more: Path) -> GradingOptions:
    """Options under which no kernel can see the submissions' folders (other students'
    work) or ``more`` (the output folder, extracted zips)."""
    folders = {p if p.is_dir() else p.parent for p in paths}
    return replace(options, private_paths=(*options.private_paths, *folders, *more))
