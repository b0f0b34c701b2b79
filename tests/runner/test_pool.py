"""Kernels started ahead of time (runner/pool.py), forked from a fork server (runner/zygote.py)
or each in a fresh box: the next submission's kernel boots while one is graded, and sees
nothing that submission did, however hard it tried to leave something behind; a spare that
died or was built for another assignment is never used."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.runner.kernel import CellRunStatus, KernelSession
from grader.runner.limits import Limits
from grader.runner.pool import KernelPool, open_session, pooled
from grader.runner.sandbox import Sandbox
from grader.runner.zygote import fork_problem

pytestmark = pytest.mark.kernel

LEFT_SEED = 123  # torch seeds itself at random at import; 123 only if a seed leaked

# One submission leaves all it can behind: a process, files in /tmp and in its folder,
# a replaced module, an environment variable, a patched numpy, torch's global settings.
LEAVE_BEHIND = f"""
import os, subprocess, sys, numpy as np, torch
subprocess.Popen(["sleep", "300"], start_new_session=True)
open("/tmp/left_behind", "w").write("x")
open("left_behind.txt", "w").write("x")
os.environ["LEFT_BEHIND"] = "1"
sys.modules["json"] = sys.modules["os"]
np.allclose = lambda *args, **kwargs: True
torch.set_default_dtype(torch.float64)
torch.manual_seed({LEFT_SEED})
"""
# The next one, graded by the same worker, looks for each of them.
LOOK = f"""
import os, sys
assert "torch" in sys.modules, "preloaded"
import json, numpy as np, torch
assert not os.path.exists("/tmp/left_behind"), "a file in /tmp"
assert not os.path.exists("left_behind.txt"), "a file in the working folder"
assert "LEFT_BEHIND" not in os.environ, "an environment variable"
assert json is not os and hasattr(json, "dumps"), "a replaced module"
assert not np.allclose(1.0, 2.0), "a patched numpy"
assert torch.get_default_dtype() == torch.float32, "torch's default dtype"
assert torch.initial_seed() != {LEFT_SEED}, "torch's seed"
commands = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        commands.append(open(f"/proc/{{pid}}/cmdline", "rb").read())
    except OSError:
        pass
assert not any(c.startswith(b"sleep") for c in commands), "a background process"
"""


@pytest.fixture(params=[True, False], ids=["forked", "fresh-box"])
def fork(request: pytest.FixtureRequest, sandbox: Sandbox) -> bool:
    """Whether the pool forks its kernels (a fork server per assignment) or starts each in
    a box of its own."""
    if request.param and fork_problem(sandbox):
        pytest.skip(fork_problem(sandbox) or "")
    return bool(request.param)


def _ok(session: KernelSession, source: str) -> None:
    run = session.execute(source, cell_index=0)
    assert run.status is CellRunStatus.OK, run.reply.get("evalue")


def test_the_next_submission_sees_nothing_the_previous_one_left(
    sandbox: Sandbox, fork: bool
) -> None:
    with pooled(fork=fork) as pool:
        with open_session(sandbox, (), ("torch",), 60) as first:
            _ok(first, LEAVE_BEHIND)
            # The next kernel was launched while this one ran: the leftovers exist now.
            _ok(first, "import os; assert os.path.exists('/tmp/left_behind')")
        with open_session(sandbox, (), ("torch",), 60) as second:
            assert pool.reused == 1  # the spare, not a kernel started after the first ended
            _ok(second, LOOK)
        # The check itself can fail: the same look in the first kernel would.
        with open_session(sandbox, (), ("torch",), 60) as third:
            _ok(third, LEAVE_BEHIND)
            run = third.execute(LOOK.replace('assert "torch" in sys.modules', "pass"), 0)
            assert run.status is CellRunStatus.ERROR
    assert pool.forked == (pool.launched if fork else 0)


def test_a_spare_that_died_is_never_used(sandbox: Sandbox, fork: bool) -> None:
    with pooled(fork=fork) as pool:
        with open_session(sandbox, (), (), 60) as first:
            _ok(first, "x = 1")
            spare = pool._spare
            assert spare is not None
            process = spare.session._client.km.provisioner.process  # type: ignore[union-attr]
            process.kill()
            process.wait(10)
        with open_session(sandbox, (), (), 60) as second:
            assert pool.reused == 0
            _ok(second, "assert 'x' not in globals()")
        assert not spare.box.root.exists()


def test_a_spare_is_used_only_for_the_assignment_it_was_built_for(
    sandbox: Sandbox, fork: bool, tmp_path: Path
) -> None:
    support = tmp_path / "data.txt"
    support.write_text("42")
    with pooled(fork=fork) as pool:
        with open_session(sandbox, (), (), 60) as first:
            _ok(first, "x = 1")
            spare = pool._spare
        assert spare is not None
        with open_session(sandbox, (support,), (), 60) as second:
            assert pool.reused == 0
            assert not spare.box.root.exists()  # shut down, not adapted
            _ok(second, "assert open('data.txt').read() == '42'")
        with open_session(sandbox, (support,), ("torch",), 60) as third:
            assert pool.reused == 0  # another preload set: another kernel
            _ok(third, "import sys; assert 'torch' in sys.modules")
        with open_session(sandbox, (support,), ("torch",), 60):
            assert pool.reused == 1
    assert pool._spare is None  # the pool's end shuts its spare down


def test_no_spare_without_bubblewrap() -> None:
    # Without the sandbox a spare would run unconfined beside the submission being graded.
    with pooled() as pool, open_session(Sandbox("none", Limits()), (), (), 60) as session:
        _ok(session, "import sys; assert 'numpy' in sys.modules")
    assert pool.launched == 0


def test_a_known_count_of_submissions_boots_no_spare_after_the_last(
    sandbox: Sandbox, fork: bool
) -> None:
    pool = KernelPool(expected=2, fork=fork)
    for _ in range(2):
        with pool.session(sandbox, (), ("numpy",), 60) as session:
            _ok(session, "pass")
    assert (pool.launched, pool.reused) == (2, 1)
    pool.close()


def test_a_spare_that_cannot_start_costs_the_submission_nothing(
    sandbox: Sandbox, fork: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pooled(fork=fork) as pool:
        launch = KernelSession.launch

        def fails_for_the_spare(session: KernelSession) -> None:
            if pool.launched > 1:
                raise OSError("no room for another kernel")
            launch(session)

        monkeypatch.setattr(KernelSession, "launch", fails_for_the_spare)
        with open_session(sandbox, (), (), 60) as session:
            _ok(session, "pass")
        assert pool._spare is None
