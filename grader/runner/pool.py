"""Kernels started ahead of time: the next submission's kernel boots while this one is graded.

Starting a sandboxed kernel is most of a short notebook's cost: bwrap, Python, ipykernel,
numpy, and torch for an assignment that preloads it. A ``KernelPool`` keeps one spare
kernel per worker: as soon as a submission's kernel answers, the next one is launched in
a fresh box of its own and boots while the checks run, so the next submission finds it
(nearly) ready.

Isolation is exactly that of a kernel started on demand, because it is one: every kernel
has its own bubblewrap box (PID, network, IPC and mount namespaces, scratch folders, uid,
limits, import guard), serves one submission and is shut down with its box; nothing is
forked from a process that ran anything else. A spare is keyed by everything that shapes
its box (the sandbox with its limits and private folders, the support files, the preloaded
modules): a spare built for another assignment is shut down, never adapted. A spare that
died while it waited is shut down, never used.

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

__all__ = ["KernelPool", "activate", "active_pool", "open_session", "pooled"]

# What every kernel imports as it boots; an assignment adds its own (preload = ["torch"]).
ALWAYS_PRELOADED = ("numpy",)


@dataclass(frozen=True)
class _Key:
    sandbox: Sandbox
    support_files: tuple[Path, ...]
    preload: tuple[str, ...]


class _Kernel:
    """A box and the kernel launched in it, shut down together."""

    def __init__(self, key: _Key, cell_timeout: float) -> None:
        self.key = key
        self.box: KernelBox = key.sandbox.box(key.support_files, key.preload)
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
    how many submissions will come, when known, so that no spare boots after the last."""

    def __init__(self, expected: int | None = None) -> None:
        self._spare: _Kernel | None = None
        self._remaining = expected
        self.launched = 0  # kernels launched, spares included (tests, the benchmark)
        self.reused = 0  # submissions that got a spare

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
        if spare is not None:
            spare.close()

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
        self.launched += 1
        return _Kernel(key, cell_timeout)


_active: KernelPool | None = None


def active_pool() -> KernelPool | None:
    return _active


@contextlib.contextmanager
def pooled(expected: int | None = None) -> Iterator[KernelPool]:
    """Use a pool for the kernels started in this process until the block ends."""
    global _active
    previous, _active = _active, KernelPool(expected)
    try:
        yield _active
    finally:
        pool, _active = _active, previous
        pool.close()


def activate() -> None:
    """Use a pool for the rest of this process's life (a batch's worker process)."""
    global _active
    if _active is None:
        _active = KernelPool()
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
