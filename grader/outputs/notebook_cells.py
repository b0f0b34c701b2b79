"""The submitted notebook's code cells as the student sees them, for the student's report.

Results name cells by their 1-based position in the notebook, markdown included; Jupyter
and Colab number only code cells, by execution count ("In [7]"), or not at all. The report
reads the notebook again (it is next to the result when the report is written) to name a
cell by its execution count and first line, and to quote the student's own code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from grader.checks._i18n import gettext as _

__all__ = ["NotebookCell", "cell_label", "read_cells", "rewrite_cell_references"]


@dataclass(frozen=True)
class NotebookCell:
    position: int  # 1-based position in the notebook, markdown included (as results count)
    number: int  # 1-based among the code cells only
    execution_count: int | None  # as the student saved it
    source: str

    @property
    def head(self) -> str:
        first = next((line for line in self.source.splitlines() if line.strip()), "")
        return first.strip()[:70]

    @property
    def lines(self) -> list[str]:
        return self.source.splitlines()


def read_cells(path: str | Path) -> dict[int, NotebookCell]:
    """The notebook's code cells by position; empty when it cannot be read (moved, not JSON)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        raw_cells = data["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    cells: dict[int, NotebookCell] = {}
    if not isinstance(raw_cells, list):
        return cells
    number = 0
    for position, cell in enumerate(raw_cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        count = cell.get("execution_count")
        cells[position] = NotebookCell(
            position, number, count if isinstance(count, int) else None, str(source)
        )
    return cells


def cell_label(position: int, cells: dict[int, NotebookCell], head: str = "") -> str:
    """A cell named the way the student can find it: "cell [7]" (its execution count, as
    Jupyter shows it) or "code cell 4", with its first line; without the notebook, by its
    first line alone."""
    cell = cells.get(position)
    if cell is None:
        if head:
            return _("the cell that starts with `{head}`").format(head=head)
        return _("a cell of your notebook")
    if cell.execution_count:
        name = _("cell [{count}]").format(count=cell.execution_count)
    else:
        name = _("code cell {number}").format(number=cell.number)
    return f"{name} (`{cell.head}`)" if cell.head else name


_CELL_REFERENCE = re.compile(r"\b([Cc])ell (\d+)\b(?!\s*\])")
_CELLS_REFERENCE = re.compile(r"\bcells (\d+(?:(?:, | and )\d+)+)\b")


def rewrite_cell_references(text: str, cells: dict[int, NotebookCell]) -> str:
    """Messages say "cell 10, line 7" by position; say it the student's way instead."""
    if not cells:
        return text

    def one(match: re.Match[str]) -> str:
        position = int(match.group(2))
        if position not in cells:
            return match.group(0)
        label = cell_label(position, cells)
        return label[0].upper() + label[1:] if match.group(1) == "C" else label

    def several(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        if not all(n in cells for n in numbers):
            return match.group(0)
        names = [_short(cells[n]) for n in numbers]
        return "cells " + ", ".join(names[:-1]) + " and " + names[-1]

    return _CELL_REFERENCE.sub(one, _CELLS_REFERENCE.sub(several, text))


def _short(cell: NotebookCell) -> str:
    return f"[{cell.execution_count}]" if cell.execution_count else f"code cell {cell.number}"
