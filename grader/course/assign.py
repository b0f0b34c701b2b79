"""``nngrade assign``: the student template, made from the instructor's solution notebook.

In the solution's code cells, the lines from ``# BEGIN SOLUTION`` to ``# END SOLUTION``
(markers included) become one line at the marker's indentation that fails clearly when run,
``raise NotImplementedError("Write your code here: NAME")``, NAME being the function (or
method) around it; a code cell whose first line is ``# SOLUTION`` becomes that line alone. A
markdown cell whose first line is ``<!-- ANSWER id=ID points=N -->`` holds a model written
answer: the template gets ``YOUR ANSWER HERE`` instead, with the question in its metadata
(``{"nngrade": {"answer": {"id", "points", "prompt"}}}``, the prompt being the markdown cell
just above). Markdown is kept; outputs and execution counts are cleared; the notebook's
metadata is stamped as ``nngrade bundle`` stamps a template. The same solution and
assignment always give the same bytes, so a template in version control changes only when
its solution does.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4.rwbase import rejoin_lines

from grader.grading.assignment import Assignment
from grader.grading.discovery import METADATA_KEY, Stamp, student_version
from grader.grading.results import nngrade_version

__all__ = [
    "ANSWER_TEXT",
    "BEGIN",
    "CELL",
    "END",
    "AssignError",
    "has_markers",
    "make_template",
    "read_solution",
    "stub",
    "template_bytes",
]

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
CELL = "# SOLUTION"
ANSWER_TEXT = "YOUR ANSWER HERE"
_ANSWER = re.compile(r"^<!--\s*ANSWER\s+id=(?P<id>[\w.-]+)\s+points=(?P<points>[0-9.]+)\s*-->\s*$")
_DEFINITION = re.compile(r"^(?P<indent>\s*)(?:async\s+def|def|class)\s+(?P<name>\w+)")
# Cell metadata that records a run, not the cell: never copied into the template.
_RUN_METADATA = ("execution", "collapsed", "scrolled")


class AssignError(ValueError):
    """The solution notebook's markers are malformed (a usage error: exit code 2)."""


@dataclass(frozen=True)
class _Answer:
    id: str
    points: float | int


def stub(indent: str, name: str) -> str:
    """The line that stands for a solution in the template: it fails clearly when run."""
    return f'{indent}raise NotImplementedError("Write your code here: {name}")'


def has_markers(nb: NotebookNode) -> bool:
    """Whether the notebook marks any solution region, solution cell or written answer."""
    for cell in nb.cells:
        lines = cell.source.splitlines()
        if cell.cell_type == "code" and any(line.strip() in (BEGIN, CELL) for line in lines):
            return True
        if cell.cell_type == "markdown" and lines and _ANSWER.match(lines[0].strip()):
            return True
    return False


def make_template(solution: NotebookNode, assignment: Assignment | None) -> NotebookNode:
    """The template for ``solution`` (not modified), stamped for ``assignment`` when given."""
    nb = copy.deepcopy(solution)
    cells = []
    for position, cell in enumerate(nb.cells, start=1):
        for key in _RUN_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.source = _code(cell.source, position)
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown":
            answer = _answer(cell.source, position)
            if answer is not None:
                above = nb.cells[position - 2] if position > 1 else None
                prompt = _prompt(above, position - 1)
                cell = _answer_cell(cell, answer, prompt)
        cell.pop("attachments", None)  # a pasted image of the model answer stays behind
        cells.append(cell)
    nb.cells = cells
    # Widget state saved with the solution holds what its cells displayed.
    nb.metadata.pop("widgets", None)
    if assignment is not None:
        stamp = Stamp(
            assignment.name, student_version(assignment), nngrade_version(), assignment.requires
        )
        nb.metadata[METADATA_KEY] = dataclasses.asdict(stamp)
    else:
        nb.metadata.pop(METADATA_KEY, None)
    return nb


def template_bytes(solution_path: Path, assignment: Assignment | None) -> bytes:
    """The template's file content: the same solution and assignment give the same bytes."""
    solution = read_solution(solution_path)
    nb = make_template(solution, assignment)
    nbformat.validate(nb)
    # nbformat writes keys sorted with a fixed indent: nothing depends on time or order.
    return (nbformat.writes(nb) + "\n").encode("utf-8")


def read_solution(path: Path) -> NotebookNode:
    """The solution as written. nbformat.read would give cells without an id random ones;
    here they get ids from their positions, so that the template is reproducible."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AssignError(f"{path} cannot be read as a notebook: {exc}") from exc
    if not isinstance(data, dict) or data.get("nbformat") != 4:
        raise AssignError(f"{path} is not a notebook of format 4 (what Jupyter writes)")
    nb = rejoin_lines(nbformat.from_dict(data))  # sources may be stored as lists of lines
    if nb.get("nbformat_minor", 0) >= 5:
        for position, cell in enumerate(nb.cells, start=1):
            cell.setdefault("id", f"cell-{position}")
    return nb


def _code(source: str, position: int) -> str:
    lines = source.splitlines()
    if lines and lines[0].strip() == CELL:
        names = [m["name"] for line in lines if (m := _DEFINITION.match(line))]
        return stub("", names[0] if names else f"cell {position}")
    out: list[str] = []
    start: int | None = None
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker == BEGIN:
            if start is not None:
                raise AssignError(
                    f"cell {position}, line {number}: {BEGIN} inside another region "
                    f"(begun on line {start}); close it with {END} first"
                )
            start = number
            indent = line[: len(line) - len(line.lstrip())]
            out.append(stub(indent, _enclosing(lines[: number - 1], indent, position)))
        elif marker == END:
            if start is None:
                raise AssignError(f"cell {position}, line {number}: {END} without {BEGIN}")
            start = None
        elif marker == CELL:
            raise AssignError(
                f"cell {position}, line {number}: {CELL} marks a whole cell and must be its "
                f"first line; use {BEGIN} and {END} around part of a cell"
            )
        elif start is None:
            out.append(line)
    if start is not None:
        raise AssignError(f"cell {position}, line {start}: {BEGIN} without {END}")
    return "\n".join(out)


def _enclosing(before: list[str], indent: str, position: int) -> str:
    """The dotted name of the functions and classes around a region (``MyReLU.forward``)."""
    names: list[str] = []
    width = len(indent)
    for line in reversed(before):
        match = _DEFINITION.match(line)
        if match and len(match["indent"]) < width:
            names.append(match["name"])
            width = len(match["indent"])
    return ".".join(reversed(names)) or f"cell {position}"


def _answer(source: str, position: int) -> _Answer | None:
    first = source.splitlines()[0].strip() if source.strip() else ""
    if not first.startswith("<!--") or "ANSWER" not in first:
        return None
    match = _ANSWER.match(first)
    if match is None:
        raise AssignError(
            f"cell {position}: a written-answer marker must read "
            f"'<!-- ANSWER id=ID points=N -->', not {first!r}"
        )
    try:
        value = float(match["points"])
    except ValueError:
        raise AssignError(f"cell {position}: points={match['points']} is not a number") from None
    return _Answer(match["id"], int(value) if value.is_integer() else value)


def _prompt(above: NotebookNode | None, position: int) -> str:
    """The question of a written answer: the markdown cell above it, unless that is itself
    a model answer (which must never reach the template)."""
    if above is None or above.cell_type != "markdown":
        return ""
    return "" if _answer(above.source, position) is not None else str(above.source)


def _answer_cell(cell: NotebookNode, answer: _Answer, prompt: str) -> NotebookNode:
    fresh = nbformat.v4.new_markdown_cell(ANSWER_TEXT)
    if "id" in cell:  # the solution's id: reproducible, and unique as the solution's were
        fresh["id"] = cell["id"]
    else:
        fresh.pop("id", None)
    info = {"id": answer.id, "points": answer.points, "prompt": prompt}
    fresh.metadata = {**cell.metadata, METADATA_KEY: {"answer": info}}
    return fresh
