"""``nngrade new``: an assignment folder to start from, that passes ``nngrade validate`` once
``nngrade assign`` has made its template.

The example asks for ``sigmoid(z)`` in NumPy: a visible check on written-out values, a
hidden one against the scaffolded reference package on extreme inputs (not judged when the
visible values are already wrong), a solution notebook showing each marker of
``nngrade assign`` and a README for the author.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
from packaging.version import InvalidVersion, Version

from grader.grading.results import nngrade_version

__all__ = ["ScaffoldError", "new_assignment", "requires_running"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


class ScaffoldError(ValueError):
    """The name is not usable or its folder exists already (a usage error)."""


def requires_running() -> str:
    """``requires`` for the running nngrade's minor series ("nngrade>=0.3,<0.4")."""
    try:
        version = Version(nngrade_version())
    except InvalidVersion:  # a source tree never installed: any version
        return ""
    major, minor = version.major, version.minor
    return f"nngrade>={major}.{minor},<{major}.{minor + 1}"


def new_assignment(name: str, parent: Path) -> Path:
    """Write the folder ``parent/name``; return it."""
    if not _NAME.match(name):
        raise ScaffoldError(
            f"{name!r} is not a usable assignment name: use letters, digits, - and _, "
            "starting with a letter"
        )
    folder = parent / name
    if folder.exists():
        raise ScaffoldError(f"{folder} exists already; choose another name or --dir")
    module = name.replace("-", "_")
    package = f"{module}_reference"  # unique to this assignment: packages stay imported
    files = {
        "assignment.toml": _toml(name, package, module),
        f"test_{module}.py": _VISIBLE,
        f"hidden_{module}.py": _HIDDEN.replace("PACKAGE", package),
        f"{package}/__init__.py": _REFERENCE,
        "solution.ipynb": _solution(),
        "README.md": _README.replace("NAME", name).replace("MODULE", module),
    }
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def _toml(name: str, package: str, module: str) -> str:
    requires = requires_running()
    return f"""\
# The assignment's settings (docs/authoring.md#assignmenttoml).
name = {json.dumps(name)}
title = {json.dumps(name.replace("_", " ").capitalize())}
# The nngrade versions whose grader.checks these check files are written for: students
# run the visible checks with the nngrade they install from the bundle.
requires = {json.dumps(requires)}
# Visible checks: students get them to self-check, so they import only grader.checks and
# hold no solution (expected values written out as numbers, or properties).
checks = ["test_{module}.py"]
# Hidden checks: run only when grading; they may import the packages below.
hidden_checks = ["hidden_{module}.py"]
# Made by `nngrade assign solution.ipynb` from the solution; never edit it by hand.
template = "template.ipynb"
solution = "solution.ipynb"
# Files or folders copied, read-only, into the kernel's working folder (data, helpers).
support_files = []
# Python packages (folders with __init__.py, relative to this file) put on sys.path while
# the checks run: the reference solution the hidden checks import. Never handed to
# students. Name them after the assignment: one grading process keeps them imported.
packages = ["{package}"]
# "all" runs every cell; "definitions" skips what trains or downloads.
execute = "all"
# Partial credit: "once" charges a mistake that checks name as their cause (cause=...)
# in the first check that fails for it only; "every" in each.
charge_each_cause = "once"
"""


_VISIBLE = '''\
"""Visible checks: students run these to self-check. They import only grader.checks and
write expected values out as numbers (computed once with the reference)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import Notebook, expect_array

Z = np.array([-2.0, 0.0, 2.0])
SIGMOID_Z = np.array([0.11920292202211755, 0.5, 0.8807970779778823])


@pytest.mark.points(2)
def test_sigmoid_values(notebook: Notebook) -> None:
    """sigmoid(z) on a few values"""
    call = notebook.call("sigmoid", Z.copy())  # runs in the student's kernel
    expect_array(call.value, SIGMOID_Z, what=call.what, inputs={"z": Z})
'''

_HIDDEN = '''\
"""Hidden checks: run only when grading; they may import the reference package."""

from __future__ import annotations

import numpy as np
import pytest

import PACKAGE as reference
from grader.checks import CheckFailure, Notebook, NotJudged, expect_array

ORDINARY = np.array([-2.0, 0.0, 2.0])


@pytest.mark.points(1)
def test_sigmoid_extremes(notebook: Notebook, rng: np.random.Generator) -> None:
    """sigmoid(z) for large |z| (no overflow, no NaN)"""
    # A hidden check never fails again what a visible check failed: with wrong ordinary
    # values there is nothing new to judge here, and no point to give.
    ordinary = notebook.call("sigmoid", ORDINARY.copy())
    try:
        expect_array(ordinary.value, reference.sigmoid(ORDINARY), what=ordinary.what)
    except CheckFailure:
        raise NotJudged("sigmoid is already wrong on ordinary values: see its check") from None
    z = np.concatenate([rng.uniform(-800, -100, 3), rng.uniform(100, 800, 3)])
    call = notebook.call("sigmoid", z.copy())
    expect_array(call.value, reference.sigmoid(z), what=call.what, inputs={"z": z})
'''

_REFERENCE = '''\
"""The reference solution that the hidden checks import (never handed to students)."""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    # exp of a negative number only: no overflow for large |z|.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
'''


def _solution() -> str:
    cells = [
        nbformat.v4.new_markdown_cell(
            "# Sigmoid\n\nWrite `sigmoid(z)`, which works elementwise on a NumPy array and "
            "does not overflow for large `|z|`."
        ),
        nbformat.v4.new_code_cell("import numpy as np"),
        nbformat.v4.new_code_cell(
            "def sigmoid(z):\n"
            "    # BEGIN SOLUTION\n"
            "    e = np.exp(-np.abs(z))\n"
            "    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n"
            "    # END SOLUTION"
        ),
        nbformat.v4.new_markdown_cell("Plot or print a few values of your `sigmoid`."),
        nbformat.v4.new_code_cell(
            "# SOLUTION\nz = np.linspace(-5, 5, 11)\nprint(np.round(sigmoid(z), 3))"
        ),
        nbformat.v4.new_markdown_cell("**Question.** Why does `sigmoid` saturate for large `|z|`?"),
        nbformat.v4.new_markdown_cell(
            "<!-- ANSWER id=saturation points=1 -->\n"
            "For large |z|, exp(-|z|) is tiny, so the output is within rounding of 0 or 1 "
            "and its slope is nearly 0."
        ),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nb.metadata["language_info"] = {"name": "python"}
    for position, cell in enumerate(nb.cells, start=1):
        cell["id"] = f"cell-{position}"  # readable, and the same in every scaffold
    return nbformat.writes(nb) + "\n"


_README = """\
# NAME: notes for the author

Students never see this file (nngrade bundle writes their own README).

1. Write the solution in `solution.ipynb`. In code cells, put what students must write
   between `# BEGIN SOLUTION` and `# END SOLUTION`; a cell whose first line is
   `# SOLUTION` is replaced whole. A markdown cell whose first line is
   `<!-- ANSWER id=ID points=N -->` holds a model written answer; the cell above it is the
   question.
2. Write the checks: `test_MODULE.py` (visible: students self-check with it; import only
   `grader.checks`, write expected values out) and `hidden_MODULE.py` (hidden: may import
   the reference package named under `packages` in `assignment.toml`). Every check needs
   `@pytest.mark.points(n)`; on a parametrised check each case gets the n points.
   A hidden check must not fail a notebook again for what a visible check failed: raise
   `NotJudged` there (see `hidden_MODULE.py`).
3. Make the template: `nngrade assign solution.ipynb` (it writes `template.ipynb`, which
   you never edit by hand; run it again after changing the solution or the checks).
4. Validate: `nngrade validate .` grades the solution on 20 seeds (full marks on each), the
   template (no points), reads the visible checks' imports, prints the point table and
   builds the bundle. Add `--expect expected.toml` to pin the scores of your own known
   notebooks (see docs/tutorial.md).
5. Hand it out: `nngrade bundle . ../NAME-student`.
"""
