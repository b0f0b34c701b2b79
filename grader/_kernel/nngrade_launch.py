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
        _answer_the_kernel(int(ask), int(answer))
        _wait_and_report(int(pid), exit_file)
    settings = json.loads(os.environ.pop("NNGRADE_LAUNCH"))
    pipes = handshake_pipes()
    kernel = os.fork()
    if kernel == 0:
        kernel_end(pipes)
        _become_kernel(settings)
    _answer_the_kernel(*launcher_end(pipes))
    threading.Thread(
        target=_end_with_grader, args=(kernel, settings["lifeline"]), daemon=True
    ).start()
    _wait_and_report(kernel, settings["exit_file"])


# The handshake after each cell. A cell that kills this launcher (its parent) could still
# get its reply out before the launcher's end takes the kernel down, and the death would
# be blamed on the next cell. So after each cell the kernel writes a byte to the launcher
# and waits for it to come back (nngrade_kernel.install): a launcher already sent SIGKILL
# never answers, and the kernel ends before the cell's reply leaves.
HANDSHAKE = "NNGRADE_HANDSHAKE"  # the kernel's two ends, "ask,answer"


def handshake_pipes() -> tuple[int, int, int, int]:
    """Two pipes: kernel to launcher, launcher to kernel (read, write ends of each)."""
    return (*os.pipe(), *os.pipe())


def kernel_end(pipes: tuple[int, int, int, int]) -> None:
    """In the kernel's process: keep the kernel's ends (for the kernel helper), close
    the launcher's."""
    ask_read, ask_write, answer_read, answer_write = pipes
    os.close(ask_read)
    os.close(answer_write)
    os.environ[HANDSHAKE] = f"{ask_write},{answer_read}"


def launcher_end(pipes: tuple[int, int, int, int]) -> tuple[int, int]:
    """In the launcher's process: close the kernel's ends; the launcher's two."""
    ask_read, ask_write, answer_read, answer_write = pipes
    os.close(ask_write)
    os.close(answer_read)
    return ask_read, answer_write


def _answer_the_kernel(ask: int, answer: int) -> None:
    def answering() -> None:
        while os.read(ask, 1):  # empty once the kernel has ended
            os.write(answer, b".")

    threading.Thread(target=answering, daemon=True).start()


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
