"""A worker's fork server, run inside its own bubblewrap box: imports once, forks each kernel.

Started by ``grader/runner/zygote.py`` as root inside a box that bubblewrap built (the
system and Python read-only, no network, nothing of the grader's), with only the
capabilities it needs to give each kernel a box of its own. It imports ipykernel and the
assignment's ``preload`` modules once, while it is the box's only thread, then waits for
requests on a socket the grader listens on. For each kernel it forks a launcher, which

- unshares new PID, mount, IPC, network and UTS namespaces, and brings up the new
  loopback;
- mounts fresh size-capped tmpfs folders on /tmp, /dev/shm and the home folder, binds the
  kernel's connection folder and the assignment's support files (read-only) into them;
- forks the box's processes as bubblewrap and ``nngrade_launch.py`` lay them out: the
  first mounts a /proc that shows the box's processes only, stays root without any
  capability, reaps orphans and takes the box down when the launcher ends; the second,
  the launcher, reports how the kernel ended; the third is the kernel;
- the launcher and the kernel drop to the submission's own uid with no capabilities and
  no way to gain any, and the kernel starts exactly as ``nngrade_launch.py`` starts it
  (limits, import guard, ipykernel).

Nothing a kernel does reaches the fork server or a later kernel: the kernel cannot see or
signal processes outside its namespace, its files live in its own tmpfs folders, and its
memory is its own copy.
"""

from __future__ import annotations

import ctypes
import fcntl
import functools
import importlib
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import traceback
from collections.abc import Callable
from typing import Any

import nngrade_handshake
import nngrade_launch

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 4, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CAPABILITY_VERSION_3 = 0x20080522
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
MESSAGE_SIZE = 2**20
# ipykernel as it starts and answers, our kernel helper (kernel.py's SETUP_CODE).
EVERY_KERNEL = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.debugger",
    "IPython.core.completer",
    "nngrade_kernel",
)
_libc = ctypes.CDLL(None, use_errno=True)


def main() -> None:
    settings = json.loads(os.environ.pop("NNGRADE_ZYGOTE"))
    channel = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    channel.connect(settings["channel"])
    # What every kernel imports, once; an import error shows in the student's cell instead.
    for name in [*EVERY_KERNEL, *settings["preload"]]:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001
            pass
    if "torch" in sys.modules:
        _warm_up_torch()
    threads = _threads()
    if threads != 1:  # a fork copies one thread: another one's locks would stay held
        _send(channel, {"error": f"the fork server runs {threads} threads after its imports"})
        return
    _prctl(PR_SET_DUMPABLE, 0)  # no kernel may read or trace this process's memory
    # One box made and entered in full before any kernel: where a part of it is refused
    # (a seccomp filter, a missing capability), the grader starts kernels as before.
    _, status = os.waitpid(_fork_launcher(functools.partial(_probe, settings)), 0)
    if status != 0:
        _send(channel, {"error": f"a test box could not be made (status {status})"})
        return
    _send(channel, {"ready": True})
    _serve(channel, settings)


def _warm_up_torch() -> None:
    """torch imports most of itself on first use: an optimizer's first step costs a
    second (torch._dynamo, sympy). Done here once, with no random number drawn."""
    import torch

    try:
        weight = torch.zeros(1, requires_grad=True)
        optimizer = torch.optim.SGD([weight], lr=0.1)
        (weight * 2).sum().backward()
        optimizer.step()
    except Exception:  # noqa: BLE001 - a kernel then pays for it, as without a fork server
        pass


def _fresh_seeds() -> None:
    """A new process would draw its own seeds: so does each copy of this one."""
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    if "torch" in sys.modules:
        sys.modules["torch"].seed()


def _serve(channel: socket.socket, settings: dict[str, Any]) -> None:
    launchers: dict[int, int] = {}  # request id: launcher pid
    while True:
        ready, _, _ = select.select([channel], [], [], 1.0)
        _reap(launchers)
        if not ready:
            continue
        message, fds, _, _ = socket.recv_fds(channel, MESSAGE_SIZE, 2)
        if not message:
            # The grader is done with this worker, or gone: the kernels still running end
            # as the grader closes their boxes, or with their lifelines.
            return
        request = json.loads(message)
        alive, lifeline = fds
        launch = functools.partial(_launch, request, settings, alive, lifeline)
        launchers[request["id"]] = _fork_launcher(launch, channel.fileno())
        os.close(alive)
        os.close(lifeline)
        _send(channel, {"id": request["id"], "ok": True})


def _fork_launcher(run: Callable[[], None], close: int = -1) -> int:
    """Fork a process that runs ``run`` and exits; its errors go to the grader's log."""
    pid = os.fork()
    if pid:
        return pid
    try:
        if close >= 0:
            os.close(close)  # the grader's channel is not the kernel's business
        run()
    except BaseException:  # noqa: BLE001 - said in the grader's log, then gone
        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(70)


def _probe(settings: dict[str, Any]) -> None:
    _make_box(settings, settings["probe_conn"])
    first = os.fork()
    if first == 0:
        try:
            _own_proc()
            _drop_privileges(settings["probe_uid"])
        finally:
            os._exit(0 if os.getuid() == settings["probe_uid"] else 70)
    _, status = os.waitpid(first, 0)
    os._exit(os.waitstatus_to_exitcode(status))


def _launch(request: dict[str, Any], settings: dict[str, Any], alive: int, lifeline: int) -> None:
    """A box of its own for one kernel, whose first process starts it; ends the box when the
    grader lets go of the ``lifeline`` (its lock, sent by the grader: this process may not
    look into the kernel's connection folder)."""
    os.set_inheritable(alive, False)  # not for the programs a student starts
    _make_box(settings, request["conn"])
    launcher_ended, launcher_lives = os.pipe()  # reads as closed once this process ends
    first = os.fork()
    if first == 0:
        # Only this process holds the grader's pipe and lifeline: nothing in the box can
        # close, write or lock them.
        for fd in (launcher_lives, lifeline, alive):
            os.close(fd)
        _first_process(request, settings, launcher_ended)
    os.close(launcher_ended)
    _drop_privileges(None)  # root, as the first process it may have to end
    _watch(first, lifeline)
    os.waitpid(first, 0)
    os._exit(0)  # the launcher in the box reported how the kernel ended


def _first_process(request: dict[str, Any], settings: dict[str, Any], launcher_ended: int) -> None:
    """Process 1 of the box, as bubblewrap's own: root without capabilities, so nothing in
    the box can signal it. It starts ``nngrade_launch.py``'s part as process 2 (which starts
    the kernel as process 3 and reports how it ended, as in a bubblewrap box), reaps
    orphans, and takes everything in the box down when the launcher ends."""
    _own_proc()
    launcher = os.fork()
    if launcher == 0:
        os.close(launcher_ended)
        # As a kernel started by jupyter_client: no terminal, no output but through zmq,
        # and nothing written into the fork server's log.
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
        _drop_privileges(request["uid"])
        pipes = nngrade_handshake.pipes()
        kernel = os.fork()
        if kernel == 0:
            _become_kernel(request, settings, pipes)
        ask, answer = nngrade_handshake.launcher_end(pipes)
        os.set_inheritable(ask, True)
        os.set_inheritable(answer, True)
        # The rest as a small program: this copy of the fork server takes long enough to
        # die (its memory torn down first) that a kernel killing it could still answer
        # before the kernel is ended with it. A fresh launcher dies as fast as bwrap's.
        exit_file = json.loads(request["env"]["NNGRADE_LAUNCH"])["exit_file"]
        launcher_program = nngrade_launch.__file__
        os.execv(
            sys.executable,
            [sys.executable, "-s", "-S", launcher_program, "--report"]
            + [str(kernel), exit_file, str(ask), str(answer)],
        )
    _drop_privileges(None)
    nngrade_launch._die_with_parent()
    if select.select([launcher_ended], [], [], 0)[0]:
        os._exit(70)  # the launcher outside ended before this could ask to end with it
    while os.wait()[0] != launcher:
        pass
    os._exit(0)


def _become_kernel(
    request: dict[str, Any], settings: dict[str, Any], pipes: nngrade_handshake.Pipes
) -> None:
    os.chdir(settings["home"])
    os.environ.clear()
    os.environ.update(request["env"])
    nngrade_handshake.kernel_end(pipes)
    _fresh_seeds()
    sys.argv = ["nngrade_launch", *request["args"]]
    launch = json.loads(os.environ.pop("NNGRADE_LAUNCH"))
    try:
        nngrade_launch._become_kernel(launch)
    except SystemExit as stop:  # the kernel's normal end, as in a process of its own
        sys.stdout.flush()
        os._exit(stop.code if isinstance(stop.code, int) else int(stop.code is not None))


def _make_box(settings: dict[str, Any], conn: str) -> None:
    """New namespaces for the launcher's child and fresh folders: a box of its own."""
    home, size = settings["home"], settings["size"]
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS))
    _mount("none", "/", None, MS_REC | MS_PRIVATE)  # nothing mounted here leaves this box
    _loopback_up()  # as bubblewrap does: a connection to localhost is refused, not unroutable
    # Bound again below the new scratch folders: Python where it lies below one (a checkout
    # and its .venv in /tmp), and the kernel's connection folder, the only one it sees.
    kept = [(path, os.open(path, os.O_PATH)) for path in [*settings["keep"], conn]]
    for folder, mode in (("/dev/shm", "1777"), ("/tmp", "1777"), (home, "0777")):
        _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode={mode}")
    for path, fd in kept:
        os.makedirs(path, 0o755, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        if path != conn:
            _mount("none", path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)
    os.mkdir(f"{home}/.matplotlib", 0o777)
    os.chmod(f"{home}/.matplotlib", 0o777)
    for dest, source in settings["binds"].items():
        if os.path.isdir(source):
            os.mkdir(dest)
        else:
            open(dest, "w").close()
        _mount(source, dest, None, MS_BIND | MS_REC)
        _mount("none", dest, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _own_proc() -> None:
    """A /proc that shows the box's processes only, in a mount namespace of its own (it
    must not replace the launcher's /proc, which is outside the box's PID namespace)."""
    _check(_libc.unshare(CLONE_NEWNS))
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


class _KernelEnded(Exception):
    pass


def _watch(kernel: int, lifeline: int) -> None:
    """Return when the kernel has ended, killing it first if the grading process is gone.

    What ``nngrade_launch._end_with_grader`` does in a thread, without one: a process that
    made a PID namespace for its children cannot start threads. SIGCHLD breaks the wait
    for the lifeline lock (held by the grader for as long as it lives) when the kernel ends.
    """

    def ended(*_: object) -> None:
        raise _KernelEnded

    previous = signal.signal(signal.SIGCHLD, ended)
    try:
        if os.waitid(os.P_PID, kernel, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            fcntl.flock(lifeline, fcntl.LOCK_SH)
            os.kill(kernel, signal.SIGKILL)
    except (_KernelEnded, OSError):
        pass
    finally:
        signal.signal(signal.SIGCHLD, previous)


def _drop_privileges(uid: int | None) -> None:
    """Become ``uid`` (None: stay root) with no capabilities, now or after any exec; abort
    if any is left. Root without capabilities can still signal no process of another uid,
    and nothing of another uid can signal it."""
    for cap in range(int(open("/proc/sys/kernel/cap_last_cap").read()) + 1):
        _check(_prctl(PR_CAPBSET_DROP, cap))
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # from root to another uid: permitted and effective go
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    _check(_libc.capset(header, (ctypes.c_uint32 * 6)()))  # all three sets, emptied
    _check(_prctl(PR_SET_NO_NEW_PRIVS, 1))
    if uid is not None:
        _prctl(PR_SET_DUMPABLE, 1)  # its own /proc entries, as a process started by exec has
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    caps = [int(status[name], 16) for name in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")]
    if any(caps) or (uid is not None and 0 in (os.getuid(), os.geteuid())):
        os._exit(71)


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as any_socket:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(any_socket, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(any_socket, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def _threads() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def _reap(launchers: dict[int, int]) -> None:
    for ident, pid in list(launchers.items()):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            del launchers[ident]


def _send(channel: socket.socket, message: dict[str, Any]) -> None:
    channel.sendall(json.dumps(message).encode())


def _prctl(option: int, value: int) -> int:
    return int(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0))


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    _check(
        _libc.mount(
            source.encode(),
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        target,
    )


def _check(result: int, what: str = "") -> int:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number), what)
    return result


if __name__ == "__main__":
    main()
