"""Keeps the grader's own code and files out of a notebook's reach, and notes who tried.

Installed by the launcher before the kernel starts, as an audit hook (PEP 578), which
code in the notebook cannot remove. It refuses to import the grader's packages (the
reference solutions live there) and, when there is no bubblewrap sandbox to hide them,
to open, list or change files under the grader's private folders. In the sandbox those
files are simply not there; the import guard still gives the student a clear message.

Audit hooks are not a security boundary (ctypes or a subprocess can get around them):
without bubblewrap this is a guard against borrowing, not against a determined attack.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["attempts", "install", "set_cell_counter"]

_PATH_EVENTS = frozenset(
    {
        "open",
        "os.listdir",
        "os.scandir",
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.truncate",
        "os.link",
        "os.symlink",
        "os.chmod",
        "os.chown",
        "os.mkdir",
        "os.utime",
        "shutil.copyfile",
        "shutil.copytree",
        "shutil.rmtree",
    }
)


class _Guard:
    def __init__(self, blocked: list[str], private: list[str], allowed: list[str]) -> None:
        self.blocked = frozenset(blocked)
        self.private = tuple(private)
        self.allowed = tuple(allowed)
        self.attempts: list[dict[str, Any]] = []
        self.cell_counter: Callable[[], Any] = lambda: None

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "import":
            top = str(args[0]).partition(".")[0]
            if top in self.blocked:
                self._note("import", top)
                raise ImportError(
                    f"nngrade: tried to import `{top}`, which belongs to the grader (it holds "
                    "the reference solutions); it cannot be used from a notebook"
                )
        elif self.private and event in _PATH_EVENTS:
            for arg in args:
                if isinstance(arg, str | bytes | os.PathLike) and self._is_private(arg):
                    self._note("file", os.fsdecode(arg))
                    raise PermissionError(
                        f"nngrade: tried to use {os.fsdecode(arg)!r}, one of the grader's "
                        "private files; notebooks may only use their own working folder"
                    )

    def _is_private(self, path: Any) -> bool:
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (OSError, ValueError):
            return False
        if any(_under(real, root) for root in self.allowed):
            return False
        return any(_under(real, root) for root in self.private)

    def _note(self, what: str, name: str) -> None:
        try:
            count = self.cell_counter()
        except Exception:  # noqa: BLE001 - never let bookkeeping break the guard
            count = None
        self.attempts.append({"what": what, "name": name, "execution_count": count})


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


_guard: _Guard | None = None


def install(blocked: list[str], private: list[str], allowed: list[str]) -> None:
    """Install the guard once, for the life of the process. ``allowed`` folders stay
    usable even inside a ``private`` one."""
    global _guard
    if _guard is not None:
        return
    # The interpreter's own files and this folder stay usable even inside a private folder
    # (a virtual environment inside the project, the helper inside the grader package).
    here = os.path.dirname(os.path.abspath(__file__))
    roots = [os.path.realpath(r) for r in (sys.prefix, sys.base_prefix, here, *allowed)]
    _guard = _Guard(blocked, [os.path.realpath(p) for p in private], roots)
    sys.addaudithook(_guard)


def set_cell_counter(counter: Callable[[], Any]) -> None:
    """Tell the guard how to find the cell responsible (its execution count)."""
    if _guard is not None:
        _guard.cell_counter = counter


def attempts() -> list[dict[str, Any]]:
    """What the guard refused so far: ``{"what", "name", "execution_count"}`` each."""
    return list(_guard.attempts) if _guard is not None else []
