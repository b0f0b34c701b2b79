"""A kernel ends with the grading process that started it, however that process ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.runner.limits import Limits
from grader.runner.sandbox import Sandbox, bwrap_problem
from grader.runner.zygote import fork_problem
from tests.batch_support import alive, descendants_of

pytestmark = pytest.mark.kernel

REQUIRED = os.environ.get("NNGRADE_REQUIRE_BWRAP") == "1"

# A grading process, reduced to one kernel: it says when the kernel is up, then waits.
GRADER = """
import sys, time
from grader.runner.kernel import KernelSession
from grader.runner.limits import Limits
from grader.runner.pool import pooled, open_session
from grader.runner.sandbox import Sandbox

mode = sys.argv[1]
sandbox = Sandbox.choose("bwrap" if mode == "fork" else mode, Limits())
with pooled(2, fork=mode == "fork") as pool, open_session(sandbox, (), (), 10) as session:
    assert (pool.forked > 0) == (mode == "fork"), pool.fork_problem
    session.execute("x = 1", 0)
    print("ready", flush=True)
    time.sleep(300)
"""


@pytest.mark.parametrize("mode", ["none", "bwrap", "fork"])
def test_a_kernel_ends_when_its_grader_is_killed(mode: str, tmp_path: Path) -> None:
    if mode == "fork" and fork_problem(Sandbox("bwrap", Limits())):
        pytest.skip(fork_problem(Sandbox("bwrap", Limits())) or "")
    if mode != "none" and bwrap_problem():
        if REQUIRED:
            pytest.fail(f"bubblewrap is required here: {bwrap_problem()}")
        pytest.skip(bwrap_problem() or "")
    with subprocess.Popen(
        [sys.executable, "-c", GRADER, mode],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        text=True,
    ) as grader:
        try:
            assert grader.stdout is not None and grader.stdout.readline() == "ready\n"
            kernel = [pid for pid in descendants_of(grader.pid) if alive(pid)]
            assert kernel, "the kernel's processes run below the grader"
        finally:
            grader.send_signal(signal.SIGKILL)  # no cleanup of any kind runs
    deadline = time.monotonic() + 10
    while any(map(alive, kernel)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in kernel if alive(pid)] == []
