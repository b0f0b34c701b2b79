"""The instructor's own notebooks (solution, template), run in this process for ``validate``.

Grading a notebook in a kernel costs a kernel start and the notebook's imports each time;
validating runs the checks on 20 seeds, so ``validate`` runs the solution's cells once here,
in a plain namespace, and the checks against it through ``InProcessTransport``. This is for
the instructor's own code only, never a student's: nothing here is sandboxed. The cells are
prepared as grading prepares them (Colab and IPython habits neutralized, only the
definitions for ``execute = "definitions"``), in a scratch working folder holding the
support files, as a kernel's would.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.grading.assignment import Assignment
from grader.grading.definitions import keep_definitions
from grader.grading.neutralize import neutralize
from grader.grading.notebook_file import read_notebook
from grader.runner.cell_data import CodeCell

__all__ = ["Ran", "quiet", "run_in_process"]


@dataclass
class Ran:
    """The namespace a notebook's cells left behind, and the cells that raised."""

    namespace: dict[str, Any]
    errors: list[tuple[int, str]] = field(default_factory=list)  # (cell, "Error: message")


@contextmanager
def run_in_process(assignment: Assignment, notebook: Path) -> Iterator[Ran]:
    """Run the notebook's code cells in order in a fresh namespace; yield it while the
    working folder (and ``sys.path``) is the scratch folder the checks should see too. An
    exception in a cell is recorded and the next cell runs, as in a kernel."""
    cells = [
        CodeCell(position, neutralize(cell.source, position)[0])
        for position, cell in enumerate(read_notebook(notebook).cells, start=1)
        if cell.get("cell_type") == "code"
    ]
    if assignment.execute == "definitions":
        cells, _ = keep_definitions(cells)
    ran = Ran(_namespace())
    previous = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="nngrade-validate-") as scratch:
        work = Path(scratch)
        for support in assignment.support_files:
            if support.is_dir():
                shutil.copytree(support, work / support.name)
            else:
                shutil.copy2(support, work / support.name)
        sys.path.insert(0, scratch)  # support modules import by name, as in the kernel
        os.chdir(work)
        try:
            for cell in cells:
                _run_cell(cell, notebook.name, ran)
            yield ran
        finally:
            os.chdir(previous)
            sys.path.remove(scratch)


@contextmanager
def quiet() -> Iterator[None]:
    """What the notebook prints goes nowhere: validate's output is its findings."""
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        yield


def _namespace() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "__main__"}
    try:  # Jupyter's built-in display(); a notebook may call it
        from IPython.display import display

        namespace["display"] = display
    except ImportError:  # pragma: no cover - ipykernel brings IPython
        pass
    return namespace


def _run_cell(cell: CodeCell, name: str, ran: Ran) -> None:
    try:
        code = compile(cell.source, f"{name}, cell {cell.position}", "exec")
        with quiet():
            exec(code, ran.namespace)  # noqa: S102 - the instructor's own notebook
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - a cell's error is recorded
        ran.errors.append((cell.position, f"{type(exc).__name__}: {exc}"))
