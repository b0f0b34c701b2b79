"""What a batch run prints while it works: a line per submission, and on a terminal a
status line kept at the bottom (done/total, problems, time left)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from grader.grading.results import SubmissionResult

__all__ = ["Progress"]


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream or sys.stdout
        self.interactive = self.stream.isatty()
        self.done = 0
        self.graded_now = 0  # not resumed: what the time estimate is based on
        self.problems = 0
        self._started = time.monotonic()

    def update(self, result: SubmissionResult, resumed: bool) -> None:
        self.done += 1
        self.graded_now += not resumed
        self.problems += result.status != "graded"
        line = f"[{self.done}/{self.total}] {result.id}: {_outcome(result)}"
        if resumed:
            line += " (stored earlier)"
        if self.interactive:
            # Clear the status line, print the result above it, draw the status again.
            self.stream.write(f"\r\x1b[K{line}\n{self.status()}")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def status(self) -> str:
        width = 24
        filled = round(width * self.done / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        text = f"[{bar}] {self.done}/{self.total}"
        if self.problems:
            text += f", {self.problems} not graded"
        left = self.seconds_left()
        if left is not None:
            text += f", about {_duration(left)} left"
        return text

    def seconds_left(self) -> float | None:
        if not self.graded_now or self.done >= self.total:
            return None
        rate = (time.monotonic() - self._started) / self.graded_now
        return rate * (self.total - self.done)

    def close(self) -> None:
        if self.interactive:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _outcome(result: SubmissionResult) -> str:
    if result.status == "graded":
        return f"{result.score:g}/{result.max_score:g} ({result.duration:.1f} s)"
    return f"{result.status}: {result.reason}"


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
