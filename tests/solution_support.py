"""Each assignment's solution notebook as a plain namespace, for in-process grading.

The solution's code cells run here, in the test process, except those that load the data
sets or train (they need files in the notebook's folder and take minutes): what is left
defines every function and class the checks call, exactly as the solution writes them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import nbformat

from grader.checks.notebook import InProcessTransport
from grader.grading.assignment import Assignment
from grader.grading.engine import run_checks
from grader.grading.results import CheckResult

ASSIGNMENTS = Path(__file__).resolve().parents[1] / "assignments"
# Cells that read data files or train for minutes; the checks bring their own data.
# (activations: the notebook's own 500 steps, "losses = train(x, y, w1, w2, ...)").
_SKIPPED = ("np.load(", "load_mnist(", "for epoch", "for i in range", "plt.", "= train(x, y, w1")


def solution_source(name: str) -> str:
    """The solution's code cells that define things, as one source text."""
    cells = nbformat.read(ASSIGNMENTS / name / "solution.ipynb", as_version=4).cells
    code = [c.source for c in cells if c.cell_type == "code"]
    return "\n\n".join(source for source in code if not any(s in source for s in _SKIPPED))


def solution_namespace(name: str, source: str | None = None) -> dict[str, Any]:
    """The namespace the solution (or ``source``, a variation of it) leaves behind."""
    folder = str(ASSIGNMENTS / name)
    if folder not in sys.path:  # layers imports common/ and dataset/ from its folder
        sys.path.insert(0, folder)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    text = solution_source(name) if source is None else source
    exec(compile(text, f"{name}/solution.ipynb", "exec"), namespace)  # noqa: S102 - our own code
    return namespace


def grade(
    name: str, namespace: dict[str, Any], *, seed: int = 5, include_hidden: bool = True
) -> dict[str, CheckResult]:
    """Every check of assignment ``name`` on ``namespace``, in process, by check name."""
    assignment = Assignment.load(ASSIGNMENTS / name)
    results = run_checks(
        assignment, InProcessTransport(namespace), seed=seed, include_hidden=include_hidden
    )
    return {r.name: r for r in results}
