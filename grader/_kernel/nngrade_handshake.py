"""The handshake between a kernel and its launcher after each cell.

A cell that kills the launcher (the kernel's parent) could still get its reply out before
the launcher's end takes the kernel down, and the death would be blamed on the next cell,
which the replay would then follow with the killer again. So after each cell, before its
reply, the kernel writes a byte to the launcher and waits for it to come back: a launcher
already sent SIGKILL never answers, and the kernel ends before the reply leaves.

nngrade_launch.py (and nngrade_zygote.py's launcher) make the pipes before forking the
kernel; the kernel's setup cell (runner/kernel.py) registers the check.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

ENDS = "NNGRADE_HANDSHAKE"  # the kernel's two ends, "ask,answer", until the helper takes them

Pipes = tuple[int, int, int, int]


def pipes() -> Pipes:
    """Two pipes, kernel to launcher and launcher to kernel: (read, write) of each."""
    return (*os.pipe(), *os.pipe())


def kernel_end(made: Pipes) -> None:
    """In the kernel's process: close the launcher's ends, leave the kernel's for the helper."""
    ask_read, ask_write, answer_read, answer_write = made
    os.close(ask_read)
    os.close(answer_write)
    os.environ[ENDS] = f"{ask_write},{answer_read}"


def launcher_end(made: Pipes) -> tuple[int, int]:
    """In the launcher's process: close the kernel's ends; the launcher's two."""
    ask_read, ask_write, answer_read, answer_write = made
    os.close(ask_write)
    os.close(answer_read)
    return ask_read, answer_write


def answer(ask: int, reply: int) -> None:
    """In the launcher: answer each byte, in a thread, until the kernel has ended."""

    def answering() -> None:
        while os.read(ask, 1):
            os.write(reply, b".")

    threading.Thread(target=answering, daemon=True).start()


def check_after_each_cell(shell: Any) -> None:
    """In the kernel: after each cell, end the kernel at once if the launcher is gone."""
    ends = os.environ.pop(ENDS, "")
    if not ends:  # started without a launcher
        return
    ask, reply = (int(fd) for fd in ends.split(","))

    def launcher_answers(*_: Any) -> None:
        try:
            os.write(ask, b".")
            answered = os.read(reply, 1)
        except BrokenPipeError:  # the launcher has ended
            answered = b""
        except OSError:  # the cell closed these descriptors: no check left to make
            return
        if not answered:
            os.kill(os.getpid(), signal.SIGKILL)

    shell.events.register("post_run_cell", launcher_answers)
