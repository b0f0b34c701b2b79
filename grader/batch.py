"""Grading a batch: submissions spread over worker processes, resumed from the gradebook.

Each worker process grades one submission at a time, each in a fresh kernel of its own.
The parent process only hands out work and collects results; it stores each result in
the gradebook the moment it arrives, so an interrupted run loses nothing, and a re-run
grades only what has no stored result for the same content and assignment version.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path

from grader.assignment import Assignment
from grader.gradebook import Gradebook
from grader.grading import GradingOptions, grade_notebook, new_seed
from grader.results import SubmissionResult
from grader.sources import Submission, collect, content_hash

__all__ = ["default_workers", "grade_batch", "grade_many"]

# A worker is replaced after this many submissions, bounding whatever a long run leaks.
TASKS_PER_WORKER = 50

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
    gradebook: Gradebook | None = None,
    force: bool = False,
    on_result: OnResult | None = None,
) -> list[SubmissionResult]:
    """Grade ``submissions`` (one seed for all), in ``workers`` processes, and return their
    results in the same order. With a gradebook, stored results for the same content and
    assignment version are reused (unless ``force``) and new ones stored as they arrive."""
    if options.seed is None:
        options = replace(options, seed=new_seed())
    version = assignment.version
    results: dict[str, SubmissionResult] = {}

    def deliver(result: SubmissionResult, resumed: bool) -> None:
        results[result.id] = result
        if on_result is not None:
            on_result(result, resumed)

    todo: list[tuple[Submission, str]] = []
    for submission in submissions:
        # The content hash keys the gradebook; without one, nothing needs it.
        digest = content_hash(submission.path) if gradebook is not None else ""
        stored = None
        if gradebook is not None and not force:
            stored = gradebook.stored(submission.id, digest, version)
        if stored is not None:
            deliver(stored, True)
        else:
            todo.append((submission, digest))
    for result, digest in _grade_all(assignment, todo, options, workers):
        if gradebook is not None:
            gradebook.store(result, content_hash=digest, version=version)
        deliver(result, False)
    return [results[s.id] for s in submissions]


def grade_many(
    assignment: Assignment,
    paths: Iterable[Path],
    options: GradingOptions,
    *,
    workers: int = 1,
    on_result: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade the notebooks in ``paths`` (files, folders, zips) without a gradebook."""
    paths = list(paths)
    with tempfile.TemporaryDirectory(prefix="nngrade-sources-") as scratch:
        submissions = collect(paths, Path(scratch))
        options = keep_private(options, paths, Path(scratch))
        callback = None if on_result is None else (lambda result, _resumed: on_result(result))
        return grade_batch(assignment, submissions, options, workers=workers, on_result=callback)


def keep_private(options: GradingOptions, paths: Iterable[Path], *more: Path) -> GradingOptions:
    """Options under which no kernel can see the submissions' folders (other students'
    work) or ``more`` (the output folder, extracted zips)."""
    folders = {p if p.is_dir() else p.parent for p in paths}
    return replace(options, private_paths=(*options.private_paths, *folders, *more))


def grade_one(
    assignment: Assignment, submission: Submission, options: GradingOptions
) -> SubmissionResult:
    """Grade one submission; what a worker process runs."""
    result = grade_notebook(
        assignment,
        submission.path,
        options,
        submission_id=submission.id,
        problem=submission.problem,
    )
    result.submission, result.path = submission.name, submission.origin
    return result


def _grade_all(
    assignment: Assignment,
    todo: list[tuple[Submission, str]],
    options: GradingOptions,
    workers: int,
) -> Iterator[tuple[SubmissionResult, str]]:
    """(result, content hash) for each submission, in the order they finish."""
    if workers <= 1 or len(todo) <= 1:
        for submission, digest in todo:
            yield grade_one(assignment, submission, options), digest
        return
    # Spawned workers are children of this process, so they can be told to stop when it
    # dies (a fork server's children outlive it), and they inherit no threads or sockets.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_worker_setup,
        max_tasks_per_child=TASKS_PER_WORKER,
    ) as pool:
        futures: dict[Future[SubmissionResult], str] = {
            pool.submit(_work, assignment, submission, options): digest
            for submission, digest in todo
        }
        try:
            for future in as_completed(futures):
                yield future.result(), futures[future]
        except BaseException:
            # Interrupted (Ctrl-C) or failed: stop now rather than after the submissions
            # in progress. SIGTERM makes each worker shut its kernel down as it exits.
            workers_now = list((pool._processes or {}).values())  # no public way to stop them
            pool.shutdown(wait=False, cancel_futures=True)
            for process in workers_now:
                process.terminate()
            raise


class _Stop(SystemExit):
    """Raised in a worker by SIGTERM: unwinds the submission in progress, so its kernel
    is shut down by its context manager, and then ends the worker."""


def _work(
    assignment: Assignment, submission: Submission, options: GradingOptions
) -> SubmissionResult:
    try:
        return grade_one(assignment, submission, options)
    except _Stop:
        # The pool would catch the exception and wait for more work from a parent that
        # may be gone: leave now that the kernel is down.
        os._exit(143)


def _stop(*_: object) -> None:
    raise _Stop(143)


def _worker_setup() -> None:
    # Ctrl-C is the parent's to handle: it tells the workers to stop with SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    _die_with_parent()


def _die_with_parent() -> None:
    """Ask Linux to send SIGTERM when the parent dies (kill -9 included): no orphaned
    workers, and through their clean exit no orphaned kernels."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: workers end when their queue closes
        pass
