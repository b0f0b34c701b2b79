"""Marking tests' ground: a class of notebooks with written answers graded without kernels,
and ``nngrade mark`` started as a real server in a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from grader.batch.grade import grade_into
from grader.batch.sources import Submission
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions, new_result
from grader.grading.results import CheckResult, SubmissionResult
from tests.conftest import RELU

PROMPT = json.loads((RELU / "template.ipynb").read_text(encoding="utf-8"))["cells"][-2]["source"]
PROMPT_TEXT = "".join(PROMPT)
META = {"nngrade": {"answer": {"id": "relu_zero", "points": 2, "prompt": PROMPT_TEXT}}}
HOSTILE = (
    "<script>window.pwned = 1; alert('x')</script>\n\n"
    '<img src="nowhere.png" onerror="window.pwned = 2; alert(2)">\n\n'
    "[click](javascript:window.pwned=3) and ![x](data:text/html;base64,PHNjcmlwdD4=)"
)
ANSWERS = {
    "alice": "0에서는 미분이 없어서 0으로 정했습니다.",
    "bob": "음수면 gradient가 0이라 학습이 안 됩니다.",
    "carol": HOSTILE,
}


def notebook(answer: str | None, *, metadata: bool = True) -> dict[str, Any]:
    """A relu notebook whose last cell answers the written question (None: no answer cell)."""
    cells: list[dict[str, Any]] = [
        {"cell_type": "code", "metadata": {}, "source": "import numpy as np", "outputs": []},
        {"cell_type": "markdown", "metadata": {}, "source": PROMPT},
    ]
    if answer is not None:
        cells.append(
            {"cell_type": "markdown", "metadata": META if metadata else {}, "source": answer}
        )
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def write_class(folder: Path, answers: dict[str, str | None]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, answer in answers.items():
        (folder / f"{name}.ipynb").write_text(json.dumps(notebook(answer)), encoding="utf-8")
    return folder


AUTO_POINTS, AUTO_MAX = 3.0, 5.0


class AutoExecutor:
    """Grades without kernels: every submission 3 of 5 autograded points (two checks)."""

    def grade(
        self, assignment: Assignment, submissions: Sequence[Submission], options: GradingOptions
    ) -> Generator[SubmissionResult, None, None]:
        for s in submissions:
            result = new_result(assignment, options, s.id, s.name, str(s.path))
            result.checks = [
                CheckResult("test_relu", "relu", 3.0, 3.0, True),
                CheckResult("test_d_relu", "d_relu", 0.0, 2.0, False, message="wrong at 0"),
            ]
            result.score, result.max_score = AUTO_POINTS, AUTO_MAX
            yield result


def grade_class(folder: Path, out: Path, *, force: bool = False) -> list[SubmissionResult]:
    run = grade_into(
        Assignment.load(RELU), [folder], out, GradingOptions(), executor=AutoExecutor(), force=force
    )
    return run.results


@contextmanager
def marking_server(out: Path, *extra: str) -> Generator[tuple[str, subprocess.Popen[str]]]:
    """``nngrade mark OUT --no-browser`` in a subprocess; yields (its URL, the process)."""
    command = [str(Path(sys.executable).with_name("nngrade")), "mark", str(out), "--no-browser"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [*command, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+/\S+/", line)
        assert found, f"no address in {line!r}: {process.stderr.read() if process.stderr else ''}"
        url = found[0]
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "api/state", timeout=5) as response:
                    response.read()
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
