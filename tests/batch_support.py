"""Helpers for tests that run batches: an executor without kernels, what must not depend
on how a batch ran, a command-line run to interrupt, and the processes it leaves."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

from grader.batch.sources import Submission
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions, new_result
from grader.grading.results import SubmissionResult


class ScriptedExecutor:
    """Answers without kernels, in reverse order: a result per submission (its score the
    length of its id), then ``extra`` ids (a late duplicate, a stray id), or fewer with
    ``drop``; or ``stop`` raised after ``stop_after`` results. Records what it was given."""

    def __init__(
        self,
        extra: Sequence[str] = (),
        drop: int = 0,
        stop: BaseException | None = None,
        stop_after: int = 0,
    ) -> None:
        self.extra, self.drop = extra, drop
        self.stop, self.stop_after = stop, stop_after
        self.closed = False
        self.given: list[tuple[list[Submission], GradingOptions]] = []

    def grade(
        self, assignment: Assignment, submissions: Sequence[Submission], options: GradingOptions
    ) -> Generator[SubmissionResult, None, None]:
        self.given.append((list(submissions), options))
        try:
            keep = submissions[: len(submissions) - self.drop]
            for count, id in enumerate([s.id for s in reversed(keep)] + list(self.extra)):
                if self.stop is not None and count == self.stop_after:
                    raise self.stop
                result = new_result(assignment, options, id, f"{id}.ipynb", id)
                result.score = len(id)
                yield result
        finally:
            self.closed = True


def essentials(result: SubmissionResult) -> dict[str, Any]:
    """What must not depend on how a batch was run: everything but times and places."""
    return {
        "id": result.id,
        "status": result.status,
        "score": result.score,
        "checks": [(c.name, c.points, c.message) for c in result.checks],
        "cells": [(e.cell, e.kind, e.summary) for e in result.cells],
        "seed": result.seed,
    }


def nngrade(*args: str | Path, **env: str) -> subprocess.Popen[str]:
    """``nngrade grade ARGS`` with ``env`` added, started as from a shell: Ctrl-C (SIGINT)
    interrupts it even where this process ignores SIGINT (Python keeps an inherited
    SIG_IGN), as some process of the test run has been seen to."""
    command = [str(Path(sys.executable).with_name("nngrade")), "grade", *map(str, args)]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
        preexec_fn=_default_sigint,  # noqa: PLW1509 - only resets a signal, no locks taken
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stored(out: Path) -> int:
    try:
        with sqlite3.connect(out / "gradebook.sqlite") as db:
            return int(db.execute("SELECT COUNT(*) FROM results").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


# Copies of a notebook that hangs until the cell timeout: with them an interrupted batch
# still has seconds of work left, however fast the rest is graded and whichever come first.
HANGING_COPIES = {"infinite_loop_2": "infinite_loop", "infinite_loop_3": "infinite_loop"}


def copy_batch(notebooks: Path, names: list[str], folder: Path) -> list[str]:
    """Copy ``names`` and ``HANGING_COPIES`` from ``notebooks`` into ``folder``; their ids."""
    for name in names:
        shutil.copy(notebooks / f"{name}.ipynb", folder)
    for name, original in HANGING_COPIES.items():
        shutil.copy(notebooks / f"{original}.ipynb", folder / f"{name}.ipynb")
    return [*names, *HANGING_COPIES]


def interrupt_after(process: subprocess.Popen[str], out: Path, count: int, how: int) -> str:
    deadline = time.monotonic() + 120
    while stored(out) < count and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be interrupted"
    process.send_signal(how)
    try:
        stdout, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        # Something it started still holds its output open: fail this test alone, without
        # leaving a running process behind for a later test to trip over.
        process.kill()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        process.wait()
        raise AssertionError(
            f"60 s after {signal.Signals(how).name} a process the run started is still running"
        ) from None
    return stdout + stderr


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for a parent that is gone to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def descendants_of(pid: int) -> list[int]:
    """Processes (workers, kernels) whose chain of parents leads to ``pid``."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    found: list[int] = []
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found += frontier
    return found
