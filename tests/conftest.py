"""Shared fixtures (each assignment's notebooks, graded once) and the `kernel` marker's guard."""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing.context
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from grader.batch.executor import Executor, LocalExecutor
from grader.batch.grade import grade_into
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions
from grader.grading.results import SubmissionResult
from grader.outputs.written import is_written
from grader.runner.kernel import KernelSession
from grader.runner.zygote import Zygote
from tests.browser import chromium_launch_args

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ROOT / "assignments"
RELU = ASSIGNMENTS / "relu"
NOTEBOOKS = Path(__file__).resolve().parent / "notebooks" / "relu"
# Short, so the hanging notebooks cost seconds; long enough for a cold kernel's imports.
CELL_TIMEOUT = 4.0
# Torch notebooks import torch in a cold kernel (about 1.5 s, more on a busy machine).
TORCH_CELL_TIMEOUT = 20.0
SEED = 20261122


def grade_assignment(
    name: str, cell_timeout: float = CELL_TIMEOUT, executor: Executor | None = None
) -> dict[str, SubmissionResult]:
    """tests/notebooks/<name>/*.ipynb plus the template and the solution, graded in one batch
    as ``nngrade grade`` grades it (by local workers unless ``executor`` is given), by file
    stem. The outputs are written, then thrown away."""
    assignment = Assignment.load(ASSIGNMENTS / name)
    assert assignment.template is not None and assignment.solution is not None
    paths = [Path(__file__).parent / "notebooks" / name, assignment.template, assignment.solution]
    options = GradingOptions(cell_timeout=cell_timeout, seed=SEED)
    if executor is None and os.environ.get("PYTEST_XDIST_WORKER"):
        # Each xdist worker is already one of a core's worth: spawning a pool of grading
        # workers in each would run twice as many kernels as there are cores.
        executor = LocalExecutor(1)
    with tempfile.TemporaryDirectory(prefix="nngrade-test-") as out:
        run = grade_into(assignment, paths, Path(out), options, executor=executor)
    return {Path(r.path).stem: autograded(r) for r in run.results}


def autograded(result: SubmissionResult) -> SubmissionResult:
    """``result`` as its checks alone graded it: without the written answers, which are
    marked by hand (tests/marking tests them) and count 0 of their points until then."""
    written = [check for check in result.checks if is_written(check.name)]
    if not written:
        return result
    return dataclasses.replace(
        result,
        checks=[check for check in result.checks if not is_written(check.name)],
        score=result.score - sum(check.points for check in written),
        max_score=result.max_score - sum(check.max_points for check in written),
    )


@pytest.fixture(scope="session")
def graded_relu() -> dict[str, SubmissionResult]:
    return grade_assignment("relu")


@pytest.fixture(scope="session")
def graded_backprop() -> dict[str, SubmissionResult]:
    return grade_assignment("backprop")


@pytest.fixture(scope="session")
def graded_layers() -> dict[str, SubmissionResult]:
    return grade_assignment("layers")


@pytest.fixture(scope="session")
def graded_bce() -> dict[str, SubmissionResult]:
    return grade_assignment("bce", TORCH_CELL_TIMEOUT)


@pytest.fixture(scope="session")
def graded_torch_mlp() -> dict[str, SubmissionResult]:
    return grade_assignment("torch_mlp", TORCH_CELL_TIMEOUT)


@pytest.fixture(scope="module")
def listener() -> Iterator[socket.socket]:
    """A socket on the grader's loopback, for notebooks that try to reach it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    yield server
    server.close()


@pytest.hookimpl(tryfirst=True)  # before xdist's hook, which reads the groups into node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `make test` runs on pytest-xdist workers with --dist loadgroup, which sends each group
    # to one worker and spreads the other tests one by one. What a fixture holds for longer
    # than a test must stay on one worker, or each worker would build it again: the tests
    # that share a graded_* fixture (one group per fixture, across files), and a module's
    # tests that share one of its own module-scoped fixtures (a batch, a cluster), which
    # join the graded_* group of the module's tests that use one.
    groups: dict[pytest.Item, str] = {}
    for item in items:
        fixtures = getattr(item, "_fixtureinfo", None)
        defs = fixtures.name2fixturedefs if fixtures is not None else {}
        graded = sorted(name for name in item.fixturenames if name.startswith("graded_"))
        if graded:
            groups[item] = graded[0]
        elif any(c and c[-1].scope != "function" and c[-1].baseid for c in defs.values()):
            groups[item] = _module(item)
    with_graded = {_module(i): g for i, g in groups.items() if g.startswith("graded_")}
    for item, group in groups.items():
        item.add_marker(pytest.mark.xdist_group(with_graded.get(group, group)))


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::")[0]


def pytest_collection_finish(session: pytest.Session) -> None:
    # Each in-process run of an assignment's checks (run_checks: a nested pytest session)
    # ends with two full garbage collections (pytest's unraisableexception plugin), which
    # walk every object alive: torch and all the collected test modules, about 0.25 s each.
    # What is alive now stays alive for the whole run: leave it out of those walks.
    gc.freeze()


# `make test-fast` runs `-m "not kernel and not slow"`: a test that starts kernels without
# the marker would make it slow. An unmarked test fails at once when it asks for a graded_* fixture
# (graded once per session, maybe already for a marked test, so nothing would start while
# it runs), starts a kernel in this process, spawns the local pool's grading workers, or
# starts a Dask cluster. Kernels started by `nngrade` subprocesses cannot be seen from here:
# those tests are marked by reading them.
UNMARKED = "this test starts a kernel: mark it @pytest.mark.kernel"
_GUARD = pytest.StashKey[pytest.MonkeyPatch]()


def _refuse(how: str) -> Callable[..., NoReturn]:
    def refuse(*args: object, **kwargs: object) -> NoReturn:
        # pytest.fail raises a BaseException, which grade_notebook (it records any
        # Exception as the submission's error) lets through.
        pytest.fail(f"{UNMARKED} ({how})", pytrace=False)

    return refuse


def _refuse_kernel(session: KernelSession) -> NoReturn:
    session.close()  # its event loop, opened by __init__: left open, it fails the run at exit
    _refuse("KernelSession.start")()


@pytest.hookimpl(tryfirst=True)  # before any fixture is set up, session-scoped ones too
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("kernel"):
        return
    graded = sorted(name for name in item.fixturenames if name.startswith("graded_"))
    if graded:
        _refuse(f"it uses {', '.join(graded)}")()
    guard = pytest.MonkeyPatch()
    item.stash[_GUARD] = guard
    guard.setattr(KernelSession, "start", _refuse_kernel)
    guard.setattr(KernelSession, "launch", _refuse_kernel)  # a pool's spare (runner/pool.py)
    guard.setattr(Zygote, "__init__", _refuse("it starts a fork server"))
    guard.setattr(
        multiprocessing.context.SpawnProcess, "start", _refuse("it spawns grading workers")
    )
    # Refused before it starts anything: its workers are spawned from a thread, where a
    # refusal would leave the cluster waiting for them. Not imported here (a second
    # or so): a test that makes a cluster has imported distributed by now.
    if "distributed" in sys.modules:
        cluster = sys.modules["distributed"].LocalCluster
        guard.setattr(cluster, "__init__", _refuse("it starts a Dask cluster"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    finally:
        guard = item.stash.get(_GUARD, None)
        if guard is not None:
            guard.undo()
            del item.stash[_GUARD]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's browsers are the system Chromium (tests/browser.py)."""
    return chromium_launch_args(browser_type_launch_args)
