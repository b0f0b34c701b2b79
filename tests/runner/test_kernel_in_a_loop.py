"""A kernel session driven from code that runs an event loop of its own in the same thread
(a Jupyter notebook, Playwright's sync API), where asyncio refuses a second loop."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from grader.runner.kernel import CellRunStatus, KernelSession
from grader.runner.limits import Limits
from grader.runner.sandbox import Sandbox

pytestmark = pytest.mark.kernel


def test_a_session_runs_while_another_loop_runs_in_its_thread() -> None:
    async def grade_inside_a_loop() -> tuple[CellRunStatus, CellRunStatus]:
        asyncio.get_running_loop()  # the situation: a loop runs here
        sandbox = Sandbox.choose("none", Limits())
        with sandbox.box() as box, KernelSession(box, cell_timeout=30) as session:
            ran = session.execute("x = 6 * 7", 0)
            raised = session.execute("assert x == 41", 1)
            return ran.status, raised.status

    # On a thread of its own: the test's thread may run a loop already (Playwright's, when
    # browser tests ran before in this process), where asyncio.run is refused.
    with ThreadPoolExecutor(1) as thread:
        statuses = thread.submit(asyncio.run, grade_inside_a_loop()).result()
    assert statuses == (CellRunStatus.OK, CellRunStatus.ERROR)
