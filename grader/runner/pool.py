"""Each worker's kernels: forked from a fork server, or started ahead in boxes of their own.

Starting a sandboxed kernel is most of a short notebook's cost: bwrap, Python, ipykernel,
numpy, and torch for an assignment that preloads it. A ``KernelPool`` saves it twice over:

- With bubblewrap, run as root, kernels are forked from the worker's fork server
  (runner/zygote.py), which imported all of that once. Each forked kernel still gets a
  box of its own: namespaces, tmpfs folders, uid, limits, import guard.
- Either way it keeps one spare kernel: as soon as a submission's kernel answers, the
  next one is forked (or launched in a fresh box) and boots while the checks run, so the
  next submission finds it (nearly) ready.

Every kernel serves one submission and is shut down with its box; nothing is forked from
a process that ran anything else. A spare and a fork server are keyed by everything that
shapes a box (the sandbox with its limits and private folders, the support files, the
preloaded modules): one built for another assignment is shut down, never adapted. A spare
that died while it waited is shut down, never used; a fork server that died is replaced;
one that does not start leaves the kernels to start in boxes of their own.

Only with bubblewrap: without it a spare would run as the grader's own user, unconfined,
beside the submission being graded, which could then signal it or write into its folder.
There, and wherever no pool is active (Dask workers, single notebooks), a kernel is
started on demand exactly as before.
"""

from __future__ import annotations

import atexit
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from grader.runner.kernel import KernelSession
from grader.runner.sandbox import KernelBox, Sandbox
from grader.runner.zygote import Zygote, ZygoteUnavailable, fork_problem

__all__ = ["KERNEL_STARTS", "KernelPool", "activate", "active_pool", "open_session", "pooled"]

KERNEL_STARTS = ("fork", "ahead", "demand")  # GradingOptions.kernel_start
# What every kernel imports as it boots; an assignment adds its own (preload = ["torch"]).
ALWAYS_PRELOADED = ("numpy",)


@dataclass(frozen=True)
class _Key:
    sandbox: Sandbox
    support_files: tuple[Path, ...]
    preload: tuple[str, ...]


class _Kernel:
    """A box and the kernel launched in it, shut down together."""

    def __init__(self, key: _Key, cell_timeout: float, zygote: Zygote | None) -> None:
        self.key = key
        self.box: KernelBox = (
            zygote.box() if zygote else key.sandbox.box(key.support_files, key.preload)
        )
        self.session = KernelSession(self.box, cell_timeout=cell_timeout)
        try:
            self.session.launch()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        try:
            self.session.close()
        finally:
            self.box.__exit__(None, None, None)


class KernelPool:
    """One spare kernel, launched when the previous kernel was handed out. ``expected``:
    how many submissions will come, when known, so that no spare boots after the last.
    ``fork``: fork kernels from a fork server where that is possible."""

    def __init__(self, expected: int | None = None, fork: bool = True) -> None:
        self._spare: _Kernel | None = None
        self._remaining = expected
        self._fork = fork
        self._zygote: Zygote | None = None
        self._zygote_key: _Key | None = None
        self.fork_problem: str | None = None  # why kernels are not forked, once known
        self.launched = 0  # kernels launched, spares included (tests, the benchmark)
        self.reused = 0  # submissions that got a spare
        self.forked = 0  # kernels forked from a fork server

    @contextlib.contextmanager
    def session(
        self,
        sandbox: Sandbox,
        support_files: tuple[Path, ...],
        preload: tuple[str, ...],
        cell_timeout: float,
    ) -> Iterator[KernelSession]:
        """A started kernel for one submission, shut down (with its box) afterwards."""
        key = _Key(sandbox, tuple(support_files), tuple(preload))
        kernel = self._take(key)
        if kernel is None:
            kernel = self._launch(key, cell_timeout)
        else:
            self.reused += 1
        if self._remaining is not None:
            self._remaining -= 1
        try:
            kernel.session.cell_timeout = cell_timeout
            kernel.session.connect()
            # Launched only now: booting beside this kernel would slow its start down.
            if self._remaining is None or self._remaining > 0:
                self._launch_spare(key, cell_timeout)
            yield kernel.session
        finally:
            kernel.close()

    def close(self) -> None:
        spare, self._spare = self._spare, None
        try:
            if spare is not None:
                spare.close()
        finally:
            self._close_zygote()

    def _take(self, key: _Key) -> _Kernel | None:
        spare, self._spare = self._spare, None
        if spare is None:
            return None
        if spare.key == key and spare.session.alive:
            return spare
        spare.close()  # another assignment's, or dead: never used
        return None

    def _launch_spare(self, key: _Key, cell_timeout: float) -> None:
        try:
            self._spare = self._launch(key, cell_timeout)
        except Exception:  # noqa: BLE001 - the next submission starts its own instead
            self._spare = None

    def _launch(self, key: _Key, cell_timeout: float) -> _Kernel:
        zygote = self._zygote_for(key)
        self.launched += 1
        kernel = _Kernel(key, cell_timeout, zygote)
        self.forked += zygote is not None
        return kernel

    def _zygote_for(self, key: _Key) -> Zygote | None:
        """This assignment's fork server, started if need be; None: start kernels in boxes."""
        zygote = self._zygote
        if zygote is not None and self._zygote_key == key and zygote.alive:
            return zygote
        self._close_zygote()
        if not self._fork or self.fork_problem is not None:
            return None
        if self._remaining is not None and self._remaining <= 1:
            return None  # one kernel to start (`nngrade check`): a fork server costs more
        self.fork_problem = fork_problem(key.sandbox)
        if self.fork_problem is not None:
            return None
        try:
            self._zygote = Zygote(key.sandbox, key.support_files, key.preload)
            self._zygote_key = key
        except ZygoteUnavailable as exc:  # kernels start in boxes of their own instead
            self.fork_problem = str(exc)
            return None
        return self._zygote

    def _close_zygote(self) -> None:
        zygote, self._zygote = self._zygote, None
        if zygote is not None:
            zygote.close()


_active: KernelPool | None = None


def active_pool() -> KernelPool | None:
    return _active


@contextlib.contextmanager
def pooled(expected: int | None = None, fork: bool = True) -> Iterator[KernelPool]:
    """Use a pool for the kernels started in this process until the block ends."""
    global _active
    previous, _active = _active, KernelPool(expected, fork)
    try:
        yield _active
    finally:
        pool, _active = _active, previous
        pool.close()


def activate(fork: bool = True) -> None:
    """Use a pool for the rest of this process's life (a batch's worker process)."""
    global _active
    if _active is None:
        _active = KernelPool(fork=fork)
        atexit.register(_active.close)


@contextlib.contextmanager
def open_session(
    sandbox: Sandbox,
    support_files: tuple[Path, ...],
    preload: tuple[str, ...],
    cell_timeout: float,
) -> Iterator[KernelSession]:
    """A started kernel for one submission: from the active pool under bubblewrap, else
    started on demand. Either way it preloads the same modules and serves one submission."""
    preload = tuple(dict.fromkeys((*ALWAYS_PRELOADED, *preload)))
    if _active is not None and sandbox.mode == "bwrap":
        with _active.session(sandbox, support_files, preload, cell_timeout) as session:
            yield session
        return
    with (
        sandbox.box(support_files, preload) as box,
        KernelSession(box, cell_timeout=cell_timeout) as session,
    ):
        yield session
