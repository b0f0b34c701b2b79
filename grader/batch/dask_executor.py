"""Grading on a Dask cluster: one task per submission, results back as data.

What crosses to a worker is data (batch/shipping.py): the assignment's zip once per
worker, in a worker plugin that the scheduler also hands to workers that join or are
restarted later; per task the notebook's bytes, its names and the options as a dict.
What comes back is the result's dict (``SubmissionResult.to_dict``). The code that runs
is the worker's own installed nngrade, named by module and function: a worker needs
nngrade with the ``dask`` extra and nothing of the course repository.

A worker that dies mid-task (kill -9, a lost host) has its task rescheduled on another
worker by the scheduler, at most ``distributed.scheduler.allowed-failures`` times (the
scheduler's setting, 3 by default); after that the submission is recorded as an
``error`` result that says so, which the next run grades again.
"""

from __future__ import annotations

import secrets
import tempfile
import threading
from collections.abc import Generator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distributed import Client, Future, as_completed, get_worker
from distributed.diagnostics.plugin import WorkerPlugin
from distributed.scheduler import KilledWorker

from grader.batch.executor import ExecutorUnavailable, grade_one
from grader.batch.shipping import (
    Shipment,
    Ticket,
    options_from_data,
    options_to_data,
    pack_assignment,
    submission_from_ticket,
    ticket_for,
    unpack_assignment,
)
from grader.batch.sources import Submission
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions, new_result
from grader.grading.results import SubmissionResult
from grader.runner.sandbox import bwrap_problem

if TYPE_CHECKING:
    from distributed import Worker

__all__ = ["DaskExecutor"]

# Tasks handed to the scheduler at a time, per worker thread: enough to keep every worker
# busy, few enough that a class's notebooks are not all held in the scheduler's memory.
TASKS_PER_THREAD = 2
# How long to wait for a scheduler that has no worker yet.
WORKER_TIMEOUT = 30.0


class DaskExecutor:
    """Submissions graded on the Dask cluster whose scheduler is at ``scheduler``
    (``tcp://HOST:PORT``)."""

    def __init__(self, scheduler: str, *, connect_timeout: float | None = None) -> None:
        self.scheduler = scheduler
        self.connect_timeout = connect_timeout  # None: Dask's distributed.comm.timeouts.connect

    def grade(
        self, assignment: Assignment, submissions: Sequence[Submission], options: GradingOptions
    ) -> Generator[SubmissionResult, None, None]:
        if not submissions:
            return
        shipment = pack_assignment(assignment)
        client = self._connect()
        running: dict[Future, Submission] = {}
        try:
            plugin = _AssignmentPlugin(shipment)
            try:
                client.register_plugin(plugin, name=plugin.name)
            except Exception as exc:  # noqa: BLE001 - any worker-side failure: say which
                raise ExecutorUnavailable(
                    f"the Dask workers could not load the assignment ({type(exc).__name__}: "
                    f"{exc}); is nngrade[dask] installed on every worker?"
                ) from None
            if options.sandbox == "bwrap":
                _require_bwrap(client)
            settings = options_to_data(options)
            waiting = list(reversed(submissions))  # popped from the end: in order
            finished = as_completed(loop=client.loop)

            def submit_more() -> Generator[SubmissionResult, None, None]:
                window = TASKS_PER_THREAD * max(1, sum(client.nthreads().values()))
                while waiting and len(running) < window:
                    submission = waiting.pop()
                    ticket = ticket_for(submission)
                    if ticket is None:
                        # Nothing to ship; it is ungradable before any kernel starts, so
                        # the same code gives the same result here.
                        yield grade_one(assignment, submission, options)
                        continue
                    future = client.submit(
                        _grade_on_worker, plugin.name, ticket, settings, key=_key(submission)
                    )
                    running[future] = submission
                    finished.add(future)

            yield from submit_more()
            for future in finished:
                submission = running.pop(future)
                yield _result_of(future, assignment, submission, options)
                yield from submit_more()
        except OSError as exc:  # the scheduler went away mid-batch: what arrived is stored
            raise ExecutorUnavailable(
                f"lost the connection to the Dask scheduler at {self.scheduler}: {exc}"
            ) from None
        finally:
            # Interrupted or done: nothing of this batch may keep a worker busy. (A task
            # already running finishes its submission; Dask cannot stop a running task.)
            with suppress(OSError):  # a scheduler that is gone has nothing left to cancel
                if running:
                    client.cancel(list(running), force=True)
                client.close()

    def _connect(self) -> Client:
        try:
            # Client's own default (a sentinel, not None) reads distributed.comm.timeouts.connect.
            timeout = {} if self.connect_timeout is None else {"timeout": self.connect_timeout}
            client = Client(self.scheduler, set_as_default=False, **timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ExecutorUnavailable(
                f"cannot reach the Dask scheduler at {self.scheduler}: {exc}"
            ) from None
        try:
            client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
        except TimeoutError:
            client.close()
            raise ExecutorUnavailable(
                f"the Dask scheduler at {self.scheduler} has had no workers for "
                f"{WORKER_TIMEOUT:g} s; start some with: dask worker {self.scheduler} --nthreads 1"
            ) from None
        return client


def _require_bwrap(client: Client) -> None:
    """--sandbox bwrap on a worker that cannot run it would fail every submission it
    takes: refuse up front, naming the worker."""
    problems = sorted((address, why) for address, why in client.run(bwrap_problem).items() if why)
    if problems:
        address, problem = problems[0]
        raise ExecutorUnavailable(
            f"--sandbox bwrap: the Dask worker at {address} cannot use it: {problem}"
        )


def _key(submission: Submission) -> str:
    # Readable in the dashboard, unique per run (a cancelled run's key may linger).
    return f"nngrade-{submission.id}-{secrets.token_hex(4)}"


def _result_of(
    future: Future, assignment: Assignment, submission: Submission, options: GradingOptions
) -> SubmissionResult:
    """The worker's result, or an ``error`` result that says why there is none."""
    try:
        return SubmissionResult.from_dict(future.result())
    except KilledWorker as exc:
        reason = (
            f"the grading worker died {exc.allowed_failures + 1} times while grading it "
            "(each time the scheduler tried another worker); see the Dask workers' logs"
        )
    except Exception as exc:  # noqa: BLE001 - recorded, and graded again by the next run
        reason = f"nngrade failed on the Dask cluster: {type(exc).__name__}: {exc}"
    result = new_result(assignment, options, submission.id, submission.name, submission.origin)
    result.status, result.reason = "error", reason
    return result


def _grade_on_worker(plugin_name: str, ticket: Ticket, settings: dict[str, Any]) -> dict[str, Any]:
    """The task: runs on a worker, takes and returns plain data."""
    plugin = get_worker().plugins[plugin_name]
    assert isinstance(plugin, _AssignmentPlugin)
    return plugin.grade(ticket, settings)


class _AssignmentPlugin(WorkerPlugin):
    """One batch's assignment on one worker: unpacked once when the plugin reaches the
    worker, into the worker's own folder (removed when the worker closes)."""

    # Registered again for the same version (a second batch): keep what is unpacked.
    idempotent = True

    def __init__(self, shipment: Shipment) -> None:
        self.name = f"nngrade-assignment-{shipment.version}"
        self.shipment = shipment

    def setup(self, worker: Worker) -> None:
        self.folder = Path(worker.local_directory) / "nngrade"
        self.assignment = unpack_assignment(self.shipment, self.folder / "assignments")
        # pytest, sys.path and sys.modules are per process: one submission at a time, even
        # on a worker started with several threads.
        self.lock = threading.Lock()

    def grade(self, ticket: Ticket, settings: dict[str, Any]) -> dict[str, Any]:
        with self.lock, tempfile.TemporaryDirectory(prefix="sub-", dir=self.folder) as scratch:
            submission = submission_from_ticket(ticket, Path(scratch))
            # No kernel sees this worker's folders: the assignment, other submissions.
            options = options_from_data(settings, self.folder)
            return grade_one(self.assignment, submission, options).to_dict()
