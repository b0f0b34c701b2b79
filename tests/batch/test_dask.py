"""Grading on a Dask cluster: the same results as a local run, workers that die, the CLI.

The cluster is a ``distributed.LocalCluster`` of worker processes on loopback, started
with the repository off ``sys.path``: its workers can import ``reference`` (which the
relu checks need) only from the assignment the client ships them.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import signal
import sqlite3
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import dask
import nbformat
import pytest
from click.testing import CliRunner
from distributed import Client, LocalCluster
from nbformat.v4 import new_code_cell

from grader.batch.dask_executor import DaskExecutor
from grader.batch.executor import ExecutorUnavailable
from grader.batch.grade import grade_batch, grade_into
from grader.batch.gradebook import Gradebook
from grader.batch.sources import collect
from grader.cli.commands import main
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions
from grader.grading.results import SubmissionResult
from grader.outputs.student_report import render_report
from tests.batch_support import (
    HANGING_COPIES,
    alive,
    copy_batch,
    descendants_of,
    essentials,
    interrupt_after,
    nngrade,
    stored,
)
from tests.conftest import CELL_TIMEOUT, NOTEBOOKS, RELU, ROOT, SEED, grade_assignment

# Worker deaths the scheduler retries a task after; the next death marks it failed.
ALLOWED_FAILURES = 1
SLEEP = 3.0  # seconds the sleeper notebook spends in a cell: the window for a kill


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    saved = sys.path[:]
    # Workers are spawned with this process's sys.path: without the checkout on it, the
    # shipped assignment is their only way to import reference/.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT]
    try:
        with (
            dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}),
            LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=":0",  # any free port: two clusters may run at once (xdist)
            ) as started,
        ):
            yield started
    finally:
        sys.path[:] = saved


@pytest.fixture(scope="module")
def client(cluster: LocalCluster) -> Iterator[Client]:
    with Client(cluster, set_as_default=False) as connected:
        yield connected


def normalized(result: SubmissionResult) -> SubmissionResult:
    """The result without what differs from run to run: times."""
    copy = SubmissionResult.from_dict(result.to_dict())
    copy.duration, copy.graded_at = 0.0, ""
    for check in copy.checks:
        check.duration = 0.0
    return copy


@pytest.mark.kernel
def test_workers_cannot_import_the_course_repository(client: Client) -> None:
    found = client.run(lambda: importlib.util.find_spec("reference") is not None)
    assert found and not any(found.values())


@pytest.mark.kernel
def test_cluster_results_equal_local_ones(
    cluster: LocalCluster, graded_relu: dict[str, SubmissionResult]
) -> None:
    remote = grade_assignment("relu", executor=DaskExecutor(cluster.scheduler_address))
    assert sorted(remote) == sorted(graded_relu)
    assert {stem: essentials(r) for stem, r in remote.items()} == {
        stem: essentials(r) for stem, r in graded_relu.items()
    }
    for stem, result in remote.items():
        local = graded_relu[stem]
        assert (result.path, result.submission, result.notes) == (
            local.path,
            local.submission,
            local.notes,
        )
        assert render_report(normalized(result)) == render_report(normalized(local)), stem
    assert remote["correct"].score == 10 and remote["solution"].score == 10


def sleeper(folder: Path) -> Path:
    """A correct notebook with a cell that sleeps: a worker killed then is killed mid-task."""
    nb = nbformat.read(NOTEBOOKS / "correct.ipynb", as_version=4)
    nb.cells.append(new_code_cell(f"import time\ntime.sleep({SLEEP})"))
    path = folder / "sleeper.ipynb"
    nbformat.write(nb, path)
    return path


def kernels_of(pid: int) -> list[int]:
    """The kernel launchers (and sandboxes) under process ``pid``."""
    found = []
    for child in descendants_of(pid):
        try:
            if b"nngrade_launch" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except OSError:
            continue
    return found


def kill_worker_running(
    client: Client, name: str, times: int, *, once_its_kernel_runs: bool = False
) -> tuple[list[int], list[int]]:
    """Kill (SIGKILL) the worker running the task for submission ``name``, each time it
    starts again, ``times`` times (optionally only once the kernel has started); the pids
    killed, and the processes that were running under them."""
    killed: list[int] = []
    below: list[int] = []
    deadline = time.monotonic() + 120
    while len(killed) < times and time.monotonic() < deadline:
        try:
            # A lambda travels by value: the workers cannot import this module.
            running = client.run(
                lambda dask_worker: [
                    str(key)
                    for key, task in dask_worker.state.tasks.items()
                    if task.state == "executing"
                ]
            )
        except OSError:  # a worker went away between listing and asking it
            continue
        for address, keys in running.items():
            if any(key.startswith(f"nngrade-{name}-") for key in keys):
                pid = client.run(os.getpid, workers=[address])[address]
                if pid in killed or (once_its_kernel_runs and not kernels_of(pid)):
                    continue
                below += descendants_of(pid)
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        time.sleep(0.05)
    return killed, below


def grade_in_background(
    cluster: LocalCluster, folder: Path, out: Path, seen: list[str]
) -> tuple[threading.Thread, dict[str, SubmissionResult]]:
    assignment = Assignment.load(RELU)
    results: dict[str, SubmissionResult] = {}
    options = GradingOptions(cell_timeout=SLEEP + CELL_TIMEOUT, seed=SEED)

    def run() -> None:
        with Gradebook(out / "gradebook.sqlite") as gradebook:
            found = collect([folder], out / "scratch")
            for result in grade_batch(
                assignment,
                found,
                options,
                executor=DaskExecutor(cluster.scheduler_address),
                gradebook=gradebook,
                on_result=lambda result, _resumed: seen.append(result.id),
            ):
                results[result.id] = result

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results


def rows(out: Path) -> Counter[str]:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return Counter(row[0] for row in db.execute("SELECT id FROM results"))


@pytest.mark.kernel
def test_a_worker_killed_mid_task_loses_and_repeats_nothing(
    cluster: LocalCluster,
    client: Client,
    graded_relu: dict[str, SubmissionResult],
    tmp_path: Path,
) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("correct", "wrong_values", "misnamed"):
        shutil.copy(NOTEBOOKS / f"{name}.ipynb", folder)
    sleeper(folder)
    seen: list[str] = []
    thread, results = grade_in_background(cluster, folder, tmp_path, seen)
    killed, below = kill_worker_running(client, "sleeper", 1, once_its_kernel_runs=True)
    assert len(killed) == 1 and below
    thread.join(timeout=180)
    assert not thread.is_alive()
    # The killed worker's kernel and sandbox went with it.
    assert [pid for pid in below if alive(pid)] == []
    ids = ["correct", "misnamed", "sleeper", "wrong_values"]
    assert sorted(seen) == ids  # each reported once
    assert rows(tmp_path) == Counter(ids)  # each stored once
    assert results["sleeper"].status == "graded" and results["sleeper"].score == 10
    for id in ("correct", "wrong_values", "misnamed"):
        assert essentials(results[id]) == essentials(graded_relu[id])


@pytest.mark.kernel
def test_a_submission_whose_workers_keep_dying_is_recorded_as_an_error(
    cluster: LocalCluster, client: Client, tmp_path: Path
) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    sleeper(folder)
    seen: list[str] = []
    thread, results = grade_in_background(cluster, folder, tmp_path, seen)
    assert len(kill_worker_running(client, "sleeper", ALLOWED_FAILURES + 1)[0]) == 2
    thread.join(timeout=180)
    assert not thread.is_alive()
    assert seen == ["sleeper"] and rows(tmp_path) == Counter(["sleeper"])
    result = results["sleeper"]
    assert result.status == "error"
    assert result.reason.startswith("the grading worker died 2 times while grading it")


@pytest.mark.kernel
def test_sandbox_bwrap_is_refused_up_front_when_a_worker_cannot_run_it(
    cluster: LocalCluster, client: Client, tmp_path: Path
) -> None:
    def break_bwrap() -> None:  # on each worker: what a host without bubblewrap reports
        import grader.runner.sandbox

        grader.runner.sandbox._real_bwrap_problem = grader.runner.sandbox.bwrap_problem  # type: ignore[attr-defined]
        grader.runner.sandbox.bwrap_problem = lambda: "no bwrap on this host"  # type: ignore[assignment]

    def repair_bwrap() -> None:
        import grader.runner.sandbox

        # A worker restarted since (an earlier test killed workers) was never broken.
        real = getattr(
            grader.runner.sandbox, "_real_bwrap_problem", grader.runner.sandbox.bwrap_problem
        )
        grader.runner.sandbox.bwrap_problem = real  # type: ignore[assignment]

    # Every worker broken: one still restarting after an earlier test's kill would miss it.
    client.wait_for_workers(2)
    client.run(break_bwrap)
    try:
        options = GradingOptions(cell_timeout=CELL_TIMEOUT, seed=SEED, sandbox="bwrap")
        with pytest.raises(ExecutorUnavailable) as refused:
            grade_into(
                Assignment.load(RELU),
                [NOTEBOOKS / "correct.ipynb"],
                tmp_path / "out",
                options,
                executor=DaskExecutor(cluster.scheduler_address),
            )
    finally:
        client.run(repair_bwrap)
    assert str(refused.value).startswith("--sandbox bwrap: the Dask worker at tcp://127.0.0.1:")
    assert str(refused.value).endswith("cannot use it: no bwrap on this host")


@pytest.mark.kernel
def test_the_cli_grades_on_the_cluster_and_resumes_after_ctrl_c(
    cluster: LocalCluster, graded_relu: dict[str, SubmissionResult], tmp_path: Path
) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    names = ["correct", "wrong_values", "only_2d", "misnamed", "infinite_loop", "syntax_error"]
    batch = copy_batch(NOTEBOOKS, names, folder)
    out = tmp_path / "out"
    args = (RELU, folder, "--out", out, "--seed", SEED, "--timeout", CELL_TIMEOUT)
    dask_args = ("--executor", "dask", "--scheduler", cluster.scheduler_address)

    first = nngrade(*args, *dask_args)
    said = interrupt_after(first, out, 2, signal.SIGINT)
    assert first.returncode == 130, said
    assert "Run the same command again to grade the rest." in said
    after_ctrl_c = stored(out)
    assert 2 <= after_ctrl_c < len(batch)

    second = nngrade(*args, *dask_args)
    stdout, stderr = second.communicate(timeout=180)
    assert second.returncode == 0, stderr
    assert "Grading on the Dask cluster at tcp://127.0.0.1:" in stdout
    assert stdout.count("(stored earlier)") == after_ctrl_c
    assert rows(out) == Counter(batch)
    grades = list(csv.DictReader((out / "grades.csv").read_text(encoding="utf-8").splitlines()))
    assert {row["id"]: float(row["score"]) for row in grades} == {
        name: graded_relu[HANGING_COPIES.get(name, name)].score for name in batch
    }


def test_an_unreachable_scheduler_is_an_environment_error(tmp_path: Path) -> None:
    with socket_closed_port() as port:
        process = nngrade(
            RELU,
            NOTEBOOKS / "correct.ipynb",
            "--out",
            tmp_path / "out",
            "--executor",
            "dask",
            "--scheduler",
            f"tcp://127.0.0.1:{port}",
            DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="1s",
        )
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert f"nngrade: error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in stderr
    assert "Traceback" not in stderr


class socket_closed_port:
    """A loopback port that nothing listens on (bound, never listening, while in use)."""

    def __enter__(self) -> int:
        import socket

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        return int(self.socket.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.socket.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--scheduler", "tcp://127.0.0.1:8786"], "--scheduler needs --executor dask"),
        (["--executor", "dask"], "--executor dask needs --scheduler tcp://HOST:PORT"),
        (
            ["--executor", "dask", "--scheduler", "tcp://127.0.0.1:8786", "--workers", "3"],
            "--workers is for --executor local",
        ),
    ],
)
def test_contradictory_executor_options_are_usage_errors(
    options: list[str], message: str, tmp_path: Path
) -> None:
    args = ["grade", str(RELU), str(NOTEBOOKS / "correct.ipynb"), "--out", str(tmp_path)]
    outcome = CliRunner().invoke(main, [*args, *options])
    assert outcome.exit_code == 2
    assert message in outcome.output
