"""Resource limits for one kernel, and plain words for what happens when one is hit.

The limits are applied inside the kernel's process by ``_kernel/nngrade_launch.py``;
this module holds their values and turns a limit's symptoms (a ``MemoryError``, a
"File too large", a kernel killed for CPU time) into a sentence for the student.
"""

from __future__ import annotations

import re
import signal
from dataclasses import asdict, dataclass
from typing import Any

from grader._kernel.nngrade_protocol import CellEventKind

__all__ = ["KernelExit", "Limits", "LimitHit", "classify_error", "format_size", "parse_size"]

KiB, MiB, GiB = 2**10, 2**20, 2**30
# Libraries reserve address space they never touch (torch maps ~0.7 GB at import), so
# the address-space cap sits above the memory cap; it only stops shared-memory tricks.
ADDRESS_SPACE_HEADROOM = 2 * GiB


@dataclass(frozen=True)
class Limits:
    """What one kernel may use. Sizes are in bytes, CPU time in seconds."""

    memory: int = 2 * GiB  # heap and arrays (RLIMIT_DATA)
    cpu_time: int = 600  # CPU seconds over the kernel's life, all its threads together
    processes: int = 256  # processes and threads (RLIMIT_NPROC)
    file_size: int = 256 * MiB  # largest file the kernel may write; also each scratch disk
    value_size: int = 64 * MiB  # largest value a call may return to the grader

    def for_launcher(self) -> dict[str, int]:
        """The values the kernel-side launcher turns into setrlimit calls."""
        return {**asdict(self), "address_space": self.memory + ADDRESS_SPACE_HEADROOM}

    def describe(self) -> str:
        return (
            f"memory {format_size(self.memory)}, CPU time {self.cpu_time} s, "
            f"{self.processes} processes, files up to {format_size(self.file_size)}, "
            f"returned values up to {format_size(self.value_size)}"
        )


_UNITS = {"": 1, "b": 1, "k": KiB, "m": MiB, "g": GiB, "t": 2**40}


def parse_size(text: str) -> int:
    """``"2G"``, ``"512MiB"``, ``"1.5g"`` or ``"1048576"`` as bytes (binary units)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text.lower())
    if not match:
        raise ValueError(f"{text!r} is not a size (examples: 512M, 2G, 1048576)")
    number, unit = match.groups()
    value = int(float(number) * _UNITS[unit])
    if value <= 0:
        raise ValueError(f"{text!r} must be larger than zero")
    return value


def format_size(value: int) -> str:
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if value >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value} bytes"


@dataclass(frozen=True)
class LimitHit:
    """A cell error or kernel death explained: which limit, in one sentence."""

    kind: CellEventKind  # a limit, the sandbox (forbidden, input), or kernel_died
    summary: str
    restart: bool = False  # restart the kernel to free what the cell still holds


def classify_error(ename: str, evalue: str, limits: Limits) -> LimitHit | None:
    """Explain a cell's exception when it comes from a limit or the sandbox, else None."""
    text = f"{ename}: {evalue}"
    if ename in ("MemoryError", "_ArrayMemoryError", "OutOfMemoryError") or re.search(
        r"can't allocate memory|not enough memory|Cannot allocate memory", evalue
    ):
        return LimitHit(
            CellEventKind.MEMORY_LIMIT,
            f"ran out of memory: the memory limit is {format_size(limits.memory)} ({text})"[:300],
            restart=True,
        )
    size = format_size(limits.file_size)
    if "File too large" in evalue:
        return LimitHit(
            CellEventKind.FILE_LIMIT, f"wrote a file larger than the {size} limit ({text})"[:300]
        )
    if "No space left on device" in evalue:
        return LimitHit(CellEventKind.FILE_LIMIT, f"filled its {size} of disk space ({text})"[:300])
    if ename == "BlockingIOError" and "Resource temporarily unavailable" in evalue:
        summary = f"started too many processes or threads: the limit is {limits.processes}"
        return LimitHit(CellEventKind.PROCESS_LIMIT, f"{summary} ({text})"[:300], restart=True)
    if "nngrade:" in evalue and ename in ("ImportError", "ModuleNotFoundError", "PermissionError"):
        return LimitHit(CellEventKind.FORBIDDEN, evalue.split("nngrade:", 1)[1].strip()[:300])
    if ename == "StdinNotImplementedError":
        return LimitHit(
            CellEventKind.INPUT, "called input(); nobody can type an answer while grading"
        )
    return None


@dataclass(frozen=True)
class KernelExit:
    """How a dead kernel's process ended, as the launcher (or the process table) saw it."""

    signal: int | None = None
    code: int | None = None
    max_rss: int = 0  # bytes
    cpu_time: float = 0.0  # seconds

    @classmethod
    def from_launcher(cls, data: dict[str, Any]) -> KernelExit:
        return cls(
            signal=_int_or_none(data.get("signal")),
            code=_int_or_none(data.get("code")),
            max_rss=int(data.get("max_rss", 0)),
            cpu_time=float(data.get("cpu_time", 0.0)),
        )

    @classmethod
    def from_returncode(cls, returncode: int | None) -> KernelExit:
        """bwrap reports a signal as 128 + n, a plain child process as -n."""
        if returncode is None:
            return cls()
        if returncode < 0:
            return cls(signal=-returncode)
        if returncode > 128:
            return cls(signal=returncode - 128)
        return cls(code=returncode)

    def explain(self, limits: Limits) -> LimitHit:
        """Why the kernel died, as a clause: "the kernel ran out of memory (...)"."""
        # Only RLIMIT_CPU sends SIGXCPU; rusage can report a hair under the limit then.
        used_up = self.cpu_time >= limits.cpu_time - 0.5
        if self.signal == signal.SIGXCPU or (self.signal == signal.SIGKILL and used_up):
            return LimitHit(
                CellEventKind.CPU_LIMIT, f"the kernel used up its {limits.cpu_time} s of CPU time"
            )
        if self.max_rss >= 0.85 * limits.memory:
            return LimitHit(
                CellEventKind.MEMORY_LIMIT,
                f"the kernel ran out of memory (the limit is {format_size(limits.memory)})",
            )
        if self.signal is not None:
            return LimitHit(CellEventKind.KERNEL_DIED, f"the kernel {_signal_words(self.signal)}")
        if self.code is not None:
            return LimitHit(
                CellEventKind.KERNEL_DIED,
                f"the kernel exited with code {self.code} (os._exit or exit)",
            )
        return LimitHit(
            CellEventKind.KERNEL_DIED, "the kernel stopped (os._exit, a crash, or out of memory)"
        )


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int) else None


def _signal_words(number: int) -> str:
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    if number in (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGFPE, signal.SIGILL):
        return f"crashed ({name})"
    return f"was killed ({name})"
