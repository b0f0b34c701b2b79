"""Kernels forked from a worker's fork server (runner/zygote.py): each in a box of its own, as
closed as a kernel started in a fresh bubblewrap box; the fork server outlives whatever a
kernel does; and where it cannot fork, or dies, grading goes on."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.batch import executor
from grader.runner import pool as kernel_pool
from grader.runner import zygote as zygote_module
from grader.runner.kernel import CellRunStatus, KernelSession
from grader.runner.pool import open_session, pooled
from grader.runner.sandbox import KernelBox, Sandbox
from grader.runner.zygote import Zygote, ZygoteUnavailable, fork_problem
from tests.batch_support import descendants_of

pytestmark = pytest.mark.kernel


# What a kernel started in a bubblewrap box of its own can and cannot do, asked of a forked
# one. UID: the uid its box was given.
BOX = """
import ctypes, os, socket, sys
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
assert os.getpid() == 3, "process 3 of a PID namespace of its own, as in bubblewrap's box"
assert sorted(p for p in os.listdir("/proc") if p.isdigit()) == ["1", "2", "3"], "others"
assert (os.getuid(), os.geteuid(), os.getgid()) == (UID, UID, UID), "its own uid"
for name in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
    assert int(status[name], 16) == 0, name
assert status["NoNewPrivs"].strip() == "1"
assert socket.gethostname() == "nngrade"
assert os.getcwd() == "/home/student"
assert set(os.listdir(".")) <= {".ipython", ".matplotlib", "data.txt"}, os.listdir(".")
assert open("data.txt").read() == "42"
try:
    open("data.txt", "a")
except OSError:
    pass
else:
    raise AssertionError("a support file can be written")
libc = ctypes.CDLL(None, use_errno=True)
assert libc.umount2(b"/tmp", 2) != 0, "it could uncover what lies below its /tmp"
assert libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) != 0, "it could mount"
try:
    socket.create_connection(("127.0.0.1", 9), timeout=2)
except ConnectionRefusedError:
    pass  # its loopback is up and its own, as in a bubblewrap box
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
except OSError:
    pass
else:
    raise AssertionError("the network is reachable")
connections = os.path.dirname(os.path.dirname(os.path.dirname(sys.argv[sys.argv.index("-f") + 1])))
assert len(os.listdir(connections)) == 1, "another kernel's connection folder is in sight"
try:
    open("/etc/shadow").read()
except PermissionError:
    pass
else:
    raise AssertionError("/etc/shadow is readable")
"""


@pytest.fixture
def sandbox(sandbox: Sandbox) -> Sandbox:
    """bubblewrap's sandbox, where kernels can be forked into it (as root)."""
    problem = fork_problem(sandbox)
    if problem:
        pytest.skip(problem)
    return sandbox


@pytest.fixture
def zygote(sandbox: Sandbox, tmp_path: Path) -> Iterator[Zygote]:
    support = tmp_path / "data.txt"
    support.write_text("42")
    server = Zygote(sandbox, (support,), ("numpy",))
    yield server
    server.close()


def _ok(session: KernelSession, source: str) -> None:
    run = session.execute(source, cell_index=0)
    assert run.status is CellRunStatus.OK, run.reply.get("evalue")


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _session(box: KernelBox) -> KernelSession:
    return KernelSession(box, cell_timeout=30)


def test_each_forked_kernel_has_a_box_of_its_own(zygote: Zygote) -> None:
    with (
        zygote.box() as first_box,
        _session(first_box) as first,
        zygote.box() as second_box,
        _session(second_box) as second,
    ):
        assert first_box.uid != second_box.uid
        _ok(first, BOX.replace("UID", str(first_box.uid)))
        _ok(second, BOX.replace("UID", str(second_box.uid)))
        _ok(first, "open('/tmp/left', 'w').close(); open('left', 'w').close()")
        _ok(first, "open('/dev/shm/left', 'w').close()")
        _ok(second, "import os; assert not any(map(os.path.exists, ['/tmp/left', 'left']))")
        _ok(second, "import os; assert not os.path.exists('/dev/shm/left')")
    # The probe itself can fail: the same look as another uid would.
    with zygote.box() as box, _session(box) as third:
        assert box.uid is not None
        run = third.execute(BOX.replace("UID", str(box.uid + 1)), 0)
        assert run.status is CellRunStatus.ERROR and "its own uid" in run.reply["evalue"]


def test_a_kernel_holds_nothing_of_the_grader_or_the_fork_server(zygote: Zygote) -> None:
    with zygote.box() as box, _session(box) as session:
        process = session._client.km.provisioner.process  # type: ignore[union-attr]
        alive = f"pipe:[{os.fstat(process._alive).st_ino}]"
        _ok(
            session,
            "import os\n"
            "held = set()\n"
            "for fd in os.listdir('/proc/self/fd'):\n"
            "    try:\n"
            "        held.add(os.readlink(f'/proc/self/fd/{fd}'))\n"
            "    except FileNotFoundError:\n"
            "        pass  # the listing's own\n"
            f"assert {alive!r} not in held, 'the pipe that says the kernel is alive'\n"
            "assert not any('server.log' in target for target in held), held\n"
            "assert os.readlink('/proc/self/fd/0') == '/dev/null'\n",
        )


def test_a_kernel_cannot_harm_the_fork_server_or_the_next_kernel(zygote: Zygote) -> None:
    with zygote.box() as box, KernelSession(box, cell_timeout=20) as session:
        run = session.execute(
            "import os, signal\n"
            "for pid in [*range(1, 5000), -1]:\n"
            "    if pid != os.getpid():\n"
            "        try:\n            os.kill(pid, signal.SIGKILL)\n"
            "        except OSError:\n            pass\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n",
            0,
        )
        assert run.status is CellRunStatus.KERNEL_DIED
    assert zygote.alive
    with zygote.box() as box, _session(box) as session:
        _ok(session, "x = 1")


def test_a_forked_kernel_reports_how_it_ended_and_restarts(zygote: Zygote) -> None:
    with zygote.box() as box, _session(box) as session:
        run = session.execute("import os; os._exit(3)", 0)
        assert run.status is CellRunStatus.KERNEL_DIED
        assert session.last_exit is not None and session.last_exit.code == 3
        session.restart()
        _ok(session, "assert 'os' not in globals()")


def test_forked_kernels_draw_fresh_random_seeds(zygote: Zygote) -> None:
    draws = []
    for _ in range(2):
        with zygote.box() as box, _session(box) as session:
            _ok(session, "import numpy as np, random\ndraw = (np.random.rand(), random.random())")
            _ok(session, f"open({str(box.conn_dir / 'draw')!r}, 'w').write(repr(draw))")
            draws.append((box.conn_dir / "draw").read_text())
    assert draws[0] != draws[1]


def test_kernels_start_in_boxes_when_the_fork_server_cannot_make_them(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the capability to make namespaces the fork server's test box fails.
    weaker = tuple(c for c in zygote_module.CAPABILITIES if c != "CAP_SYS_ADMIN")
    monkeypatch.setattr(zygote_module, "CAPABILITIES", weaker)
    with pytest.raises(ZygoteUnavailable, match="test box"):
        Zygote(sandbox, (), ()).close()
    with pooled() as pool, open_session(sandbox, (), (), 60) as session:
        _ok(session, "x = 1")
        assert pool.forked == 0 and pool.launched >= 1
        assert pool.fork_problem is not None and "test box" in pool.fork_problem


def test_a_fork_server_that_died_is_replaced(sandbox: Sandbox) -> None:
    with pooled() as pool:
        with open_session(sandbox, (), (), 60) as session:
            _ok(session, "x = 1")
        first = pool._zygote
        assert first is not None
        box_init = [p for p in descendants_of(first.process.pid) if _parent(p) == first.process.pid]
        server = [p for p in descendants_of(first.process.pid) if _parent(p) in box_init]
        assert len(server) == 1, "one fork server"
        os.kill(server[0], signal.SIGKILL)
        first.process.wait(10)  # the box ends with it
        with open_session(sandbox, (), (), 60) as session:
            _ok(session, "assert 'x' not in globals()")
        assert pool._zygote is not None and pool._zygote is not first
        assert pool.fork_problem is None


def test_a_single_notebook_starts_no_fork_server(sandbox: Sandbox) -> None:
    with pooled(1) as pool, open_session(sandbox, (), (), 60) as session:
        _ok(session, "x = 1")
    assert (pool.launched, pool.forked) == (1, 0)


def _set_up_worker(kernel_start: str, answer: Any) -> None:
    executor._worker_setup(kernel_start)
    active = kernel_pool.active_pool()
    answer.put(None if active is None else active._fork)


def test_a_batch_worker_forks_only_when_told() -> None:
    # In a process of its own, as a batch's worker: the set-up changes its signals.
    context = multiprocessing.get_context("spawn")
    for start, forks in (("fork", True), ("ahead", False), ("demand", None)):
        answer = context.Queue()
        worker = context.Process(target=_set_up_worker, args=(start, answer))
        worker.start()
        assert answer.get(timeout=60) is forks
        worker.join(10)
