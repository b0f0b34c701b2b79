"""Starts the student's kernel under its limits: the first code of ours in the kernel's process.

Run as ``python nngrade_launch.py -f CONNECTION_FILE ...`` with its settings as JSON in
the ``NNGRADE_LAUNCH`` environment variable. It forks. The child sets the resource
limits, installs the guard and becomes the IPython kernel. The parent stays behind,
waits, and writes how the kernel ended (signal, exit code, peak memory, CPU time) to a
file the grader reads when a kernel dies: "memory limit" instead of a mystery crash. It
also stops the kernel when the grading process is gone (its lifeline lock is free).
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import signal
import sys
import threading
from typing import Any

import nngrade_handshake as handshake

_RLIMITS = {
    "memory": resource.RLIMIT_DATA,
    "address_space": resource.RLIMIT_AS,
    "processes": resource.RLIMIT_NPROC,
    "file_size": resource.RLIMIT_FSIZE,
}
CPU_GRACE = 5  # seconds between SIGXCPU (soft limit) and SIGKILL (hard limit)


def main() -> None:
    if sys.argv[1] == "--report":  # the launcher part only (nngrade_zygote.py's launcher)
        pid, exit_file, ask, answer = sys.argv[2:6]
        handshake.answer(int(ask), int(answer))
        _wait_and_report(int(pid), exit_file)
    settings = json.loads(os.environ.pop("NNGRADE_LAUNCH"))
    pipes = handshake.pipes()
    kernel = os.fork()
    if kernel == 0:
        handshake.kernel_end(pipes)
        _become_kernel(settings)
    handshake.answer(*handshake.launcher_end(pipes))
    threading.Thread(
        target=_end_with_grader, args=(kernel, settings["lifeline"]), daemon=True
    ).start()
    _wait_and_report(kernel, settings["exit_file"])


def _end_with_grader(kernel: int, lifeline: str) -> None:
    """Kill the kernel once the grading process is gone. It holds an exclusive lock on
    the lifeline file for as long as it lives, so a shared lock is granted only then:
    the lock goes with the process however it ends, where a parent-death signal is tied
    to one thread and cannot reach across bwrap's namespaces."""
    try:
        fd = os.open(lifeline, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_SH)
    except OSError:  # no lifeline to watch: the grader's shutdown still ends the kernel
        return
    os.kill(kernel, signal.SIGKILL)


def _become_kernel(settings: dict[str, Any]) -> None:
    # The kernel ends with this launcher: at once by the kernel's signal, and by
    # ipykernel's own parent polling where that signal is not available.
    os.environ["JPY_PARENT_PID"] = str(os.getppid())
    _die_with_parent()
    limits = settings["limits"]
    for name, which in _RLIMITS.items():
        resource.setrlimit(which, (limits[name], limits[name]))
    cpu = limits["cpu_time"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + CPU_GRACE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash must not fill the disk
    import nngrade_guard

    nngrade_guard.install(
        settings["blocked_modules"], settings["private_paths"], settings["allowed_paths"]
    )
    _preload(settings.get("preload", []))
    import runpy

    sys.argv = ["ipykernel_launcher", *sys.argv[1:]]
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
    sys.exit(0)


def _preload(modules: list[str]) -> None:
    """Import what every notebook of the assignment imports (numpy, torch) while the
    kernel boots, under its limits and guard: a kernel started ahead of time
    (runner/pool.py) then has it ready. A module that is not installed is left out, as a
    student's own import of it would fail the same way later."""
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a broken library fails in the student's cell
            pass


def _die_with_parent() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _wait_and_report(kernel: int, exit_file: str) -> None:
    # Interrupts are meant for the kernel; a shutdown request is passed on to it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: os.kill(kernel, signal.SIGTERM))
    _, status, usage = os.wait4(kernel, 0)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    number = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    report = {
        "signal": number or None,
        "code": code,
        "max_rss": usage.ru_maxrss * 1024,
        "cpu_time": usage.ru_utime + usage.ru_stime,
    }
    try:
        with open(exit_file, "w") as out:
            json.dump(report, out)
    except OSError:
        pass  # the grader falls back on the process's exit status
    os._exit(code if code is not None else 128 + number)


if __name__ == "__main__":
    main()
