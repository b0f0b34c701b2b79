"""A cell that kills the kernel a moment after it answers: it is blamed, not the next one.

A cell that kills its kernel's launcher gets its reply out before the launcher's end
takes the kernel down, so the kernel is found dead when the next cell is due. Blaming the
next cell would replay the killer, which kills the new kernel too, until every restart is
used up and the notebook scores nothing.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from typing import Any

from grader._kernel import nngrade_kernel
from grader._kernel.nngrade_protocol import CellEventKind
from grader.runner.cell_data import CodeCell
from grader.runner.cells import LiveNotebook
from grader.runner.kernel import CellRun, CellRunStatus
from grader.runner.limits import KernelExit, Limits
from grader.runner.sandbox import HELPER_DIR

KILLS_LATER = "kill_launcher()"


class _Kernel:
    """Runs cells in a plain namespace. A cell calling ``kill_launcher()`` answers ``ok``,
    and the kernel is dead from then on, until it is restarted."""

    limits = Limits()
    generation = 1

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {}
        self.dead = False
        self.ran: list[int] = []
        self.execution_counts: dict[int, int] = {}
        self.last_exit: KernelExit | None = None

    def execute(self, source: str, position: int, timeout: float | None = None) -> CellRun:
        if self.dead:
            return CellRun(CellRunStatus.KERNEL_DIED)
        self.ran.append(position)
        self.execution_counts[len(self.execution_counts) + 1] = position
        if KILLS_LATER in source:
            self.dead = True
            self.last_exit = KernelExit(signal=signal.SIGKILL)
        else:
            exec(source, self.namespace)
        return CellRun(CellRunStatus.OK)

    def found_dead(self) -> bool:
        return self.dead

    def restart(self) -> None:
        self.namespace, self.dead = {}, False

    def request(self, data: dict[str, Any], buffers: list[bytes], timeout: float) -> Any:
        assert not self.dead, "a request to a dead kernel"
        return nngrade_kernel.handle(self.namespace, data, buffers, lambda _: None)


def run(*sources: str) -> tuple[LiveNotebook, _Kernel]:
    kernel = _Kernel()
    cells = [CodeCell(position, source) for position, source in enumerate(sources, start=1)]
    notebook = LiveNotebook(kernel, cells, cell_timeout=1.0)  # type: ignore[arg-type]
    notebook.run()
    return notebook, kernel


def deaths(notebook: LiveNotebook) -> list[tuple[int, str]]:
    return [(e.cell, e.summary) for e in notebook.events if e.kind is CellEventKind.KERNEL_DIED]


def test_the_cell_that_killed_is_blamed_and_left_out_of_the_replay() -> None:
    notebook, kernel = run("a = 1", KILLS_LATER, "b = a + 1", "c = b + 1")
    assert [cell for cell, _ in deaths(notebook)] == [2]
    assert "SIGKILL" in deaths(notebook)[0][1]
    assert kernel.ran == [1, 2, 1, 3, 4]  # cell 1 replayed, cell 2 not
    assert kernel.namespace["c"] == 3
    assert notebook._restarts == 1


def test_a_last_cell_that_kills_leaves_a_live_kernel_for_the_checks() -> None:
    notebook, kernel = run("a = 1", KILLS_LATER)
    assert [cell for cell, _ in deaths(notebook)] == [2]
    assert not kernel.dead
    assert kernel.namespace["a"] == 1  # replayed
    assert kernel.ran == [1, 2, 1]


def test_a_cell_found_dead_before_it_runs_is_run_in_the_new_kernel() -> None:
    notebook, kernel = run(KILLS_LATER, "x = 2", KILLS_LATER, "y = x * 2")
    assert [cell for cell, _ in deaths(notebook)] == [1, 3]
    assert kernel.namespace["y"] == 4


# A kernel and its launcher, as nngrade_launch.py makes them, with the handshake after each
# cell (nngrade_handshake.py): the kernel outlives its launcher unless the handshake ends it.
KERNEL_AND_LAUNCHER = """
import os, signal, sys
import nngrade_handshake as handshake
pipes = handshake.pipes()
launcher = os.fork()
if launcher == 0:
    handshake.answer(*handshake.launcher_end(pipes))
    signal.pause()
handshake.kernel_end(pipes)
hooks = []
class events:
    register = staticmethod(lambda name, hook: hooks.append((name, hook)))
class shell:
    events = events
handshake.check_after_each_cell(shell)
assert [name for name, _ in hooks] == ["post_run_cell"]
hooks[0][1]()
print("a cell ended, the launcher answered", flush=True)
os.kill(launcher, signal.SIGKILL)
hooks[0][1]()
print("a cell that killed the launcher ended, and the kernel lived on", flush=True)
"""


def test_a_kernel_whose_cell_killed_its_launcher_ends_before_the_reply() -> None:
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KERNEL_AND_LAUNCHER)],
        cwd=HELPER_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.stdout == "a cell ended, the launcher answered\n", run.stderr
    assert run.returncode == -signal.SIGKILL
