"""``nngrade validate --expect FILE``: a course's own known notebooks and the scores they must
get, so that a change to the checks that moves one is seen before release.

The file is TOML; paths are relative to it::

    [notebooks."../../examples/activations/correct.ipynb"]
    score = 12.0
    failed = ["test_sigmoid_values"]   # optional: exactly these checks do not pass

Each notebook is graded as a submission is (in a kernel, every check, hidden ones too).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions, grade_notebook

__all__ = ["ExpectError", "Expected", "check_expected", "read_expected"]

# A fixed seed: a verdict never depends on it, and a rerun should say the same.
_SEED = 1
_TOLERANCE = 1e-6


class ExpectError(ValueError):
    """The expected-scores file is missing or malformed (a usage error, exit code 2)."""


@dataclass(frozen=True)
class Expected:
    notebook: Path
    label: str  # as the file writes it
    score: float
    failed: frozenset[str] | None  # None: not said


def read_expected(path: Path) -> list[Expected]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ExpectError(f"{path}: {exc}") from exc
    table = data.get("notebooks")
    if not isinstance(table, dict) or not table:
        raise ExpectError(f'{path}: expected [notebooks."PATH"] tables with a score each')
    found = []
    for label, entry in table.items():
        where = f'{path}: [notebooks."{label}"]'
        if not isinstance(entry, dict) or not isinstance(entry.get("score"), int | float):
            raise ExpectError(f"{where} needs score = NUMBER")
        failed = entry.get("failed")
        if failed is not None and not (
            isinstance(failed, list) and all(isinstance(name, str) for name in failed)
        ):
            raise ExpectError(f"{where}: failed must be a list of check names")
        notebook = (path.parent / label).resolve()
        if not notebook.is_file():
            raise ExpectError(f"{where}: {notebook} does not exist")
        names = frozenset(failed) if failed is not None else None
        found.append(Expected(notebook, label, float(entry["score"]), names))
    return found


def check_expected(
    assignment: Assignment,
    expected: list[Expected],
    options: GradingOptions | None = None,
    on_notebook: Callable[[Expected], None] | None = None,
) -> list[str]:
    """Grade each notebook; one line per difference from what the file expects."""
    options = options or GradingOptions(seed=_SEED)
    problems = []
    for entry in expected:
        if on_notebook is not None:
            on_notebook(entry)
        result = grade_notebook(assignment, entry.notebook, options)
        if result.status != "graded":
            problems.append(f"{entry.label} was not graded: {result.reason}")
            continue
        if abs(result.score - entry.score) > _TOLERANCE:
            problems.append(f"{entry.label} scored {result.score:g}; expected {entry.score:g}")
        if entry.failed is not None:
            failed = {check.name for check in result.checks if not check.passed}
            extra, missing = sorted(failed - entry.failed), sorted(entry.failed - failed)
            if extra:
                problems.append(f"{entry.label}: these checks also did not pass: {extra}")
            if missing:
                problems.append(f"{entry.label}: these checks passed, expected to fail: {missing}")
    return problems
