"""Where a batch's submissions are graded: the executor interface and the local process pool.

An executor grades each submission it is given once, with ``grade_one``, and yields the
results in the order they finish. The batch (batch/grade.py) stores and reports them
and knows nothing else about the executor: the local pool here, or a Dask cluster
(batch/dask_executor.py). Closing the iterator early (Ctrl-C, an error while storing)
stops the work still outstanding.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Generator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Protocol

from grader.batch.sources import Submission
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions, grade_notebook
from grader.grading.results import SubmissionResult
from grader.runner import pool as kernel_pool

__all__ = ["Executor", "ExecutorUnavailable", "LocalExecutor", "grade_one"]

# A worker is replaced after this many submissions, bounding whatever a long run leaks.
TASKS_PER_WORKER = 50


class ExecutorUnavailable(RuntimeError):
    """The executor cannot run at all (an unreachable scheduler): an environment error,
    exit code 2, rather than one failed result per submission."""


class Executor(Protocol):
    def grade(
        self, assignment: Assignment, submissions: Sequence[Submission], options: GradingOptions
    ) -> Generator[SubmissionResult, None, None]:
        """One result per submission, in the order they finish."""
        ...


def grade_one(
    assignment: Assignment, submission: Submission, options: GradingOptions
) -> SubmissionResult:
    """Grade one submission; what every executor's worker runs."""
    result = grade_notebook(
        assignment,
        submission.path,
        options,
        submission_id=submission.id,
        problem=submission.problem,
    )
    result.submission, result.path = submission.name, submission.origin
    return result


class LocalExecutor:
    """``workers`` spawned processes on this machine, each grading one submission at a time
    (one submission, or one worker: in this process)."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers

    def grade(
        self, assignment: Assignment, submissions: Sequence[Submission], options: GradingOptions
    ) -> Generator[SubmissionResult, None, None]:
        if self.workers <= 1 or len(submissions) <= 1:
            # The next submission's kernel boots while this one is graded (runner/pool.py).
            with (
                kernel_pool.pooled(len(submissions), options.kernel_start == "fork")
                if options.kernel_start != "demand"
                else contextlib.nullcontext()
            ):
                for submission in submissions:
                    yield grade_one(assignment, submission, options)
            return
        # Workers are replaced after TASKS_PER_WORKER submissions each, by a fresh pool for
        # each such share of the batch. Not with the pool's max_tasks_per_child: it deadlocks
        # once a worker retires while work is queued (CPython gh-115634, unfixed in 3.11).
        share = TASKS_PER_WORKER * self.workers
        for start in range(0, len(submissions), share):
            yield from self._grade_in_pool(assignment, submissions[start : start + share], options)

    def _grade_in_pool(
        self, assignment: Assignment, submissions: Sequence[Submission], options: GradingOptions
    ) -> Generator[SubmissionResult, None, None]:
        # Spawned workers are children of this process, so they can be told to stop when it
        # dies (a fork server's children outlive it), and they inherit no threads or sockets.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=_worker_setup,
            initargs=(options.kernel_start,),
        ) as pool:
            futures: list[Future[SubmissionResult]] = [
                pool.submit(_work, assignment, submission, options) for submission in submissions
            ]
            try:
                for future in as_completed(futures):
                    yield future.result()
            except BaseException:
                # Interrupted (Ctrl-C), failed or closed early: stop now rather than after the
                # submissions in progress. SIGTERM makes each worker shut its kernel down.
                workers_now = list((pool._processes or {}).values())  # no public way to stop them
                pool.shutdown(wait=False, cancel_futures=True)
                for process in workers_now:
                    process.terminate()
                raise


class _Stop(SystemExit):
    """Raised in a worker by SIGTERM: unwinds the submission in progress, so its kernel
    is shut down by its context manager, and then ends the worker."""


# A worker's state for SIGTERM: whether a submission is being graded, and whether the
# worker has been told to stop. The checks run under pytest, which records any exception
# a check raises, _Stop included, as that check's failure: a stop can be swallowed, so the
# flag ends the worker once the submission returns.
_grading = False
_stopping = False


def _work(
    assignment: Assignment, submission: Submission, options: GradingOptions
) -> SubmissionResult:
    global _grading
    _grading = True
    try:
        return grade_one(assignment, submission, options)
    finally:
        _grading = False
        if _stopping:
            _leave()


def _stop(*_: object) -> None:
    global _stopping
    _stopping = True
    if not _grading:
        _leave()  # between submissions: no kernel in use, nothing to unwind
    raise _Stop(143)


def _leave() -> None:
    # The pool would otherwise wait for more work from a parent that may be gone (the worker
    # holds its queue's write end too, so the queue never closes): leave now that the
    # submission's kernel is down, and take the spare one down too.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second stop must not cut this short
    try:
        spare = kernel_pool.active_pool()
        if spare is not None:
            spare.close()
    finally:
        os._exit(143)


def _worker_setup(kernel_start: str) -> None:
    # Ctrl-C is the parent's to handle: it tells the workers to stop with SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    _die_with_parent()
    if kernel_start != "demand":  # the next submission's kernel boots while one is graded
        kernel_pool.activate(fork=kernel_start == "fork")


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
